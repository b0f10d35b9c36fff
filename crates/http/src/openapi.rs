//! The OpenAPI 3 document, generated from the handlers' annotations, served
//! at `/openapi.json`, with Swagger UI at `/docs` (its assets are vendored
//! into the binary: nothing is fetched at build or run time).

use crate::routes::*;
use axum::Router;
use lapor_app::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Lapor API", description = "Citizen reporting: reports, cases, SLA and notifications. \
        Every response is an envelope `{success, data, error, message, meta}`; errors are JSON with a 4xx status."),
    modifiers(&BearerAuth),
    paths(
        health::get_health, health::get_ready,
        auth::post_login, auth::post_register, auth::get_me,
        reports::post_report, reports::list_reports, reports::list_my_reports, reports::list_public_reports,
        reports::get_report, reports::put_report, reports::delete_report, reports::post_upvote,
        reports::get_statistics, reports::list_categories,
        photos::post_photos, photos::get_photo, photos::get_photo_thumb,
        cases::get_inbox, cases::get_case, cases::patch_status, cases::post_answer,
        analytics::get_performance,
        notifications::list_notifications, notifications::post_read, notifications::post_read_all,
        sla::list_sla_status, sla::get_sla_config, sla::post_sla_config, sla::list_escalations,
        admin::list_users, admin::post_user, admin::post_agency, admin::post_category,
    ),
    components(schemas(
        lapor_app::views::ReportView, lapor_app::views::CaseView, lapor_app::views::CaseDetail,
        lapor_app::views::SlaView, lapor_app::views::NotificationView, lapor_app::views::CategoryStats,
        lapor_app::views::EscalationView, lapor_app::views::UserView, lapor_app::views::TimelineEntry,
        lapor_app::views::PerformanceView, lapor_app::views::AgencyPerformanceView,
        lapor_app::views::OfficerPerformanceView, lapor_app::views::CaseStatsView,
        lapor_app::views::DurationStatsView, lapor_app::views::BacklogView, lapor_app::views::DayCountView,
        lapor_app::views::PhotoRef, photos::PhotoUpload,
    )),
    tags(
        (name = "reports", description = "Citizens' reports (seed 1 reporting service, seed 2 command/query)"),
        (name = "cases", description = "Officers' cases (seed 1 operations service)"),
        (name = "analytics", description = "Performance of agencies and officers (supervisors, city head)"),
        (name = "sla", description = "SLA and escalation (seed 1 workflow service)"),
        (name = "notifications", description = "Notifications to users"),
        (name = "auth", description = "Accounts and tokens"),
        (name = "admin", description = "City head configuration"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

pub fn router() -> Router<App> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
