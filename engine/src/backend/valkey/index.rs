//! The board's own search index on Valkey. ff-backend-valkey 0.15 indexes
//! executions only by (partition, lane, state), so a query by step or tag
//! would otherwise walk the state indexes and test every row. The board
//! keeps, per execution partition and under that partition's hash tag (so
//! each entry lives on its execution's shard), one zset per value, scored
//! by the execution's creation time:
//!
//! - `ff_board:idx:{fp:N}:kind:<kind>` (the execution kind, the step);
//! - `ff_board:idx:{fp:N}:tag:<key>=<value>` (tag keys are namespaced,
//!   `^[a-z][a-z0-9_]*\.[a-z0-9_][a-z0-9_.]*$`, so hold no `=`);
//! - `ff_board:idx:{fp:N}:tagkey:<key>` (has the tag).
//!
//! Entries are written by the board's walk over every execution
//! (`super::lanes`, which also finds lanes) and for every execution the
//! lease reader sees take its first lease (`super::leases`); a row read through an index is still tested against the whole
//! query, and an entry whose execution is gone is dropped from the page
//! (the index never widens an answer). Until the walk's first whole pass
//! an index may miss executions, and the list says so.
use std::collections::HashMap;

use ferriskey::TypedPipeline;
use ff_board_domain::query::{Pattern, Query, Term};
use ff_core::keys::ExecKeyContext;
use ff_core::partition::PartitionConfig;
use ff_core::types::ExecutionId;

use super::reply::{partition, CALL_DEADLINE};
use crate::store_error::{Store, StoreError};

/// An index that can answer a query: the first positive term with an exact value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    Kind(String),
    Tag(String, String),
    HasTag(String),
}

impl Plan {
    /// The index `q` is answered from, if any of its terms has one.
    pub fn of(q: &Query) -> Option<Plan> {
        q.positive().find_map(|t| match t {
            Term::Kind(p) => match p.as_slice() {
                [Pattern::Exact(k)] => Some(Plan::Kind(k.clone())),
                _ => None,
            },
            Term::Tag { key, value: Some(v) } => Some(Plan::Tag(key.clone(), v.clone())),
            Term::Tag { key, value: None } => Some(Plan::HasTag(key.clone())),
            _ => None,
        })
    }

    /// Which index, as `/status` and the list's note name it.
    pub fn name(&self) -> &'static str {
        match self {
            Plan::Kind(_) => "step",
            Plan::Tag(..) | Plan::HasTag(_) => "tag",
        }
    }

    /// Its zset in the partition of hash tag `tag` (`{fp:N}`).
    fn key(&self, tag: &str) -> String {
        match self {
            Plan::Kind(k) => kind_key(tag, k),
            Plan::Tag(k, v) => tag_key(tag, k, v),
            Plan::HasTag(k) => has_tag_key(tag, k),
        }
    }

    /// Its zset in every partition.
    pub fn keys(&self, partitions: &PartitionConfig) -> Vec<String> {
        (0..partitions.num_flow_partitions).map(|i| self.key(&partition(i).hash_tag())).collect()
    }
}

fn kind_key(tag: &str, kind: &str) -> String {
    format!("ff_board:idx:{tag}:kind:{kind}")
}

fn tag_key(tag: &str, key: &str, value: &str) -> String {
    format!("ff_board:idx:{tag}:tag:{key}={value}")
}

fn has_tag_key(tag: &str, key: &str) -> String {
    format!("ff_board:idx:{tag}:tagkey:{key}")
}

/// Values longer than this are not indexed (a query on them walks).
pub const MAX_VALUE: usize = 256;

/// What an execution is indexed by.
pub struct IndexLine {
    pub id: ExecutionId,
    pub kind: String,
    pub created_at: i64,
    pub tags: Vec<(String, String)>,
}

/// Queue the index entries of `line` on `pipe` (idempotent `ZADD`s); how many.
pub fn queue_line(pipe: &mut TypedPipeline, line: &IndexLine) -> usize {
    let tag = partition(line.id.partition()).hash_tag();
    let id = line.id.to_string();
    let score = line.created_at.to_string();
    let mut keys = Vec::new();
    if !line.kind.is_empty() && line.kind.len() <= MAX_VALUE {
        keys.push(kind_key(&tag, &line.kind));
    }
    for (k, v) in &line.tags {
        if k.len() <= MAX_VALUE && v.len() <= MAX_VALUE {
            keys.push(tag_key(&tag, k, v));
            keys.push(has_tag_key(&tag, k));
        }
    }
    for key in &keys {
        let _ = pipe.cmd::<i64>("ZADD").arg(key.as_str()).arg(score.as_str()).arg(id.as_str()).finish();
    }
    keys.len()
}

/// Read `ids` (core lane, kind and creation time, and tags: one pipeline)
/// and write their index entries (one more); the distinct lanes met, and
/// how many entries were written.
pub async fn index_ids(client: &ferriskey::Client, ids: &[ExecutionId]) -> Result<(Vec<String>, usize), StoreError> {
    if ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let fail = |op: &'static str| StoreError::at(Store::Lanes, op);
    let mut p = client.pipeline();
    let slots: Vec<_> = ids
        .iter()
        .map(|id| {
            let ctx = ExecKeyContext::new(&partition(id.partition()), id);
            let core = p.cmd::<Vec<Option<String>>>("HMGET").arg(ctx.core()).arg("lane_id").arg("execution_kind").arg("created_at").finish();
            (core, p.cmd::<HashMap<String, String>>("HGETALL").arg(ctx.tags()).finish())
        })
        .collect();
    within(p.execute(), "read executions to index").await?.map_err(fail("read executions to index"))?;
    let mut lanes = Vec::new();
    let mut write = client.pipeline();
    let mut written = 0;
    for (id, (core, tags)) in ids.iter().zip(slots) {
        let core = core.value().map_err(fail("read executions to index"))?;
        let s = |i: usize| core.get(i).cloned().flatten().unwrap_or_default();
        if s(0).is_empty() {
            continue; // gone
        }
        lanes.push(s(0));
        let line = IndexLine { id: id.clone(), kind: s(1), created_at: s(2).parse().unwrap_or(0), tags: tags.value().unwrap_or_default().into_iter().collect() };
        written += queue_line(&mut write, &line);
    }
    if written > 0 {
        within(write.execute(), "write index").await?.map_err(fail("write index"))?;
    }
    lanes.sort();
    lanes.dedup();
    Ok((lanes, written))
}

/// `f` within the live readers' call deadline.
async fn within<T>(f: impl std::future::Future<Output = T>, op: &'static str) -> Result<T, StoreError> {
    tokio::time::timeout(CALL_DEADLINE, f).await.map_err(|_| StoreError::timeout(Store::Lanes, op, CALL_DEADLINE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_board_domain::query::Scope;

    fn plan(text: &str) -> Option<Plan> {
        Plan::of(&Query::parse(text, Scope::Executions).unwrap())
    }

    #[test]
    fn the_first_exact_positive_term_picks_the_index() {
        assert_eq!(plan("state:failed kind:render-pdfs"), Some(Plan::Kind("render-pdfs".into())));
        assert_eq!(plan("tag:shop.order_id=A-1 kind:x"), Some(Plan::Tag("shop.order_id".into(), "A-1".into())));
        assert_eq!(plan("tag:shop.region"), Some(Plan::HasTag("shop.region".into())));
        assert_eq!(plan("kind:deploy*"), None, "a prefix walks");
        assert_eq!(plan("kind:a,b"), None, "alternatives walk");
        assert_eq!(plan("-kind:x lane:y"), None, "a negated term cannot narrow");
    }

    #[test]
    fn keys_carry_the_execution_partitions_hash_tag() {
        let p = Plan::Tag("shop.order_id".into(), "A=1".into());
        let keys = p.keys(&PartitionConfig { num_flow_partitions: 4, ..PartitionConfig::default() });
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[2], "ff_board:idx:{fp:2}:tag:shop.order_id=A=1");
    }
}
