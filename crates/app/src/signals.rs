//! In-process wake-ups: a command that appended to an outbox nudges the
//! relay, so events reach the read side in milliseconds instead of waiting
//! for the next poll. Polls remain as a safety net (and are what other
//! processes rely on).

use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Debug, Clone, Default)]
pub struct Signals {
    outbox: Arc<Notify>,
    sla: Arc<Notify>,
}

impl Signals {
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
