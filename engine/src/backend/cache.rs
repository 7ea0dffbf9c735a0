//! One store read per (page, query), however many tabs: [`Cached`] wraps
//! the board's [`Reads`] with single flight and a short reuse window.
//!
//! Identical reads in flight at the same time share one call; a finished
//! answer is reused for [`read_cache_setting`] (`FF_BOARD_READ_CACHE_MS`,
//! default 1000 ms), so a hundred tabs that refetch on the same event cost
//! the store what one tab costs. Errors are shared by the callers that
//! waited on them but never reused afterwards. An action taken through the
//! board calls [`Reads::invalidate`], so its author sees its effect at once.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ff_core::types::{BudgetId, ExecutionId, FlowId};
use futures::future::{BoxFuture, FutureExt, Shared};

use super::search::Search;
use super::{ExecLine, ExecQuery, FlowLine, FlowQuery, LeaseLine, Page, ReadError, Reads, SuspendedLine};

/// Distinct queries kept at most; past it finished entries are dropped.
const MAX_KEYS: usize = 1024;

/// The reuse window: `FF_BOARD_READ_CACHE_MS` (0 turns reuse off; single
/// flight stays), else 1 s; read once.
pub fn read_cache_setting() -> Duration {
    static D: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *D.get_or_init(|| {
        std::env::var("FF_BOARD_READ_CACHE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(1))
    })
}

type Flight<V> = Shared<BoxFuture<'static, Result<V, Arc<ReadError>>>>;

/// In-flight and recent answers of one read, by query key.
struct Flights<V> {
    map: Mutex<HashMap<String, (Instant, Flight<V>)>>,
}

impl<V: Clone + Send + Sync + 'static> Flights<V> {
    fn new() -> Self {
        Flights { map: Mutex::new(HashMap::new()) }
    }

    async fn run(
        &self,
        key: String,
        ttl: Duration,
        load: impl FnOnce() -> BoxFuture<'static, Result<V, ReadError>>,
    ) -> Result<V, ReadError> {
        let flight = {
            let mut map = self.map.lock().expect("flights lock");
            let reusable = map.get(&key).filter(|(at, f)| match f.peek() {
                None => true,
                Some(Ok(_)) => at.elapsed() < ttl,
                Some(Err(_)) => false,
            });
            match reusable {
                Some((_, f)) => f.clone(),
                None => {
                    if map.len() >= MAX_KEYS {
                        map.retain(|_, (at, f)| f.peek().is_none() || at.elapsed() < ttl);
                        if map.len() >= MAX_KEYS {
                            map.retain(|_, (_, f)| f.peek().is_none());
                        }
                    }
                    let f = load().map(|r| r.map_err(Arc::new)).boxed().shared();
                    map.insert(key, (Instant::now(), f.clone()));
                    f
                }
            }
        };
        flight.await.map_err(ReadError::Shared)
    }

    fn clear(&self) {
        self.map.lock().expect("flights lock").retain(|_, (_, f)| f.peek().is_none());
    }
}

/// [`Reads`] with single flight and reuse (see the module doc).
pub struct Cached {
    inner: Arc<dyn Reads>,
    ttl: Duration,
    flows: Flights<Page<FlowLine>>,
    executions: Flights<Page<ExecLine>>,
    suspended: Flights<Page<SuspendedLine>>,
    members: Flights<Vec<ExecLine>>,
    leases: Flights<Vec<LeaseLine>>,
    budgets: Flights<Vec<BudgetId>>,
    gates: Flights<Vec<crate::gate::GateRows>>,
}

impl Cached {
    pub fn wrap(inner: Arc<dyn Reads>, ttl: Duration) -> Arc<dyn Reads> {
        Arc::new(Cached {
            inner,
            ttl,
            flows: Flights::new(),
            executions: Flights::new(),
            suspended: Flights::new(),
            members: Flights::new(),
            leases: Flights::new(),
            budgets: Flights::new(),
            gates: Flights::new(),
        })
    }
}

#[async_trait]
impl Reads for Cached {
    async fn flows(&self, q: &FlowQuery, after: Option<&str>, limit: usize) -> Result<Page<FlowLine>, ReadError> {
        let (inner, q2, a2) = (self.inner.clone(), q.clone(), after.map(str::to_owned));
        let key = format!("{q:?}|{after:?}|{limit}");
        self.flows.run(key, self.ttl, move || async move { inner.flows(&q2, a2.as_deref(), limit).await }.boxed()).await
    }
    async fn executions(&self, q: &ExecQuery, after: Option<&str>, limit: usize) -> Result<Page<ExecLine>, ReadError> {
        let (inner, q2, a2) = (self.inner.clone(), q.clone(), after.map(str::to_owned));
        let key = format!("{q:?}|{after:?}|{limit}");
        self.executions
            .run(key, self.ttl, move || async move { inner.executions(&q2, a2.as_deref(), limit).await }.boxed())
            .await
    }
    async fn suspended(&self, search: Option<&Search>, after: Option<&str>, limit: usize) -> Result<Page<SuspendedLine>, ReadError> {
        let (inner, s2, a2) = (self.inner.clone(), search.cloned(), after.map(str::to_owned));
        let key = format!("{:?}|{after:?}|{limit}", search.map(Search::text));
        self.suspended.run(key, self.ttl, move || async move { inner.suspended(s2.as_ref(), a2.as_deref(), limit).await }.boxed()).await
    }
    async fn flow_members(&self, flow: &FlowId, limit: usize) -> Result<Vec<ExecLine>, ReadError> {
        let (inner, f2) = (self.inner.clone(), flow.clone());
        let key = format!("{flow}|{limit}");
        self.members.run(key, self.ttl, move || async move { inner.flow_members(&f2, limit).await }.boxed()).await
    }
    async fn leases(&self, limit: usize) -> Result<Vec<LeaseLine>, ReadError> {
        let inner = self.inner.clone();
        self.leases.run(limit.to_string(), self.ttl, move || async move { inner.leases(limit).await }.boxed()).await
    }
    async fn budget_ids(&self) -> Result<Vec<BudgetId>, ReadError> {
        let inner = self.inner.clone();
        self.budgets.run(String::new(), self.ttl, move || async move { inner.budget_ids().await }.boxed()).await
    }
    async fn history(&self, id: &ExecutionId) -> Result<super::History, ReadError> {
        // One execution's page: not shared by many tabs, not kept.
        self.inner.history(id).await
    }
    async fn quotas(&self, now: i64) -> Result<Vec<super::QuotaLine>, ReadError> {
        // The quotas page alone reads these: nothing to share.
        self.inner.quotas(now).await
    }
    async fn stuck_counts(&self, families: &[ff_board_domain::BlockedFamily]) -> Result<Option<Vec<(ff_board_domain::BlockedFamily, u64)>>, ReadError> {
        self.inner.stuck_counts(families).await
    }
    async fn gates(&self, ids: &[ExecutionId]) -> Result<Vec<crate::gate::GateRows>, ReadError> {
        let (inner, ids2) = (self.inner.clone(), ids.to_vec());
        let key = ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(",");
        self.gates.run(key, self.ttl, move || async move { inner.gates(&ids2).await }.boxed()).await
    }
    fn invalidate(&self) {
        self.gates.clear();
        self.flows.clear();
        self.executions.clear();
        self.suspended.clear();
        self.members.clear();
        self.leases.clear();
        self.budgets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts loads; answers after a short sleep so callers overlap.
    struct Counting(AtomicUsize);

    #[async_trait]
    impl Reads for Counting {
        async fn flows(&self, _: &FlowQuery, _: Option<&str>, _: usize) -> Result<Page<FlowLine>, ReadError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(Page::new(vec![], None))
        }
        async fn executions(&self, _: &ExecQuery, _: Option<&str>, _: usize) -> Result<Page<ExecLine>, ReadError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(ReadError::BadCursor("x".into()))
        }
        async fn suspended(&self, _: Option<&Search>, _: Option<&str>, _: usize) -> Result<Page<SuspendedLine>, ReadError> {
            unreachable!()
        }
        async fn flow_members(&self, _: &FlowId, _: usize) -> Result<Vec<ExecLine>, ReadError> {
            unreachable!()
        }
        async fn leases(&self, _: usize) -> Result<Vec<LeaseLine>, ReadError> {
            unreachable!()
        }
        async fn budget_ids(&self) -> Result<Vec<BudgetId>, ReadError> {
            unreachable!()
        }
        async fn gates(&self, _: &[ExecutionId]) -> Result<Vec<crate::gate::GateRows>, ReadError> {
            unreachable!()
        }
        async fn history(&self, _: &ExecutionId) -> Result<crate::backend::History, ReadError> {
            unreachable!()
        }
        async fn quotas(&self, _: i64) -> Result<Vec<crate::backend::QuotaLine>, ReadError> {
            unreachable!()
        }
    }

    #[tokio::test]
    async fn concurrent_identical_reads_share_one_load_and_errors_are_not_kept() {
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let cached = Cached::wrap(counting.clone(), Duration::from_secs(60));
        let q = FlowQuery::default();
        let all = futures::future::join_all((0..100).map(|_| cached.flows(&q, None, 50))).await;
        assert!(all.iter().all(|r| r.is_ok()));
        assert_eq!(counting.0.load(Ordering::SeqCst), 1, "100 identical reads, one load");
        cached.flows(&q, Some("other"), 50).await.unwrap();
        assert_eq!(counting.0.load(Ordering::SeqCst), 2, "another query is another load");
        cached.invalidate();
        cached.flows(&q, None, 50).await.unwrap();
        assert_eq!(counting.0.load(Ordering::SeqCst), 3, "invalidate drops kept answers");
        assert!(cached.executions(&ExecQuery::default(), None, 5).await.is_err());
        assert!(cached.executions(&ExecQuery::default(), None, 5).await.is_err());
        assert_eq!(counting.0.load(Ordering::SeqCst), 5, "an error is not reused");
    }
}
