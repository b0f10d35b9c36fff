//! Notifications as the OpenAPI document describes them (the handlers in
//! `routes::notifications` write them from the app's views).

use lapor_app::views::NotificationView;
use lapor_domain::Timestamp;
use lapor_domain::ids::{NotificationId, ReportId};
use serde::Serialize;
use utoipa::ToSchema;

/// A notification to the caller: the seed's fields (`message` in English)
/// plus what it says as data, `kind` and `params`, for clients that render
/// it themselves.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    #[schema(value_type = String, format = Uuid)]
    pub id: NotificationId,
    #[schema(value_type = String, format = Uuid)]
    pub report_id: ReportId,
    /// `status`, `answer`, `escalated_reporter`, `escalated_staff`, or
    /// `legacy` (stored before notifications were typed).
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// The kind's parameters: `status` `{old_status, new_status, reason}`,
    /// `answer` `{message}`, `escalated_reporter` `{escalation_level}`,
    /// `escalated_staff` `{agency, escalation_level}`, `legacy` `{message}`.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// The notification in English.
    pub message: String,
    pub is_read: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<NotificationView> for Notification {
    fn from(n: NotificationView) -> Self {
        Self {
            id: n.id,
            report_id: n.report_id,
            kind: n.notice.kind(),
            params: n.notice.params(),
            message: crate::notices::english(&n.notice),
            is_read: n.is_read,
            created_at: n.created_at,
        }
    }
}

/// `GET /notifications/me`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NotificationList {
    success: bool,
    data: Vec<Notification>,
    meta: NotificationMeta,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NotificationMeta {
    unread_count: i64,
}

/// `POST /notifications/{id}/read` and `/notifications/read-all`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct MarkedRead {
    success: bool,
    /// How many notifications were marked read.
    updated: u64,
}
