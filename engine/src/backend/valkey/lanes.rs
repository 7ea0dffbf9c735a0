//! Lane discovery on Valkey. ff-backend-valkey 0.15 indexes executions per
//! (partition, lane) and lists lanes only from `ff:idx:lanes`, which it
//! fills from ff-server's configuration at boot: an execution created in
//! any other lane is in no list the board can read without knowing its
//! lane. So the board finds lanes itself and keeps them in the store for
//! every replica, in the set `ff_board:{lanes}:seen`:
//!
//! - from what it already reads: the lanes of the executions its lease
//!   reader sees and of a flow's members ([`note`]);
//! - by a background walk ([`step`]) over every partition's
//!   `ff:idx:{fp:N}:all_executions` set, which also writes the board's
//!   search index (`super::index`): one `SSCAN … COUNT` [`STEP`], one
//!   pipeline reading those executions (`HMGET` of the core, `HGETALL` of
//!   the tags) and one writing their index entries (a `ZADD` per kind, tag
//!   and tag key) per step, and, as it leaves a partition that holds
//!   executions, one script bringing the board's flow list of that
//!   partition up to date (`super::flows::sync`), one step every [`STEP_EVERY`] (with three tags
//!   an execution, about 9 × [`STEP`] commands a second; a step moves
//!   through at most [`PARTITIONS_PER_STEP`] partitions, so over an empty
//!   stretch it costs about 12 commands; a new pass starts [`PASS_EVERY`]
//!   after the last one ended, so an idle store costs almost nothing), its
//!   position in the hash `ff_board:{lanes}:walk` so a restart or another
//!   replica resumes it, and one replica at a time: the step runs only for
//!   the holder of the lease `ff_board:{lanes}:lease` ([`LEASE_MS`]).
//!
//! The page reads add the seen lanes to the registry's (one more
//! `SMEMBERS` a page); `/lanes` and `/status` say which lanes were found
//! outside the registry and how far the walk is.
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ferriskey::{Client, Value};
use ff_core::keys::{lanes_index_key, IndexKeys};
use ff_core::partition::PartitionConfig;
use ff_core::types::ExecutionId;

use super::reply::{items, partition, text, CALL_DEADLINE};
use crate::store_error::{Store, StoreError};

/// The lanes the board has seen (beyond the registry or not).
pub const SEEN: &str = "ff_board:{lanes}:seen";
const WALK: &str = "ff_board:{lanes}:walk";
const LEASE: &str = "ff_board:{lanes}:lease";
/// Executions one step asks the store for (`SSCAN COUNT`).
pub const STEP: usize = 100;
/// The pause between two steps of the walk.
pub const STEP_EVERY: Duration = Duration::from_secs(1);
/// Partitions one step moves through at most (empty ones cost one `SSCAN`).
pub const PARTITIONS_PER_STEP: usize = 8;
/// The pause after a pass ends before the next one starts (on every
/// replica: the end of the rest is kept in the store).
pub const PASS_EVERY: Duration = Duration::from_secs(600);
/// How long a replica holds the walk without renewing it.
pub const LEASE_MS: u64 = 15_000;
/// Lanes kept at most (a lane name is at most 128 bytes).
pub const MAX_SEEN: usize = 1_000;

/// KEYS: lease. ARGV: holder, ms. 1 when `holder` holds it (taken or renewed).
const LEASE_LUA: &str = r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
"#;

/// How far the walk is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walk {
    /// The partition being walked.
    pub partition: u16,
    pub partitions: u16,
    /// Whole passes over every partition so far.
    pub passes: u64,
    /// Executions the step read.
    pub read: usize,
    /// The step ended a pass, or the walk rests between passes.
    pub ended: bool,
}

impl Walk {
    /// Per cent of the current pass done.
    pub fn percent(&self) -> u8 {
        if self.partitions == 0 {
            return 100;
        }
        (u32::from(self.partition) * 100 / u32::from(self.partitions)) as u8
    }
}

fn fail(op: &'static str) -> impl Fn(ferriskey::Error) -> StoreError {
    StoreError::at(Store::Lanes, op)
}

/// Lanes this process has kept already (so noting them again costs nothing).
fn kept() -> &'static Mutex<HashSet<String>> {
    static KEPT: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    KEPT.get_or_init(Mutex::default)
}

/// Keep `lanes` as seen (at most [`MAX_SEEN`]); the ones new to the set.
/// Lanes this process kept before are not sent again.
pub async fn note(client: &Client, lanes: &[String]) -> Result<usize, StoreError> {
    let lanes: Vec<&String> = {
        let kept = kept().lock().unwrap_or_else(|p| p.into_inner());
        lanes.iter().filter(|l| !l.is_empty() && l.len() <= 128 && !kept.contains(*l)).collect()
    };
    if lanes.is_empty() {
        return Ok(0);
    }
    let size: usize = client.cmd("SCARD").arg(SEEN).execute().await.map_err(fail("count seen lanes"))?;
    if size >= MAX_SEEN {
        return Ok(0);
    }
    let added: usize = lanes.iter().fold(client.cmd("SADD").arg(SEEN), |c, l| c.arg(l.as_str())).execute().await.map_err(fail("note lanes"))?;
    let mut kept = kept().lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() < MAX_SEEN {
        kept.extend(lanes.into_iter().cloned());
    }
    Ok(added)
}

/// Every lane seen, and the registry's lanes.
pub async fn seen(client: &Client) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let mut seen: Vec<String> = client.cmd("SMEMBERS").arg(SEEN).execute().await.map_err(fail("read seen lanes"))?;
    let mut registry: Vec<String> = client.cmd("SMEMBERS").arg(lanes_index_key()).execute().await.map_err(fail("read lane registry"))?;
    seen.sort();
    registry.sort();
    Ok((seen, registry))
}

/// Where the walk is.
pub async fn walk(client: &Client, partitions: &PartitionConfig) -> Result<Walk, StoreError> {
    let v: Vec<Option<String>> =
        client.cmd("HMGET").arg(WALK).arg("partition").arg("passes").execute().await.map_err(fail("read lane walk"))?;
    let num = |i: usize| v.get(i).cloned().flatten().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    Ok(Walk { partition: num(0) as u16, partitions: partitions.num_flow_partitions, passes: num(1), read: 0, ended: false })
}

/// What a list answered from the board's own index should say while the
/// walk has not finished its first pass ("tag index 63 % built: results
/// may be missing"); `None` when `q` uses no index or the index is whole.
pub async fn index_note(client: &Client, partitions: &PartitionConfig, q: &ff_board_domain::query::Query) -> Result<Option<String>, StoreError> {
    let Some(plan) = super::index::Plan::of(q) else { return Ok(None) };
    let w = walk(client, partitions).await?;
    Ok((w.passes == 0).then(|| format!("{} index {} % built: results may be missing", plan.name(), w.percent())))
}

/// One step of the walk, when `holder` holds (or takes) its lease; `None`
/// when another replica does. The lanes found new are kept as seen.
pub async fn step(client: &Client, partitions: &PartitionConfig, holder: &str) -> Result<Option<Walk>, StoreError> {
    let held: i64 = client
        .cmd("EVAL")
        .arg(LEASE_LUA)
        .arg(1)
        .arg(LEASE)
        .arg(holder)
        .arg(LEASE_MS.to_string())
        .execute()
        .await
        .map_err(fail("lane walk lease"))?;
    if held != 1 {
        return Ok(None);
    }
    let v: Vec<Option<String>> = client
        .cmd("HMGET")
        .arg(WALK)
        .arg("partition")
        .arg("cursor")
        .arg("passes")
        .arg("rest_until")
        .execute()
        .await
        .map_err(fail("read lane walk"))?;
    let field = |i: usize| v.get(i).cloned().flatten();
    let count = partitions.num_flow_partitions.max(1);
    // Between passes every replica rests (the store says until when).
    let now = crate::backend::now_ms();
    if field(3).and_then(|s| s.parse::<i64>().ok()).is_some_and(|until| until > now) {
        let (part, passes) = (field(0).and_then(|s| s.parse().ok()).unwrap_or(0), field(2).and_then(|s| s.parse().ok()).unwrap_or(0));
        return Ok(Some(Walk { partition: part, partitions: count, passes, read: 0, ended: true }));
    }
    let part = field(0).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0) % count;
    let cursor = field(1).unwrap_or_else(|| "0".into());
    let passes = field(2).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    // Up to STEP executions, over at most PARTITIONS_PER_STEP partitions
    // (empty ones are passed quickly), never past the end of a pass.
    let (mut part, mut cursor, mut ids, mut ended, mut left) = (part, cursor, Vec::new(), false, Vec::new());
    for _ in 0..PARTITIONS_PER_STEP {
        let (resumed, before) = (cursor != "0", ids.len());
        let key = IndexKeys::new(&partition(part)).all_executions();
        let reply: Value =
            client.cmd("SSCAN").arg(key).arg(&cursor).arg("COUNT").arg(STEP.to_string()).execute().await.map_err(fail("walk executions"))?;
        let reply = items(&reply);
        let next = reply.first().and_then(|c| text(c)).unwrap_or_else(|| "0".into());
        ids.extend(reply.get(1).map(|m| items(m).into_iter().filter_map(text).filter_map(|s| ExecutionId::parse(&s).ok()).collect::<Vec<_>>()).unwrap_or_default());
        if next != "0" {
            cursor = next;
            break;
        }
        // A partition with executions has its flow list brought up to
        // date as the walk leaves it (an empty one costs nothing more).
        if resumed || ids.len() > before {
            left.push(part);
        }
        (part, cursor) = (part + 1, "0".to_owned());
        if part >= count {
            (part, ended) = (0, true);
            break;
        }
        if ids.len() >= STEP {
            break;
        }
    }
    let passes = passes + u64::from(ended);
    let (lanes, _) = super::index::index_ids(client, &ids).await?;
    note(client, &lanes).await?;
    for p in left {
        super::flows::sync(client, p).await?;
    }
    let _: i64 = client
        .cmd("HSET")
        .arg(WALK)
        .arg("partition")
        .arg(part.to_string())
        .arg("cursor")
        .arg(&cursor)
        .arg("passes")
        .arg(passes.to_string())
        .arg("rest_until")
        .arg(if ended { now + PASS_EVERY.as_millis() as i64 } else { 0 }.to_string())
        .execute()
        .await
        .map_err(fail("save lane walk"))?;
    Ok(Some(Walk { partition: part, partitions: count, passes, read: ids.len(), ended }))
}

/// Walk for ever, a step every [`STEP_EVERY`] while this process holds the
/// lease (a failed step is logged and retried after a minute).
pub fn spawn(client: Client, partitions: PartitionConfig) {
    let holder = format!("board-{}", uuid::Uuid::new_v4());
    tokio::spawn(async move {
        loop {
            let pause = match tokio::time::timeout(CALL_DEADLINE * 3, step(&client, &partitions, &holder)).await {
                Ok(Ok(Some(w))) => {
                    crate::metrics::lane_walk(w.percent(), w.passes);
                    if w.ended { PASS_EVERY } else { STEP_EVERY }
                }
                Ok(Ok(None)) => Duration::from_millis(LEASE_MS),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "lane discovery: step failed; retrying in 60 s");
                    Duration::from_secs(60)
                }
                Err(_) => {
                    tracing::warn!("lane discovery: step timed out; retrying in 60 s");
                    Duration::from_secs(60)
                }
            };
            tokio::time::sleep(pause).await;
        }
    });
}
