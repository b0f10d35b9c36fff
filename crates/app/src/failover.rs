//! Queries over several read databases: the one that answered last is tried
//! first; when it is unreachable the next one answers. Each read database is
//! maintained by its own projector consumer group, so one that was down
//! catches up alone when it returns.

use crate::ports::{ReadStore, ReportFilter, StoreError, StoreResult};
use crate::views::{CategoryStats, Listing, ReportView, TimelineEntry};
use async_trait::async_trait;
use lapor_domain::catalog::CategorySlug;
use lapor_domain::ids::ReportId;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct FailoverRead {
    stores: Vec<Arc<dyn ReadStore>>,
    preferred: AtomicUsize,
}

impl FailoverRead {
    pub fn new(stores: Vec<Arc<dyn ReadStore>>) -> Self {
        assert!(!stores.is_empty(), "at least one read store");
        Self {
            stores,
            preferred: AtomicUsize::new(0),
        }
    }

    async fn with<T, F, Fut>(&self, f: F) -> StoreResult<T>
    where
        F: Fn(Arc<dyn ReadStore>) -> Fut,
        Fut: std::future::Future<Output = StoreResult<T>>,
    {
        let n = self.stores.len();
        let start = self.preferred.load(Ordering::Relaxed);
        let mut last = None;
        for i in 0..n {
            let idx = (start + i) % n;
            match f(self.stores[idx].clone()).await {
                Ok(v) => {
                    if idx != start {
                        tracing::warn!(read_store = idx, "read queries failed over");
                        self.preferred.store(idx, Ordering::Relaxed);
                    }
                    return Ok(v);
                }
                // Only outages fail over; a conflict or not-found is an answer.
                Err(e @ (StoreError::Unavailable(_) | StoreError::Other(_))) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| StoreError::Unavailable("no read store".into())))
    }
}

#[async_trait]
impl ReadStore for FailoverRead {
    async fn list_reports(&self, filter: &ReportFilter) -> StoreResult<Listing<ReportView>> {
        self.with(|s| async move { s.list_reports(filter).await })
            .await
    }
    async fn timelines(&self, ids: &[ReportId]) -> StoreResult<Vec<(ReportId, TimelineEntry)>> {
        self.with(|s| async move { s.timelines(ids).await }).await
    }
    async fn report(&self, id: ReportId, with_timeline: bool) -> StoreResult<Option<ReportView>> {
        self.with(|s| async move { s.report(id, with_timeline).await })
            .await
    }
    async fn statistics(&self, category: Option<&CategorySlug>) -> StoreResult<Vec<CategoryStats>> {
        self.with(|s| async move { s.statistics(category).await })
            .await
    }
    async fn count_reports(&self) -> StoreResult<i64> {
        self.with(|s| async move { s.count_reports().await }).await
    }
}
