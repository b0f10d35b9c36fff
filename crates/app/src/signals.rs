//! In-process wake-ups: a command that appended to an outbox nudges the
//! relay, so events reach the read side in milliseconds instead of waiting
//! for the next poll. Polls remain as a safety net (and are what other
//! processes rely on).

use std::sync::Arc;
use tokio::sync::{Notify, broadcast};

/// An event a consumer of this process has just applied: live views (the
/// web app's server-sent events) re-read what it may have changed. Carries
/// no personal data, only what routing needs.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The consumer group that applied it (`operations`, `workflow`, ...).
    pub group: Arc<str>,
    pub event_type: String,
    pub report_id: lapor_domain::ids::ReportId,
    /// The responsible agency, when the event names it.
    pub agency: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Signals {
    outbox: Arc<Notify>,
    sla: Arc<Notify>,
    applied: broadcast::Sender<Applied>,
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            outbox: Arc::default(),
            sla: Arc::default(),
            // Slow listeners skip ahead (they re-read state, so missing
            // individual events is harmless).
            applied: broadcast::channel(1024).0,
        }
    }
}

impl Signals {
    /// A consumer applied `events` (nobody listening is fine).
    pub fn applied(&self, group: &str, events: &[lapor_domain::events::EventEnvelope]) {
        if self.applied.receiver_count() == 0 {
            return;
        }
        let group: Arc<str> = Arc::from(group);
        for e in events {
            let agency = ["owner_agency", "agency"]
                .iter()
                .find_map(|k| e.payload.get(*k).and_then(|v| v.as_str()))
                .map(str::to_owned);
            let _ = self.applied.send(Applied {
                group: group.clone(),
                event_type: e.event_type.clone(),
                report_id: e.report_id,
                agency,
            });
        }
    }
    pub fn subscribe_applied(&self) -> broadcast::Receiver<Applied> {
        self.applied.subscribe()
    }
    /// An outbox has new rows.
    pub fn outbox_appended(&self) {
        self.outbox.notify_waiters();
        self.outbox.notify_one();
    }
    pub fn outbox(&self) -> &Notify {
        &self.outbox
    }
    /// SLA jobs or configuration changed: re-check due times now.
    pub fn sla_changed(&self) {
        self.sla.notify_one();
    }
    pub fn sla(&self) -> &Notify {
        &self.sla
    }
}
