//! Live updates over server-sent events (`GET /app/live`). A browser keeps
//! one stream open per tab and is told
//! - `unread`: the user's unread notification count, whenever it changes;
//! - `inbox`: (staff) a case of their agency changed: the page re-reads its
//!   rows with its own filters.
//!
//! Changes are learnt from this process's consumers (instantly); a process
//! that runs no consumers (a scaled-out web/command instance) re-checks
//! every few seconds instead. Streams end when the server shuts down.

use crate::session::Ctx;
use crate::state::Web;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use lapor_domain::access::Role;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

/// How often a stream re-checks when no local consumer tells it anything.
const FALLBACK_POLL: Duration = Duration::from_secs(5);
/// Several changes within this window become one `inbox` event.
const COALESCE: Duration = Duration::from_millis(150);

pub async fn stream(State(web): State<Web>, ctx: Ctx) -> Response {
    let Some(user) = ctx.user.clone() else {
        return (StatusCode::UNAUTHORIZED, "log in first").into_response();
    };
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(16);
    let mut applied = web.app.signals().subscribe_applied();
    let roles = web.app.config().roles.clone();
    let local_consumers = roles
        .split(',')
        .any(|r| matches!(r.trim(), "all" | "operations" | "workflow"));
    let stop = web.stop.clone();
    tokio::spawn(async move {
        let mut last_unread = -1;
        let mut tick = tokio::time::interval(FALLBACK_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut inbox_changed = false;
            let mut recount = false;
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tx.closed() => return,
                _ = tick.tick() => {
                    recount = true;
                    inbox_changed = !local_consumers && user.role.is_staff();
                }
                msg = applied.recv() => match msg {
                    Ok(a) => {
                        let mut note = |a: &lapor_app::signals::Applied| {
                            if &*a.group == "workflow" {
                                recount = true;
                            }
                            if &*a.group == "operations" && concerns(&user, a.agency.as_deref()) {
                                inbox_changed = true;
                            }
                        };
                        note(&a);
                        // Coalesce a burst into one refresh.
                        tokio::time::sleep(COALESCE).await;
                        while let Ok(a) = applied.try_recv() {
                            note(&a);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        recount = true;
                        inbox_changed = user.role.is_staff();
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
            if recount
                && let Ok(n) = web.app.unread_count(&user).await
                && n != last_unread
            {
                last_unread = n;
                if tx
                    .send(Ok(Event::default().event("unread").data(n.to_string())))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if inbox_changed
                && tx
                    .send(Ok(Event::default().event("inbox").data("changed")))
                    .await
                    .is_err()
            {
                return;
            }
        }
    });
    let mut res = Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response();
    // Tell proxies (nginx) not to buffer the stream.
    res.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    res
}

/// Whether a change to a case of `agency` concerns this staff member.
fn concerns(user: &lapor_domain::access::Principal, agency: Option<&str>) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Officer | Role::Supervisor => match (agency, &user.agency) {
            (Some(a), Some(own)) => a == own.as_str(),
            _ => false,
        },
        Role::Citizen => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::access::Principal;
    use lapor_domain::catalog::AgencyCode;

    fn staff(role: Role, agency: Option<&str>) -> Principal {
        Principal {
            user_id: lapor_domain::ids::UserId::new_v7(),
            username: "x".into(),
            role,
            agency: agency.map(|a| AgencyCode::parse(a).unwrap()),
            owner_tag: None,
        }
    }

    #[test]
    fn officers_hear_only_their_agency() {
        let o = staff(Role::Officer, Some("AGENCY_INFRA"));
        assert!(concerns(&o, Some("AGENCY_INFRA")));
        assert!(!concerns(&o, Some("AGENCY_HEALTH")));
        assert!(!concerns(&o, None));
        assert!(concerns(&staff(Role::Admin, None), Some("AGENCY_HEALTH")));
        assert!(!concerns(&staff(Role::Citizen, None), Some("AGENCY_INFRA")));
    }
}
