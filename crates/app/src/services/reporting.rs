//! Reporting: citizens' commands on reports, and the visibility-aware
//! queries of the read side.

use crate::error::{AppError, ErrorCode};
use crate::ports::{FeedSort, Paging, ReportFilter, StoreError};
use crate::state::App;
use crate::views::{CategoryStats, Listing, ReportView, TimelineEntry};
use lapor_domain::access::{Principal, ReportAccess, can_view, listing_scope, may_see_reporter};
use lapor_domain::catalog::CategorySlug;
use lapor_domain::events::DomainEvent;
use lapor_domain::ids::ReportId;
use lapor_domain::lifecycle::Status;
use lapor_domain::report::{self, Report, ReportChanges, ReportDraft};

impl App {
    pub async fn create_report(
        &self,
        by: &Principal,
        draft: ReportDraft,
    ) -> Result<Report, AppError> {
        let now = self.now();
        let (report, created) =
            report::create(draft, by, &self.catalog(), ReportId::new_v7(), now)?;
        let event = DomainEvent::ReportCreated(created).into_envelope(now);
        self.stores()
            .reporting
            .insert_report(&report, &event)
            .await?;
        self.signals().outbox_appended();
        Ok(report)
    }

    pub(crate) async fn write_model(&self, id: ReportId) -> Result<Report, AppError> {
        let mut report = self
            .stores()
            .reporting
            .report(id)
            .await?
            .ok_or_else(report_not_found)?;
        // Operations decides the status; the reporting side learns of a
        // change only through the event flow. Without this, an edit made
        // just after an officer took the case was accepted (and a category
        // change moved a case in progress to another agency).
        if let Some(case) = self.stores().operations.case_state(id).await?
            && case.status != Status::Received
        {
            report.status = case.status;
        }
        Ok(report)
    }

    /// Only the owner edits; others learn nothing about the report beyond
    /// what they may already see.
    pub async fn edit_report(
        &self,
        by: &Principal,
        id: ReportId,
        changes: ReportChanges,
    ) -> Result<Report, AppError> {
        let current = self.write_model(id).await?;
        self.hide_unless_visible(by, &current)?;
        let now = self.now();
        let ev = report::edit(&current, changes, by, &self.catalog(), now)?;
        let mut next = current.clone();
        next.title = ev.title.clone();
        next.content = ev.content.clone();
        next.category = ev.category.clone();
        next.agency = ev.agency.clone();
        next.location = ev.location.clone();
        next.updated_at = now;
        let event = DomainEvent::ReportUpdated(ev).into_envelope(now);
        match self
            .stores()
            .reporting
            .update_report(&next, current.updated_at, &event)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(m)) => {
                return Err(AppError::conflict(ErrorCode::ConcurrentUpdate, m));
            }
            Err(e) => return Err(e.into()),
        }
        self.signals().outbox_appended();
        Ok(next)
    }

    pub async fn withdraw_report(&self, by: &Principal, id: ReportId) -> Result<(), AppError> {
        let current = self.write_model(id).await?;
        self.hide_unless_visible(by, &current)?;
        let now = self.now();
        let ev = report::withdraw(&current, by, now)?;
        let event = DomainEvent::ReportWithdrawn(ev).into_envelope(now);
        self.stores().reporting.withdraw_report(id, &event).await?;
        self.signals().outbox_appended();
        Ok(())
    }

    /// One vote per user; the store's unique key settles concurrent requests.
    pub async fn upvote(&self, by: &Principal, id: ReportId) -> Result<i64, AppError> {
        let current = self.write_model(id).await?;
        self.hide_unless_visible(by, &current)?;
        let now = self.now();
        report::upvote(&current, by, now)?;
        match self
            .stores()
            .reporting
            .add_vote(id, by.user_id, now, report::upvoted)
            .await?
        {
            Some(count) => {
                self.signals().outbox_appended();
                Ok(count)
            }
            None => Err(AppError::conflict(
                ErrorCode::AlreadyUpvoted,
                "you have already upvoted this report",
            )),
        }
    }

    /// A report the caller may not see is "not found" to them.
    pub(crate) fn hide_unless_visible(&self, by: &Principal, r: &Report) -> Result<(), AppError> {
        let access = ReportAccess {
            visibility: r.visibility,
            owner: &r.owner,
            agency: &r.agency,
        };
        if can_view(Some(by), access) {
            Ok(())
        } else {
            Err(report_not_found())
        }
    }

    // ------------------------------------------------------------ queries

    pub async fn list_reports(
        &self,
        by: Option<&Principal>,
        category: Option<&str>,
        status: Option<Status>,
        sort: FeedSort,
        paging: Paging,
        only_mine: bool,
    ) -> Result<Listing<ReportView>, AppError> {
        self.query_reports(by, category, status, None, sort, paging, only_mine)
            .await
    }

    /// The reports `by` may see, filtered by words in the title or text.
    pub async fn search_reports(
        &self,
        by: Option<&Principal>,
        category: Option<&str>,
        status: Option<Status>,
        search: Option<&str>,
        sort: FeedSort,
        paging: Paging,
    ) -> Result<Listing<ReportView>, AppError> {
        self.query_reports(by, category, status, search, sort, paging, false)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn query_reports(
        &self,
        by: Option<&Principal>,
        category: Option<&str>,
        status: Option<Status>,
        search: Option<&str>,
        sort: FeedSort,
        paging: Paging,
        only_mine: bool,
    ) -> Result<Listing<ReportView>, AppError> {
        let search = match search.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if s.len() > 200 => {
                return Err(AppError::invalid(
                    ErrorCode::TextTooLong,
                    "search text is limited to 200 characters",
                )
                .with("field", "search")
                .with("max", 200));
            }
            Some(s) => {
                lapor_domain::text::no_nul("search", s)?;
                Some(s.to_owned())
            }
            None => None,
        };
        let category = match category.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(CategorySlug::parse(c)?),
            None => None,
        };
        let only_owners = match (only_mine, by) {
            (true, Some(p)) => Some(p.owners()),
            (true, None) => {
                return Err(AppError::unauthorized(
                    ErrorCode::LoginRequired,
                    "log in to see your reports",
                ));
            }
            (false, _) => None,
        };
        let filter = ReportFilter {
            scope: listing_scope(by),
            only_owners,
            category,
            status,
            search,
            sort,
            paging,
        };
        let mut listing = self.stores().read.list_reports(&filter).await?;
        for r in &mut listing.items {
            redact(by, r);
        }
        Ok(listing)
    }

    /// PUBLIC only, newest first (or most upvoted): the seed's public feed.
    pub async fn public_reports(
        &self,
        category: Option<&str>,
        status: Option<Status>,
        sort: FeedSort,
        paging: Paging,
    ) -> Result<Listing<ReportView>, AppError> {
        self.list_reports(None, category, status, sort, paging, false)
            .await
    }

    pub async fn get_report(
        &self,
        by: Option<&Principal>,
        id: ReportId,
    ) -> Result<ReportView, AppError> {
        // Anonymous callers never see a timeline: do not read it for them.
        let mut r = self
            .stores()
            .read
            .report(id, by.is_some())
            .await?
            .ok_or_else(report_not_found)?;
        let owner = r.owner.clone().ok_or_else(report_not_found)?;
        let access = ReportAccess {
            visibility: r.visibility,
            owner: &owner,
            agency: &r.owner_agency,
        };
        if !can_view(by, access) {
            return Err(report_not_found());
        }
        // The timeline (answers, escalations) is for the reporter and staff.
        let involved = by.is_some_and(|p| p.owns(&owner) || p.works_cases_of(&r.owner_agency));
        if !involved {
            r.timeline = None;
        }
        redact(by, &mut r);
        Ok(r)
    }

    /// The timelines of those of these reports whose timeline `by` may see
    /// (the reporter's own, and staff's of their agency), in one read: for
    /// pages that list reports with their history.
    pub async fn timelines(
        &self,
        by: &Principal,
        reports: &[ReportView],
    ) -> Result<std::collections::HashMap<ReportId, Vec<TimelineEntry>>, AppError> {
        let ids: Vec<ReportId> = reports
            .iter()
            .filter(|r| {
                r.owner
                    .as_ref()
                    .is_some_and(|o| by.owns(o) || by.works_cases_of(&r.owner_agency))
            })
            .map(|r| r.id)
            .collect();
        let mut out: std::collections::HashMap<ReportId, Vec<TimelineEntry>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        if ids.is_empty() {
            return Ok(out);
        }
        for (id, entry) in self.stores().read.timelines(&ids).await? {
            if let Some(list) = out.get_mut(&id) {
                list.push(entry);
            }
        }
        Ok(out)
    }

    pub async fn statistics(&self, category: Option<&str>) -> Result<Vec<CategoryStats>, AppError> {
        let category = match category.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(CategorySlug::parse(c)?),
            None => None,
        };
        Ok(self.stores().read.statistics(category.as_ref()).await?)
    }
}

fn report_not_found() -> AppError {
    AppError::not_found(ErrorCode::ReportNotFound, "report not found")
}

/// Removes the reporter's identity unless the caller may see it.
fn redact(by: Option<&Principal>, r: &mut ReportView) {
    let show = match &r.owner {
        Some(owner) => may_see_reporter(
            by,
            ReportAccess {
                visibility: r.visibility,
                owner,
                agency: &r.owner_agency,
            },
        ),
        None => false,
    };
    if !show {
        r.reporter_user_id = None;
    }
}
