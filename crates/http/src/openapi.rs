//! The OpenAPI 3 document, generated from the handlers' annotations, served
//! at `/openapi.json`, with Swagger UI at `/docs` (its assets are vendored
//! into the binary: nothing is fetched at build or run time).

use crate::routes::*;
use crate::wire::ErrorBody;
use axum::Router;
use lapor_app::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
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

/// Every 4xx and 5xx answer is the error envelope: said once here rather
/// than on each of the handlers' error responses.
struct ErrorBodies;

impl Modify for ErrorBodies {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let schema = Ref::from_schema_name(<ErrorBody as utoipa::ToSchema>::name());
        for item in api.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if status.starts_with('4') || status.starts_with('5') {
                        response
                            .content
                            .entry("application/json".into())
                            .or_insert_with(|| {
                                ContentBuilder::new().schema(Some(schema.clone())).build()
                            });
                    }
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Lapor API", description = "Citizen reporting: reports, cases, SLA and notifications. \
        Every response is an envelope `{success, data, error, message, meta}`; errors are JSON with a 4xx status."),
    modifiers(&BearerAuth, &ErrorBodies),
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
        admin::list_audit,
    ),
    components(schemas(ErrorBody, photos::PhotoUpload)),
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
