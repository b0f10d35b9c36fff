//! Operations: the officers' inbox and the case lifecycle. Only the
//! responsible agency's staff (and the city head) may see or act on a case.

use crate::error::{AppError, ErrorCode};
use crate::ports::{InboxFilter, InboxSort, Paging, StoreError};
use crate::state::App;
use crate::views::{CaseDetail, CaseView, Listing};
use lapor_domain::access::{Principal, Role, agency_scope};
use lapor_domain::audit::AuditAction;
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{CaseAnswered, DomainEvent, StatusUpdated};
use lapor_domain::ids::{AnswerId, ReportId};
use lapor_domain::lifecycle::{Status, transition};

/// What an inbox page shows. Paging: `Paging::Keyset` (a cursor from the
/// previous page's `next_cursor`; newest first only: with another sort and
/// no cursor it is taken as the first offset page) or `Paging::Offset`
/// (1-based page, with a `total`; any sort). Page sizes are capped at 100.
#[derive(Debug, Clone)]
pub struct InboxQuery {
    /// One agency's cases: the city head may pick any (none: every agency);
    /// staff may only name their own (none: their own).
    pub agency: Option<String>,
    pub status: Option<Status>,
    /// A category slug, case-insensitive.
    pub category: Option<String>,
    /// Only open cases past their SLA due time (by the application clock).
    pub overdue_only: bool,
    pub sort: InboxSort,
    pub paging: Paging,
}

impl Default for InboxQuery {
    /// The caller's own agency, newest first, the first 50.
    fn default() -> Self {
        Self {
            agency: None,
            status: None,
            category: None,
            overdue_only: false,
            sort: InboxSort::Newest,
            paging: Paging::Keyset {
                after: None,
                limit: 50,
            },
        }
    }
}

/// An inbox page: whose cases, and the cases (each with `due_at` and
/// `is_overdue`). `total` is set with offset paging, `next_cursor` with
/// keyset paging when there are more.
#[derive(Debug, Clone)]
pub struct InboxPage {
    /// The agency shown; `None` when the city head sees every agency.
    pub agency: Option<AgencyCode>,
    pub cases: Listing<CaseView>,
}

/// The outcome of a status change (seed 1's response fields).
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub report_id: ReportId,
    pub old_status: Status,
    pub new_status: Status,
}

fn page_size(n: i64) -> Result<i64, AppError> {
    if n < 1 {
        return Err(AppError::invalid(
            ErrorCode::PageSizeInvalid,
            "limit and per_page must be 1 or more",
        ));
    }
    Ok(n.min(100))
}

fn other_agency() -> AppError {
    AppError::forbidden(
        ErrorCode::OtherAgency,
        "this case belongs to another agency",
    )
}

fn require_staff(by: &Principal) -> Result<(), AppError> {
    if by.role == Role::Citizen {
        return Err(AppError::forbidden(
            ErrorCode::StaffOnly,
            "only agency staff can work cases",
        ));
    }
    Ok(())
}

impl App {
    /// The caller's agency's cases; the city head may pick an agency or see
    /// all.
    pub async fn inbox(&self, by: &Principal, q: &InboxQuery) -> Result<InboxPage, AppError> {
        require_staff(by)?;
        let requested = match q.agency.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(AgencyCode::parse(a)?),
            None => None,
        };
        let agency = agency_scope(by, requested)?;
        // As analytics does: an agency the catalog does not know is a
        // mistake, not an empty inbox.
        if let Some(a) = &agency
            && self.catalog().agency(a).is_none()
        {
            return Err(AppError::invalid(
                ErrorCode::AgencyUnknown,
                format!("unknown agency '{a}'"),
            )
            .with("agency", a));
        }
        let category = match q
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => Some(CategorySlug::parse(c)?),
            None => None,
        };
        let paging = match q.paging {
            Paging::Keyset { after, limit } => {
                if after.is_some() && q.sort != InboxSort::Newest {
                    return Err(AppError::invalid(
                        ErrorCode::CursorWithSort,
                        format!(
                            "sort={} pages with page/per_page, not cursor",
                            q.sort.as_str()
                        ),
                    )
                    .with("sort", q.sort.as_str()));
                }
                if q.sort != InboxSort::Newest {
                    // The other orders page by offset (with a total).
                    Paging::Offset {
                        page: 1,
                        per_page: page_size(limit)?,
                    }
                } else {
                    Paging::Keyset {
                        after,
                        limit: page_size(limit)?,
                    }
                }
            }
            Paging::Offset { page, per_page } => {
                if !(1..=1_000_000).contains(&page) {
                    return Err(AppError::invalid(
                        ErrorCode::PageOutOfRange,
                        "page must be between 1 and 1000000",
                    ));
                }
                Paging::Offset {
                    page,
                    per_page: page_size(per_page)?,
                }
            }
        };
        let now = self.now();
        let filter = InboxFilter {
            agency: agency.clone(),
            status: q.status,
            category,
            overdue_only: q.overdue_only,
            now,
            sort: q.sort,
            paging,
        };
        let mut cases = self.stores().operations.inbox(&filter).await?;
        cases.items = cases
            .items
            .into_iter()
            .map(|c| c.with_overdue(now))
            .collect();
        Ok(InboxPage { agency, cases })
    }

    pub async fn case_detail(&self, by: &Principal, id: ReportId) -> Result<CaseDetail, AppError> {
        require_staff(by)?;
        let detail = self
            .stores()
            .operations
            .case_detail(id)
            .await?
            .ok_or_else(|| AppError::not_found(ErrorCode::CaseNotFound, "case not found"))?;
        if !by.works_cases_of(&detail.case.owner_agency) {
            return Err(other_agency());
        }
        let mut detail = detail;
        detail.case = detail.case.with_overdue(self.now());
        Ok(detail)
    }

    /// The titles of those of these cases `by` may work (staff of the
    /// case's agency, or the city head); the others are left out.
    pub async fn case_titles(
        &self,
        by: &Principal,
        ids: &[ReportId],
    ) -> Result<std::collections::HashMap<ReportId, String>, AppError> {
        require_staff(by)?;
        if ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(self
            .stores()
            .operations
            .case_titles(ids)
            .await?
            .into_iter()
            .filter(|(_, agency, _)| by.works_cases_of(agency))
            .map(|(id, _, title)| (id, title))
            .collect())
    }

    async fn authorized_case(
        &self,
        by: &Principal,
        id: ReportId,
    ) -> Result<crate::ports::CaseState, AppError> {
        require_staff(by)?;
        let case = self
            .stores()
            .operations
            .case_state(id)
            .await?
            .ok_or_else(|| AppError::not_found(ErrorCode::CaseNotFound, "case not found"))?;
        if !by.works_cases_of(&case.agency) {
            return Err(other_agency());
        }
        if case.withdrawn {
            return Err(AppError::conflict(
                ErrorCode::ReportWithdrawn,
                "the reporter has withdrawn this report",
            ));
        }
        Ok(case)
    }

    pub async fn change_status(
        &self,
        by: &Principal,
        id: ReportId,
        to: Status,
        reason: Option<&str>,
    ) -> Result<StatusChange, AppError> {
        let case = self.authorized_case(by, id).await?;
        let reason = transition(case.status, to, reason)?;
        let now = self.now();
        let change = StatusUpdated {
            report_id: id,
            old_status: case.status,
            new_status: to,
            owner_agency: case.agency,
            reason,
            actor_user_id: by.user_id,
            changed_at: now,
        };
        let event = DomainEvent::StatusUpdated(change.clone()).into_envelope(now);
        match self
            .stores()
            .operations
            .change_status(&change, &event)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::conflict(
                    ErrorCode::ConcurrentUpdate,
                    "the case was changed by someone else; reload and try again",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.signals().outbox_appended();
        let mut details = serde_json::json!({"from": case.status.as_str(), "to": to.as_str()});
        if let Some(r) = &change.reason {
            details["reason"] = r.clone().into();
        }
        self.record(
            by,
            AuditAction::StatusChanged,
            Some(id.to_string()),
            details,
        )
        .await?;
        Ok(StatusChange {
            report_id: id,
            old_status: case.status,
            new_status: to,
        })
    }

    /// An officer's answer to the citizen.
    pub async fn answer_case(
        &self,
        by: &Principal,
        id: ReportId,
        message: &str,
    ) -> Result<CaseAnswered, AppError> {
        let case = self.authorized_case(by, id).await?;
        let message = lapor_domain::text::bounded("message", message, 2000)?;
        let now = self.now();
        let answered = CaseAnswered {
            report_id: id,
            answer_id: AnswerId::new_v7(),
            owner_agency: case.agency,
            officer_user_id: by.user_id,
            message,
            answered_at: now,
        };
        let event = DomainEvent::CaseAnswered(answered.clone()).into_envelope(now);
        self.stores()
            .operations
            .add_answer(&answered, &event)
            .await?;
        self.signals().outbox_appended();
        self.record(
            by,
            AuditAction::Answered,
            Some(id.to_string()),
            serde_json::json!({"answer_id": answered.answer_id.to_string()}),
        )
        .await?;
        Ok(answered)
    }
}
