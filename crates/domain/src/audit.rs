//! The audit trail: an append-only, hash-chained log of privileged actions.
//!
//! Each entry's hash is `SHA-256(previous hash || canonical bytes of the
//! entry)`, the first entry chaining from [`GENESIS`]. Sequence numbers are
//! gapless from 1. So editing an entry changes its hash (or no longer
//! matches the stored one), deleting or inserting one breaks the sequence or
//! the link to the previous hash, and reordering does both; [`verify`]
//! names the first entry where the chain breaks.
//!
//! Actors are always staff user ids: the log is about what officers,
//! supervisors and the city head did. Citizens never appear in it, so an
//! ANONYMOUS report cannot be linked to its reporter through the trail.

use crate::Timestamp;
use crate::ids::UserId;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The hash the first entry chains from (64 hex zeros).
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a staff member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// An officer or supervisor changed a case's status.
    StatusChanged,
    /// An officer or supervisor answered a case.
    Answered,
    /// A manager changed the default or a category's SLA.
    SlaChanged,
    /// The city head added or renamed an agency.
    AgencyChanged,
    /// The city head added or changed a category.
    CategoryChanged,
    /// The city head created an account.
    UserAdded,
    /// A staff member logged in (citizens' logins are not recorded).
    StaffLogin,
}

impl AuditAction {
    pub const ALL: [AuditAction; 7] = [
        AuditAction::StatusChanged,
        AuditAction::Answered,
        AuditAction::SlaChanged,
        AuditAction::AgencyChanged,
        AuditAction::CategoryChanged,
        AuditAction::UserAdded,
        AuditAction::StaffLogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::StatusChanged => "status_changed",
            AuditAction::Answered => "answered",
            AuditAction::SlaChanged => "sla_changed",
            AuditAction::AgencyChanged => "agency_changed",
            AuditAction::CategoryChanged => "category_changed",
            AuditAction::UserAdded => "user_added",
            AuditAction::StaffLogin => "staff_login",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action '{0}'")]
pub struct UnknownAction(pub String);

impl FromStr for AuditAction {
    type Err = UnknownAction;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// An entry before the store places it in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// Kept to the millisecond (what every engine stores).
    pub at: Timestamp,
    /// The staff member who acted.
    pub actor: UserId,
    pub action: AuditAction,
    /// What was acted on: a report id, a username, a category slug, ...
    pub target: Option<String>,
    /// Facts of the action (old and new status, seconds, ...); never a
    /// reporter's id.
    pub details: Value,
}

/// An entry in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: UserId,
    pub action: AuditAction,
    pub target: Option<String>,
    pub details: Value,
    /// Hex SHA-256 of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of `prev_hash` and this entry's canonical bytes.
    pub hash: String,
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

fn millis(t: Timestamp) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// JSON with object keys sorted at every level, so the bytes hashed do not
/// depend on how an engine or a JSON library orders keys.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The hash of an entry with sequence `seq` chained after `prev_hash`.
/// Each field is length-prefixed so no two different entries share bytes.
pub fn entry_hash(prev_hash: &str, seq: i64, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    field(prev_hash.as_bytes());
    field(&seq.to_be_bytes());
    field(&millis(e.at).to_be_bytes());
    field(e.actor.to_string().as_bytes());
    field(e.action.as_str().as_bytes());
    match &e.target {
        Some(t) => {
            field(b"1");
            field(t.as_bytes());
        }
        None => field(b"0"),
    }
    field(canonical_json(&e.details).as_bytes());
    hex::encode(h.finalize())
}

/// Places `new` after `head` (the last entry, `None` for an empty log).
pub fn link(head: Option<(i64, &str)>, new: NewAuditEntry) -> AuditEntry {
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash.to_owned()),
        None => (1, GENESIS.to_owned()),
    };
    let hash = entry_hash(&prev_hash, seq, &new);
    AuditEntry {
        seq,
        at: new.at,
        actor: new.actor,
        action: new.action,
        target: new.target,
        details: new.details,
        prev_hash,
        hash,
    }
}

/// Checks entries one at a time, in sequence order, so a long log can be
/// verified page by page.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: i64,
    prev_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }
}

impl Verifier {
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        let broken = |reason: String| ChainBreak { seq: e.seq, reason };
        if e.seq != self.next_seq {
            return Err(broken(format!(
                "expected seq {}, found {} (an entry was deleted, inserted or reordered)",
                self.next_seq, e.seq
            )));
        }
        if e.prev_hash != self.prev_hash {
            return Err(broken(
                "its previous hash is not the hash of the entry before it".into(),
            ));
        }
        let new = NewAuditEntry {
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target.clone(),
            details: e.details.clone(),
        };
        if entry_hash(&e.prev_hash, e.seq, &new) != e.hash {
            return Err(broken("its contents do not match its hash (edited)".into()));
        }
        self.next_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    /// How many entries were checked.
    pub fn checked(&self) -> i64 {
        self.next_seq - 1
    }
}

/// Checks a whole log, in sequence order.
pub fn verify(entries: &[AuditEntry]) -> Result<(), ChainBreak> {
    let mut v = Verifier::default();
    entries.iter().try_for_each(|e| v.check(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap()
    }

    fn entry(i: i64) -> NewAuditEntry {
        NewAuditEntry {
            at: at(1_700_000_000_000 + i),
            actor: UserId::new_v7(),
            action: AuditAction::StatusChanged,
            target: Some(format!("report-{i}")),
            details: json!({"to": "IN_PROGRESS", "from": "RECEIVED", "n": i}),
        }
    }

    /// Given a chain of `n` entries built with `link`.
    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| (e.seq, e.hash.as_str()));
            let e = link(head, entry(i));
            out.push(e);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        let log = chain(5);
        assert_eq!(log[0].prev_hash, GENESIS);
        assert_eq!(log[4].seq, 5);
        assert_eq!(verify(&log), Ok(()));
        assert_eq!(verify(&[]), Ok(()));
    }

    #[test]
    fn an_edited_field_is_detected_at_its_entry() {
        for edit in 0..5 {
            let mut log = chain(4);
            let e = &mut log[2];
            match edit {
                0 => e.target = Some("another".into()),
                1 => e.details = json!({"to": "RESOLVED"}),
                2 => e.actor = UserId::new_v7(),
                3 => e.action = AuditAction::Answered,
                _ => e.at = at(1),
            }
            let err = verify(&log).unwrap_err();
            assert_eq!(err.seq, 3, "edit {edit}: {err}");
        }
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let mut log = chain(4);
        log[1].target = None;
        let new = NewAuditEntry {
            at: log[1].at,
            actor: log[1].actor,
            action: log[1].action,
            target: None,
            details: log[1].details.clone(),
        };
        log[1].hash = entry_hash(&log[1].prev_hash, 2, &new);
        assert_eq!(verify(&log).unwrap_err().seq, 3);
    }

    #[test]
    fn a_deleted_entry_is_detected() {
        let mut log = chain(4);
        log.remove(1);
        assert_eq!(verify(&log).unwrap_err().seq, 3);
        // Deleting the first entry too.
        let mut log = chain(3);
        log.remove(0);
        assert_eq!(verify(&log).unwrap_err().seq, 2);
    }

    #[test]
    fn reordered_entries_are_detected() {
        let mut log = chain(4);
        log.swap(1, 2);
        assert_eq!(verify(&log).unwrap_err().seq, 3);
        // Swapping their sequence numbers back does not help: the links break.
        log[1].seq = 2;
        log[2].seq = 3;
        assert_eq!(verify(&log).unwrap_err().seq, 2);
    }

    #[test]
    fn an_inserted_entry_is_detected() {
        let mut log = chain(3);
        let forged = link(Some((log[0].seq, &log[0].hash)), entry(9));
        log.insert(1, forged);
        assert_eq!(verify(&log).unwrap_err().seq, 2);
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a = json!({"b": 1, "a": {"y": 2, "x": [1, {"q": 1, "p": 2}]}});
        let b: Value =
            serde_json::from_str(r#"{"a":{"x":[1,{"p":2,"q":1}],"y":2},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":[1,{"p":2,"q":1}],"y":2},"b":1}"#
        );
    }

    #[test]
    fn actions_round_trip_through_their_names() {
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(a));
        }
        assert!("dropped_table".parse::<AuditAction>().is_err());
    }
}
