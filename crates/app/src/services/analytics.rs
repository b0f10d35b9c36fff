//! Performance analytics for supervisors (their own agency) and the city head
//! (any agency, or all): the operations context's case facts, aggregated by
//! the pure `lapor_domain::analytics` (whose module doc defines every
//! figure). Staff are named through the identity store; reporters never
//! appear.

use crate::error::{AppError, ErrorCode};
use crate::state::App;
use crate::views::{
    AgencyPerformanceView, BacklogView, CaseStatsView, DayCountView, DurationStatsView,
    OfficerPerformanceView, PerformanceView,
};
use lapor_domain::Timestamp;
use lapor_domain::access::{Principal, Role, agency_scope};
use lapor_domain::analytics::{Backlog, CaseStats, Durations, summarize};
use lapor_domain::catalog::AgencyCode;
use lapor_domain::ids::UserId;
use std::collections::HashMap;
use time::Duration;

/// The longest period one request may cover.
pub const MAX_PERIOD_DAYS: i64 = 366;

impl From<&Durations> for DurationStatsView {
    fn from(d: &Durations) -> Self {
        Self {
            samples: d.samples,
            median_seconds: d.median_seconds,
            p90_seconds: d.p90_seconds,
        }
    }
}

impl From<&CaseStats> for CaseStatsView {
    fn from(s: &CaseStats) -> Self {
        Self {
            cases: s.cases,
            responded: s.responded,
            resolved: s.resolved,
            rejected: s.rejected,
            escalated: s.escalated,
            breach_rate: s.breach_rate(),
            first_response: (&s.first_response).into(),
            resolution: (&s.resolution).into(),
        }
    }
}

impl From<&Backlog> for BacklogView {
    fn from(b: &Backlog) -> Self {
        Self {
            open: b.total(),
            received: b.received,
            in_progress: b.in_progress,
        }
    }
}

impl App {
    /// Performance over `[from, to)` (at most [`MAX_PERIOD_DAYS`]) of
    /// `agency`, or of every agency (`None`, the city head only; for a
    /// supervisor `None` means their own). Officers and citizens get 403.
    pub async fn performance(
        &self,
        by: &Principal,
        agency: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<PerformanceView, AppError> {
        let requested = match agency.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => Some(AgencyCode::parse(a)?),
            None => None,
        };
        if !by.is_manager() {
            return Err(AppError::forbidden(
                ErrorCode::ManagersOnly,
                "only supervisors and the city head can see performance",
            ));
        }
        let agency = agency_scope(by, requested)?;
        if from >= to {
            return Err(AppError::invalid(
                ErrorCode::PeriodReversed,
                "from must be before to",
            ));
        }
        if to - from > Duration::days(MAX_PERIOD_DAYS) {
            return Err(AppError::invalid(
                ErrorCode::PeriodTooLong,
                format!("the period must be at most {MAX_PERIOD_DAYS} days"),
            )
            .with("max_days", MAX_PERIOD_DAYS));
        }
        let catalog = self.catalog();
        let agencies: Vec<AgencyCode> = match &agency {
            Some(a) if catalog.agency(a).is_none() => {
                return Err(AppError::invalid(
                    ErrorCode::AgencyUnknown,
                    format!("unknown agency '{a}'"),
                )
                .with("agency", a));
            }
            Some(a) => vec![a.clone()],
            None => catalog.agencies().map(|a| a.code.clone()).collect(),
        };
        let ops = &self.stores().operations;
        let (facts, open) = tokio::try_join!(
            ops.case_facts(agency.as_ref(), from, to),
            ops.open_cases(agency.as_ref()),
        )?;
        let perf = summarize(from, to, &agencies, &facts, &open);
        let names = self
            .staff_names(agency.as_ref(), perf.officers.iter().map(|o| o.user_id))
            .await?;
        let mut officers: Vec<OfficerPerformanceView> = perf
            .officers
            .iter()
            .map(|o| OfficerPerformanceView {
                user_id: o.user_id,
                username: names.get(&o.user_id).cloned(),
                agency: o.agency.clone(),
                open_in_progress: o.in_progress,
                stats: (&o.stats).into(),
            })
            .collect();
        officers.sort_by(|a, b| {
            (&a.agency, &a.username, a.user_id).cmp(&(&b.agency, &b.username, b.user_id))
        });
        Ok(PerformanceView {
            from,
            to,
            agency,
            overall: (&perf.overall).into(),
            backlog: (&perf.backlog).into(),
            agencies: perf
                .agencies
                .iter()
                .map(|a| AgencyPerformanceView {
                    agency: a.agency.clone(),
                    backlog: (&a.backlog).into(),
                    stats: (&a.stats).into(),
                })
                .collect(),
            officers,
            daily: perf
                .daily
                .iter()
                .map(|d| DayCountView {
                    date: d.date.to_string(),
                    created: d.created,
                    resolved: d.resolved,
                })
                .collect(),
        })
    }

    /// Usernames of the staff in `ids`: the agency's officers and
    /// supervisors and the city heads in three queries, anyone else (staff
    /// who acted before a case was routed elsewhere) one by one.
    async fn staff_names(
        &self,
        agency: Option<&AgencyCode>,
        ids: impl Iterator<Item = UserId>,
    ) -> Result<HashMap<UserId, String>, AppError> {
        let wanted: std::collections::HashSet<UserId> = ids.collect();
        let mut names = HashMap::new();
        if wanted.is_empty() {
            return Ok(names);
        }
        let identity = &self.stores().identity;
        for (role, agency) in [
            (Role::Officer, agency),
            (Role::Supervisor, agency),
            (Role::Admin, None),
        ] {
            for u in identity.users(Some(role), agency).await? {
                if wanted.contains(&u.id) {
                    names.insert(u.id, u.username);
                }
            }
        }
        for id in wanted {
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id)
                && let Some(u) = identity.user_by_id(id).await?
            {
                slot.insert(u.username);
            }
        }
        Ok(names)
    }
}
