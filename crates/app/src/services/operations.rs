//! Operations: the officers' inbox and the case lifecycle. Only the
//! responsible agency's staff (and the city head) may see or act on a case.

use crate::error::AppError;
use crate::ports::{Cursor, InboxFilter, StoreError};
use crate::state::App;
use crate::views::{CaseDetail, CaseView, Listing};
use lapor_domain::access::{Principal, Role};
use lapor_domain::catalog::{AgencyCode, CategorySlug};
use lapor_domain::events::{CaseAnswered, DomainEvent, StatusUpdated};
use lapor_domain::ids::{AnswerId, ReportId};
use lapor_domain::lifecycle::{Status, TransitionError, transition};

/// The outcome of a status change (seed 1's response fields).
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub report_id: ReportId,
    pub old_status: Status,
    pub new_status: Status,
}

fn require_staff(by: &Principal) -> Result<(), AppError> {
    if by.role == Role::Citizen {
        return Err(AppError::forbidden("only agency staff can work cases"));
    }
    Ok(())
}

impl App {
    /// The caller's agency's cases; the city head may pick an agency or see
    /// all.
    pub async fn inbox(
        &self,
        by: &Principal,
        agency: Option<&str>,
        status: Option<Status>,
        category: Option<&str>,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<(Option<AgencyCode>, Listing<CaseView>), AppError> {
        require_staff(by)?;
        let requested = match agency.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(AgencyCode::parse(a).map_err(AppError::invalid)?),
            None => None,
        };
        let agency = if by.role == Role::Admin {
            requested
        } else {
            let own = by
                .agency
                .clone()
                .ok_or_else(|| AppError::forbidden("your account belongs to no agency"))?;
            if requested.as_ref().is_some_and(|r| r != &own) {
                return Err(AppError::forbidden(
                    "you can only see your own agency's cases",
                ));
            }
            Some(own)
        };
        let category = match category.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(CategorySlug::parse(c).map_err(AppError::invalid)?),
            None => None,
        };
        let filter = InboxFilter {
            agency: agency.clone(),
            status,
            category,
            after,
            limit,
        };
        Ok((agency, self.stores().operations.inbox(&filter).await?))
    }

    pub async fn case_detail(&self, by: &Principal, id: ReportId) -> Result<CaseDetail, AppError> {
        require_staff(by)?;
        let detail = self
            .stores()
            .operations
            .case_detail(id)
            .await?
            .ok_or_else(|| AppError::not_found("case not found"))?;
        if !by.works_cases_of(&detail.case.owner_agency) {
            return Err(AppError::forbidden("this case belongs to another agency"));
        }
        Ok(detail)
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
            .ok_or_else(|| AppError::not_found("case not found"))?;
        if !by.works_cases_of(&case.agency) {
            return Err(AppError::forbidden("this case belongs to another agency"));
        }
        if case.withdrawn {
            return Err(AppError::conflict("the reporter has withdrawn this report"));
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
        let reason = transition(case.status, to, reason).map_err(|e| match e {
            TransitionError::ReasonRequired | TransitionError::ReasonTooLong => {
                AppError::invalid(e)
            }
            _ => AppError::conflict(e),
        })?;
        let now = self.now();
        let event = DomainEvent::StatusUpdated(StatusUpdated {
            report_id: id,
            old_status: case.status,
            new_status: to,
            owner_agency: case.agency,
            reason,
            actor_user_id: by.user_id,
            changed_at: now,
        })
        .into_envelope(now);
        match self
            .stores()
            .operations
            .change_status(id, case.status, &event)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::conflict(
                    "the case was changed by someone else; reload and try again",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.signals().outbox_appended();
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
        let message =
            lapor_domain::text::bounded("message", message, 2000).map_err(AppError::invalid)?;
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
        self.stores().operations.add_answer(&event).await?;
        self.signals().outbox_appended();
        Ok(answered)
    }
}
