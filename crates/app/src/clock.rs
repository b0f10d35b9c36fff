//! "Now" as a dependency, so SLA behaviour is testable without sleeping.

use lapor_domain::Timestamp;
use std::sync::Mutex;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// Truncates to milliseconds: that is what every store keeps, so a value
/// read back equals the value written.
pub fn to_millis_precision(t: Timestamp) -> Timestamp {
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    Timestamp::from_unix_timestamp_nanos(ms * 1_000_000).expect("in range")
}

pub fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn millis(t: Timestamp) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        to_millis_precision(Timestamp::now_utc())
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(Mutex::new(to_millis_precision(start)))
    }
    pub fn advance(&self, by: time::Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
}
