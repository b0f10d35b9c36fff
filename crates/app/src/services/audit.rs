//! The audit trail: recording staff actions after they succeeded, the city
//! head's reading of the log, and verifying its hash chain.
//!
//! Only staff appear as actors: [`App::record`] skips anyone else, so a
//! citizen (and so the reporter of an ANONYMOUS report) never enters the
//! log, and callers put no reporter ids in the details.

use crate::error::AppError;
use crate::ports::{AuditFilter, AuditLog, StoreResult};
use crate::services::identity::require_admin;
use crate::state::App;
use lapor_domain::access::Principal;
use lapor_domain::audit::{AuditAction, AuditEntry, ChainBreak, NewAuditEntry, Verifier};
use serde_json::Value;

/// The most entries one listing returns.
pub const MAX_LIMIT: i64 = 500;
/// Entries read per page while verifying.
const VERIFY_PAGE: i64 = 1000;

impl App {
    /// Appends `by`'s action to the audit trail, if `by` is staff. Called
    /// after the action committed: a failure here is reported to the caller
    /// (the action stands, but nobody should believe it went unrecorded).
    pub async fn record(
        &self,
        by: &Principal,
        action: AuditAction,
        target: Option<String>,
        details: Value,
    ) -> Result<(), AppError> {
        if !by.role.is_staff() {
            return Ok(());
        }
        let entry = NewAuditEntry {
            at: self.now(),
            actor: by.user_id,
            action,
            target,
            details,
        };
        self.stores().audit.append(&entry).await?;
        Ok(())
    }

    /// The audit trail, newest first, for the city head only.
    pub async fn audit_log(
        &self,
        by: &Principal,
        mut filter: AuditFilter,
    ) -> Result<Vec<AuditEntry>, AppError> {
        require_admin(by)?;
        filter.limit = filter.limit.clamp(1, MAX_LIMIT);
        Ok(self.stores().audit.list(&filter).await?)
    }
}

/// Checks the whole chain in sequence order, page by page. `Ok(Ok(n))`: `n`
/// entries, all intact; `Ok(Err(break))`: the first broken entry.
pub async fn verify_log(log: &dyn AuditLog) -> StoreResult<Result<i64, ChainBreak>> {
    let mut verifier = Verifier::default();
    let mut after = 0;
    loop {
        let page = log.all_in_order(after, VERIFY_PAGE).await?;
        for e in &page {
            if let Err(b) = verifier.check(e) {
                return Ok(Err(b));
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == VERIFY_PAGE => after = last.seq,
            _ => return Ok(Ok(verifier.checked())),
        }
    }
}
