//! Workflow: SLA status and configuration, escalations and notifications.

use crate::error::{AppError, ErrorCode};
use crate::ports::{NewNotification, SlaConfig, SlaFilter};
use crate::state::App;
use crate::views::{EscalationView, Listing, NotificationView, SlaView};
use lapor_domain::Timestamp;
use lapor_domain::access::{Owner, Principal, Role, listing_scope};
use lapor_domain::audit::AuditAction;
use lapor_domain::events::{DomainEvent, ReportEscalated};
use lapor_domain::ids::{NotificationId, ReportId};
use lapor_domain::notices::Notice;
use lapor_domain::sla::{self, EscalationTarget, SlaStatus};

impl App {
    /// SLA jobs, newest first, visible as their reports are (PUBLIC only
    /// without a token).
    pub async fn sla_status(
        &self,
        by: Option<&Principal>,
        report_id: Option<ReportId>,
        sla_status: Option<SlaStatus>,
        overdue_only: bool,
        page: i64,
        per_page: i64,
    ) -> Result<Listing<SlaView>, AppError> {
        let filter = SlaFilter {
            scope: listing_scope(by),
            report_id,
            sla_status,
            overdue_only,
            now: self.now(),
            page,
            per_page,
        };
        Ok(self.stores().workflow.sla_status(&filter).await?)
    }

    pub async fn sla_config(&self) -> Result<SlaConfig, AppError> {
        Ok(self.stores().workflow.sla_config().await?)
    }

    /// The city head sets the default and any category; a supervisor sets the
    /// categories routed to their agency.
    pub async fn set_sla(
        &self,
        by: &Principal,
        category: Option<&str>,
        seconds: i64,
    ) -> Result<SlaConfig, AppError> {
        if !by.is_manager() {
            return Err(AppError::forbidden(
                ErrorCode::ManagersOnly,
                "only supervisors and the city head may change the SLA",
            ));
        }
        let seconds = sla::validate_duration(seconds, self.config().min_sla_seconds)?;
        let category = match category.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => {
                let catalog = self.catalog();
                let (cat, _) = catalog.route(c)?;
                if by.role != Role::Admin && !by.is_staff_of(&cat.agency) {
                    return Err(AppError::forbidden(
                        ErrorCode::OtherAgency,
                        "a supervisor may only set the SLA of their agency's categories",
                    ));
                }
                Some(cat.slug.clone())
            }
            None if by.role == Role::Admin => None,
            None => {
                return Err(AppError::forbidden(
                    ErrorCode::DefaultSlaAdminOnly,
                    "only the city head may change the default SLA; name a category",
                ));
            }
        };
        self.stores()
            .workflow
            .set_sla_seconds(category.as_ref(), seconds)
            .await?;
        self.signals().sla_changed();
        self.record(
            by,
            AuditAction::SlaChanged,
            category.as_ref().map(|c| c.to_string()),
            serde_json::json!({"seconds": seconds}),
        )
        .await?;
        self.sla_config().await
    }

    /// The caller's unread notifications (the badge in the web app's header).
    pub async fn unread_count(&self, by: &Principal) -> Result<i64, AppError> {
        Ok(self
            .stores()
            .workflow
            .notifications(&by.owners(), true, 0)
            .await?
            .1)
    }

    pub async fn my_notifications(
        &self,
        by: &Principal,
        unread_only: bool,
        limit: i64,
    ) -> Result<(Vec<NotificationView>, i64), AppError> {
        Ok(self
            .stores()
            .workflow
            .notifications(&by.owners(), unread_only, limit)
            .await?)
    }

    pub async fn mark_notifications_read(
        &self,
        by: &Principal,
        id: Option<NotificationId>,
    ) -> Result<u64, AppError> {
        let n = self.stores().workflow.mark_read(&by.owners(), id).await?;
        if id.is_some() && n == 0 {
            // Unknown, someone else's, or already read: only the first is an error.
            let (all, _) = self
                .stores()
                .workflow
                .notifications(&by.owners(), false, 1000)
                .await?;
            if !all.iter().any(|x| Some(x.id) == id) {
                return Err(AppError::not_found(
                    ErrorCode::NotificationNotFound,
                    "notification not found",
                ));
            }
        }
        Ok(n)
    }

    pub async fn escalations(
        &self,
        by: &Principal,
        limit: i64,
    ) -> Result<Vec<EscalationView>, AppError> {
        match by.role {
            Role::Admin => Ok(self.stores().workflow.escalations(None, limit).await?),
            Role::Supervisor | Role::Officer => Ok(self
                .stores()
                .workflow
                .escalations(by.agency.as_ref(), limit)
                .await?),
            Role::Citizen => Err(AppError::forbidden(
                ErrorCode::StaffOnly,
                "only staff can see escalations",
            )),
        }
    }

    /// Escalates every job due at `now`; safe to run on several workers at
    /// once (each escalation is conditional on the level it read).
    pub async fn run_escalations(&self, now: Timestamp) -> Result<usize, AppError> {
        let workflow = &self.stores().workflow;
        let config = workflow.sla_config().await?;
        let due = workflow.due_jobs(now, 200).await?;
        let mut done = 0;
        for d in due {
            let period = config.seconds_for(&d.category);
            let Some(esc) = sla::escalation_due(&d.job, now, period) else {
                continue;
            };
            let mut job = d.job.clone();
            sla::apply_escalation(&mut job, &esc);
            let escalated = ReportEscalated {
                report_id: d.report_id,
                reason: "SLA_BREACH".into(),
                escalation_level: esc.level,
                owner_agency: job.agency.clone(),
                escalated_at: now,
            };
            let mut notes = vec![NewNotification {
                id: NotificationId::new_v7(),
                recipient: d.owner.clone(),
                report_id: d.report_id,
                notice: Notice::escalated_to_reporter(&escalated),
                created_at: now,
            }];
            let targets = match &esc.target {
                EscalationTarget::AgencySupervisor(a) => {
                    self.stores()
                        .identity
                        .users(Some(Role::Supervisor), Some(a))
                        .await?
                }
                EscalationTarget::CityHead => {
                    self.stores()
                        .identity
                        .users(Some(Role::Admin), None)
                        .await?
                }
            };
            for t in targets {
                notes.push(NewNotification {
                    id: NotificationId::new_v7(),
                    recipient: Owner::User(t.id),
                    report_id: d.report_id,
                    notice: Notice::escalated_to_staff(&escalated),
                    created_at: now,
                });
            }
            let event = DomainEvent::ReportEscalated(escalated).into_envelope(now);
            if workflow
                .escalate(d.report_id, d.job.escalation_level, &job, &notes, &event)
                .await?
            {
                done += 1;
            }
        }
        if done > 0 {
            self.signals().outbox_appended();
        }
        Ok(done)
    }
}
