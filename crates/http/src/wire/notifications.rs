//! Notifications as the OpenAPI document describes them (the handlers in
//! `routes::notifications` write them from the app's views).

use serde::Serialize;
use utoipa::ToSchema;

/// A notification to the caller.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Notification {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    report_id: String,
    /// `status`, `answer` or `escalation`.
    kind: String,
    message: String,
    is_read: bool,
    #[schema(format = DateTime)]
    created_at: String,
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
