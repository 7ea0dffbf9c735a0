//! Repair tools for admins (`/repair`): the engine's maintenance passes,
//! each counted before it runs and run in bounded steps.
//!
//! | tool | engine call | count first | backends (0.15) |
//! |---|---|---|---|
//! | trim retention | `trim_retention` per partition, batches of [`TRIM_BATCH`] | terminal executions of the lane past the cutoff (Valkey: `ZCOUNT` of each partition's `lane:<lane>:terminal`, one pipeline; Postgres: one `count(*)`) | Valkey, Postgres |
//! | check the execution index | `reconcile_execution_index` per partition | is the count: 0.15's reconciler reports drift and fixes nothing (RFC-010 §6.14 "phase 1 is log-only") | Valkey |
//! | reconcile budget counters | `reconcile_budget_counters` per budget partition | none in 0.15 (the pass counts as it fixes) | Valkey |
//! | reconcile quota counters | `reconcile_quota_counters` per quota partition | none in 0.15 | Valkey |
//! | rotate the waitpoint HMAC secret | `rotate_waitpoint_hmac_secret_all` (a fresh 32-byte secret made here, never shown; the outgoing one honoured for [`HMAC_GRACE_MS`]) | the partitions it rotates | all three |
//!
//! | bulk action over the threshold | one audited action per execution, run by the board's action pipeline (`ff_board_app::api::bulk`), not here | the executions its preview listed | all |
//!
//! Every run stops at its deadline between two engine calls and says how
//! far it got ([`Progress`]); running it again goes on (each pass is
//! idempotent). The SQL backends keep no indexes or counters that drift
//! (their scheduler reads live predicates), so the reconcilers are
//! Valkey's only; SQLite does not trim retention.
use std::time::{Duration, Instant};

use ff_core::backend::ScannerFilter;
use ff_core::contracts::RotateWaitpointHmacSecretAllArgs;
use ff_core::engine_error::EngineError;
use ff_core::partition::{Partition, PartitionFamily};
use ff_core::types::{LaneId, TimestampMs};
use serde::{Deserialize, Serialize};

use ff_board_domain::{ExecAction, ExecState};

use crate::connect::{BackendKind, Connected};

/// Executions one `trim_retention` call purges at most.
pub const TRIM_BATCH: u32 = 100;
/// How long a run goes before it stops and reports (between engine calls).
pub const RUN_DEADLINE: Duration = Duration::from_secs(20);
/// How long tokens signed with the outgoing HMAC secret stay valid.
pub const HMAC_GRACE_MS: u64 = 24 * 3_600_000;
/// Longest lane name a tool takes.
pub const MAX_LANE: usize = 128;
/// Longest retention a trim takes (a year), in hours.
pub const MAX_RETENTION_HOURS: u64 = 24 * 366;

/// A repair tool with its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tool {
    /// Delete the lane's terminal executions finished more than `hours` ago.
    TrimRetention { lane: String, hours: u64 },
    /// Count executions missing from (or misfiled in) the lane's scheduling index.
    CheckIndex { lane: String },
    ReconcileBudgets,
    ReconcileQuotas,
    RotateHmac,
    /// A bulk action over more executions than one person may run alone
    /// (the two-person threshold): exactly the executions its preview listed.
    Bulk(BulkRun),
}

/// A bulk action kept for a second person: the action, the state its
/// executions were in, the query that chose them, and exactly those ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRun {
    pub action: ExecAction,
    pub state: ExecState,
    pub query: String,
    pub ids: Vec<String>,
}

impl Tool {
    /// Its stable name (forms, audit).
    pub fn key(&self) -> &'static str {
        match self {
            Tool::TrimRetention { .. } => "trim_retention",
            Tool::CheckIndex { .. } => "check_index",
            Tool::ReconcileBudgets => "reconcile_budgets",
            Tool::ReconcileQuotas => "reconcile_quotas",
            Tool::RotateHmac => "rotate_hmac",
            Tool::Bulk(_) => "bulk",
        }
    }

    /// The tool named `key` with its parameters, or why not.
    pub fn parse(key: &str, lane: &str, hours: Option<u64>) -> Result<Tool, String> {
        let lane = lane.trim();
        let lane_ok = || {
            if lane.is_empty() || lane.len() > MAX_LANE || lane.chars().any(char::is_control) {
                Err(format!("a lane is 1 to {MAX_LANE} printable characters"))
            } else {
                Ok(lane.to_owned())
            }
        };
        match key {
            "trim_retention" => {
                let hours = hours.ok_or("trim retention needs a retention in hours")?;
                if hours == 0 || hours > MAX_RETENTION_HOURS {
                    return Err(format!("a retention is 1 to {MAX_RETENTION_HOURS} hours"));
                }
                Ok(Tool::TrimRetention { lane: lane_ok()?, hours })
            }
            "check_index" => Ok(Tool::CheckIndex { lane: lane_ok()? }),
            "reconcile_budgets" => Ok(Tool::ReconcileBudgets),
            "reconcile_quotas" => Ok(Tool::ReconcileQuotas),
            "rotate_hmac" => Ok(Tool::RotateHmac),
            other => Err(format!(
                "no repair tool {:?}: trim_retention, check_index, reconcile_budgets, reconcile_quotas or rotate_hmac",
                other.chars().take(32).collect::<String>()
            )),
        }
    }

    /// In words, with its parameters.
    pub fn describe(&self) -> String {
        match self {
            Tool::TrimRetention { lane, hours } => format!("trim retention: delete lane {lane}'s executions finished more than {hours} h ago"),
            Tool::CheckIndex { lane } => format!("check the execution index of lane {lane}"),
            Tool::ReconcileBudgets => "reconcile budget counters".into(),
            Tool::ReconcileQuotas => "reconcile quota counters".into(),
            Tool::RotateHmac => "rotate the waitpoint HMAC secret".into(),
            Tool::Bulk(b) => {
                let of = if b.query.is_empty() { String::new() } else { format!(" matching {}", b.query) };
                let n = b.ids.len();
                format!("{} {n} {} execution{}{of}", b.action.verb().to_lowercase(), b.state.as_str(), if n == 1 { "" } else { "s" })
            }
        }
    }

    /// Why this backend cannot run it (`None`: it can).
    pub fn unsupported(&self, c: &Connected) -> Option<String> {
        let valkey = c.kind == BackendKind::Valkey;
        match self {
            Tool::TrimRetention { .. } if c.kind == BackendKind::Sqlite => Some("trim_retention is not supported by SQLite in FlowFabric 0.15".into()),
            Tool::CheckIndex { .. } | Tool::ReconcileBudgets | Tool::ReconcileQuotas if !valkey => {
                Some("the SQL backends keep no index or counter that drifts: nothing to reconcile (FlowFabric 0.15 offers these on Valkey only)".into())
            }
            Tool::RotateHmac if !c.backend.capabilities().supports.rotate_waitpoint_hmac_secret_all => Some("rotate_waitpoint_hmac_secret_all is not supported by this backend".into()),
            _ => None,
        }
    }
}

/// How far a count or a run got.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Items counted (a count) or fixed (a run).
    pub count: u64,
    /// Items the engine could not process.
    pub errors: u64,
    /// Partitions (or steps) done, of how many.
    pub done: u32,
    pub of: u32,
    /// The partitions with something to count, with their counts (at most
    /// [`MAX_LISTED`]).
    pub by_partition: Vec<(u16, u64)>,
}

/// Partitions listed by count in a [`Progress`].
pub const MAX_LISTED: usize = 16;

impl Progress {
    /// It stopped before the end (its deadline).
    pub fn cut(&self) -> bool {
        self.done < self.of
    }

    fn add(&mut self, partition: u16, n: u64) {
        self.count += n;
        if n > 0 && self.by_partition.len() < MAX_LISTED {
            self.by_partition.push((partition, n));
        }
    }

    /// In words.
    pub fn describe(&self, what: &str) -> String {
        let mut s = format!("{} {what}", self.count);
        if self.errors > 0 {
            s.push_str(&format!(", {} errors", self.errors));
        }
        if self.cut() {
            s.push_str(&format!(" (stopped at its deadline after {} of {} steps: run it again to go on)", self.done, self.of));
        }
        s
    }
}

fn exec_partition(index: u16) -> Partition {
    Partition { family: PartitionFamily::Flow, index }
}

fn cutoff(hours: u64, now: i64) -> i64 {
    now - (hours * 3_600_000) as i64
}

/// What `tool` would do, counted without changing anything; `None` where
/// 0.15 gives no way to count first (the budget and quota reconcilers).
pub async fn count(c: &Connected, tool: &Tool, now: i64) -> Result<Option<Progress>, EngineError> {
    let parts = c.partitions.num_flow_partitions;
    match tool {
        Tool::TrimRetention { lane, hours } => Ok(Some(trim_count(c, lane, cutoff(*hours, now)).await?)),
        Tool::CheckIndex { lane } => {
            let lanes = [LaneId::new(lane)];
            let mut p = Progress { of: u32::from(parts), ..Default::default() };
            let started = Instant::now();
            for index in 0..parts {
                if started.elapsed() > RUN_DEADLINE {
                    break;
                }
                let r = c.backend.reconcile_execution_index(exec_partition(index), &lanes, &ScannerFilter::default()).await?;
                p.add(index, u64::from(r.processed));
                p.errors += u64::from(r.errors);
                p.done += 1;
            }
            Ok(Some(p))
        }
        Tool::ReconcileBudgets | Tool::ReconcileQuotas => Ok(None),
        Tool::Bulk(b) => {
            let n = b.ids.len() as u64;
            Ok(Some(Progress { count: n, done: 1, of: 1, ..Default::default() }))
        }
        Tool::RotateHmac => {
            let n = if c.kind == BackendKind::Valkey { u32::from(parts) } else { 1 };
            Ok(Some(Progress { count: u64::from(n), done: n, of: n, ..Default::default() }))
        }
    }
}

/// The lane's terminal executions finished before `cutoff` (what
/// `trim_retention` takes with the default retention policy), read by the
/// board's side store (`SideStore::terminal_before`).
async fn trim_count(c: &Connected, lane: &str, cutoff: i64) -> Result<Progress, EngineError> {
    let counts = c.side.terminal_before(&c.partitions, lane, cutoff).await.map_err(|e| EngineError::Transport { backend: "board", source: Box::new(e) })?;
    let steps = counts.len() as u32;
    let mut p = Progress { of: steps, done: steps, ..Default::default() };
    for (partition, n) in counts {
        p.add(partition, n);
    }
    Ok(p)
}

/// Run `tool` until it is done or [`RUN_DEADLINE`] passes.
pub async fn run(c: &Connected, tool: &Tool, now: i64) -> Result<Progress, EngineError> {
    let started = Instant::now();
    let late = || started.elapsed() > RUN_DEADLINE;
    match tool {
        Tool::TrimRetention { lane, hours } => {
            let parts = c.partitions.num_flow_partitions;
            let lane = LaneId::new(lane);
            let mut p = Progress { of: u32::from(parts), ..Default::default() };
            'partitions: for index in 0..parts {
                let mut purged = 0u64;
                loop {
                    if late() {
                        p.add(index, purged);
                        break 'partitions;
                    }
                    let n = c.backend.trim_retention(exec_partition(index), &lane, hours * 3_600_000, TimestampMs(now), TRIM_BATCH, &ScannerFilter::default()).await?;
                    purged += u64::from(n);
                    if n < TRIM_BATCH {
                        break;
                    }
                }
                p.add(index, purged);
                p.done += 1;
            }
            Ok(p)
        }
        Tool::CheckIndex { .. } => Ok(count(c, tool, now).await?.unwrap_or_default()),
        Tool::ReconcileBudgets | Tool::ReconcileQuotas => {
            let (family, parts) = match tool {
                Tool::ReconcileBudgets => (PartitionFamily::Budget, c.partitions.num_budget_partitions),
                _ => (PartitionFamily::Quota, c.partitions.num_quota_partitions),
            };
            let mut p = Progress { of: u32::from(parts), ..Default::default() };
            for index in 0..parts {
                if late() {
                    break;
                }
                let partition = Partition { family, index };
                let r = match tool {
                    Tool::ReconcileBudgets => c.backend.reconcile_budget_counters(partition, TimestampMs(now)).await?,
                    _ => c.backend.reconcile_quota_counters(partition, TimestampMs(now)).await?,
                };
                p.add(index, u64::from(r.processed));
                p.errors += u64::from(r.errors);
                p.done += 1;
            }
            Ok(p)
        }
        Tool::RotateHmac => {
            let secret: [u8; 32] = rand::random();
            let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
            let kid = format!("board-{now}");
            let r = c.backend.rotate_waitpoint_hmac_secret_all(RotateWaitpointHmacSecretAllArgs::new(kid, hex, HMAC_GRACE_MS)).await?;
            let n = r.entries.len() as u32;
            let failed = r.entries.iter().filter(|e| e.result.is_err()).count() as u64;
            Ok(Progress { count: u64::from(n) - failed, errors: failed, done: n, of: n, ..Default::default() })
        }
        // Each execution is one audited action: the board's action
        // pipeline runs it, never this module.
        Tool::Bulk(_) => Err(EngineError::Unavailable { op: "bulk run outside the board's action pipeline" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_parse_with_their_limits() {
        assert_eq!(Tool::parse("trim_retention", " billing ", Some(24)), Ok(Tool::TrimRetention { lane: "billing".into(), hours: 24 }));
        assert!(Tool::parse("trim_retention", "billing", None).is_err());
        assert!(Tool::parse("trim_retention", "billing", Some(0)).is_err());
        assert!(Tool::parse("trim_retention", "billing", Some(MAX_RETENTION_HOURS + 1)).is_err());
        assert!(Tool::parse("check_index", "", None).is_err());
        assert!(Tool::parse("check_index", &"l".repeat(MAX_LANE + 1), None).is_err());
        assert!(Tool::parse("check_index", "a\u{7}b", None).is_err());
        assert_eq!(Tool::parse("rotate_hmac", "", None), Ok(Tool::RotateHmac));
        let e = Tool::parse("drop_everything", "", None).unwrap_err();
        assert!(e.contains("trim_retention, check_index"), "{e}");
        for t in [Tool::TrimRetention { lane: "l".into(), hours: 1 }, Tool::CheckIndex { lane: "l".into() }, Tool::ReconcileBudgets, Tool::ReconcileQuotas, Tool::RotateHmac] {
            let (lane, hours) = match &t {
                Tool::TrimRetention { lane, hours } => (lane.as_str(), Some(*hours)),
                Tool::CheckIndex { lane } => (lane.as_str(), None),
                _ => ("", None),
            };
            assert_eq!(Tool::parse(t.key(), lane, hours), Ok(t.clone()), "round trip of {}", t.key());
        }
    }

    #[test]
    fn progress_says_where_it_stopped() {
        let mut p = Progress { of: 4, ..Default::default() };
        p.add(0, 3);
        p.add(1, 0);
        p.done = 2;
        assert_eq!(p.by_partition, vec![(0, 3)]);
        assert!(p.cut());
        assert!(p.describe("purged").contains("after 2 of 4 steps"));
        p.done = 4;
        assert_eq!(p.describe("purged"), "3 purged");
    }
}
