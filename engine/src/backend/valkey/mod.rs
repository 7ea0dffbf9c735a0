//! Valkey: the board's list reads from the engine's own index structures,
//! with no SCAN on any page path.
//!
//! What ff-backend-valkey 0.15 maintains and the board reads (every key is
//! per execution partition `{fp:N}`):
//! - per-lane state zsets `ff:idx:{fp:N}:lane:<lane>:<family>`
//!   ([`Family`]): `active` (score: lease expiry), `suspended` (score:
//!   deadline, `9999999999999` without one), `eligible` (priority),
//!   `delayed` (due time), `blocked:*`, `terminal` (finish time);
//! - `ff:idx:{fp:N}:lease_expiry` (score: lease expiry);
//! - `ff:idx:{fp:N}:flow_index` (set of flow ids; the board lists flows
//!   from its own ordered copy, [`flows`]) and each flow's `members` set;
//! - the global lane registry `ff:idx:lanes`. The engine only adds the
//!   lanes a deployment declares at boot (ff-server's `initialize_deployment`),
//!   not lanes first seen at runtime, so the board adds the lanes it has
//!   found itself ([`lanes`]: `ff_board:{lanes}:seen`) and those of
//!   `FF_BOARD_LANES` ([`ValkeyReads::new`]).
//!
//! A list page is a lazy k-way merge: one pipeline asks every (partition,
//! lane) zset of one family for at most one page after the cursor, the
//! board merges them by `(score, id)` and reads the page's rows with one
//! more pipeline of `HMGET`s. Families are read in a fixed order and only
//! as far as the page needs. A page therefore costs
//! `partitions × lanes` commands per family it touches plus one per row,
//! whatever the store holds.
use async_trait::async_trait;
use ff_core::keys::{budget_policies_index, lanes_index_key, ExecKeyContext, FlowKeyContext, IndexKeys};
use ff_core::partition::{flow_partition, Partition, PartitionConfig, PartitionFamily};
use ff_core::state::PublicState;
use ff_core::types::{BudgetId, ExecutionId, FlowId, LaneId};
use ff_board_domain::query::Field;
use std::collections::HashMap;

use super::search::Search;
use super::{clamp, ExecLine, ExecQuery, FlowLine, FlowQuery, FlowState, LeaseLine, Page, ReadError, Reads, SuspendedLine, MAX_SCAN};

pub mod audit;
pub mod dial;
mod enrich;
mod flows;
mod follow;
mod history;
pub(crate) mod side;
pub(crate) mod gate;
mod index;
pub mod lanes;
mod leases;
pub(crate) mod live;
mod notify;
mod quotas;
mod stuck;
pub mod requests;
pub mod retention;
mod reply;
mod signals;
pub mod views;
mod walk;

use walk::{Cand, Family};

/// Lanes a page reads at most (each lane costs one command per partition).
pub const MAX_LANES: usize = 64;

/// The board's reads on a Valkey store.
pub struct ValkeyReads {
    client: ferriskey::Client,
    partitions: PartitionConfig,
    /// Lanes the deployment uses beyond `ff:idx:lanes`.
    extra_lanes: Vec<String>,
}

/// Exec-core fields a row shows, in [`ValkeyReads::rows`] order.
const EXEC_FIELDS: [&str; 10] = [
    "public_state",
    "lane_id",
    "namespace",
    "flow_id",
    "created_at",
    "last_mutation_at",
    "total_attempt_count",
    "blocking_reason",
    "execution_kind",
    "completed_at",
];

/// The query fields a Valkey row answers (the flow's kind and the attempts'
/// workers read for the rows when asked, `enrich`; see `docs/SEARCH.md`).
const ANSWERED: &[Field] = &[
    Field::State,
    Field::Kind,
    Field::Lane,
    Field::Ns,
    Field::Flow,
    Field::Tag,
    Field::Created,
    Field::Finished,
    Field::Attempts,
    Field::Blocked,
    Field::FlowKind,
    Field::Worker,
];

/// The query fields a Valkey flow row answers (it holds no finish time).
const FLOW_ANSWERED: &[Field] = &[Field::State, Field::FlowKind, Field::Ns, Field::Created];

fn store(op: &'static str) -> impl Fn(ferriskey::Error) -> ReadError {
    move |e| ReadError::store(op, e)
}

impl ValkeyReads {
    pub fn new(client: ferriskey::Client, partitions: PartitionConfig, extra_lanes: Vec<String>) -> Self {
        ValkeyReads { client, partitions, extra_lanes }
    }

    fn partition(&self, index: u16) -> Partition {
        Partition { family: PartitionFamily::Flow, index }
    }

    /// The lanes to read: `ff:idx:lanes` (one `SMEMBERS` per page, so a
    /// lane declared a moment ago is listed) and the configured ones.
    async fn lanes(&self, only: Option<&str>) -> Result<Vec<String>, ReadError> {
        if let Some(l) = only {
            return Ok(vec![l.to_owned()]);
        }
        let mut lanes: Vec<String> =
            self.client.cmd("SMEMBERS").arg(lanes_index_key()).execute().await.map_err(store("lane registry"))?;
        let seen: Vec<String> = self.client.cmd("SMEMBERS").arg(lanes::SEEN).execute().await.map_err(store("seen lanes"))?;
        lanes.extend(seen);
        lanes.extend(self.extra_lanes.iter().cloned());
        lanes.sort();
        lanes.dedup();
        lanes.truncate(MAX_LANES);
        Ok(lanes)
    }

    /// The first `n` entries after `from` over every (partition, lane) zset
    /// of `family`. Each key is first asked for a share of the page
    /// ([`walk::share`]); only keys whose share ran out before the page's
    /// last entry are asked again for a whole page, so a page moves
    /// `keys × share` entries rather than `keys × page` when the index is
    /// spread over partitions (it is: ids hash over them).
    async fn candidates(&self, family: Family, keys: &[String], from: Option<&Cand>, n: usize) -> Result<Vec<Cand>, ReadError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let share = walk::share(n, keys.len());
        let first = self.zrange_each(family, keys, from, share).await?;
        let merged = walk::merge(family, first.iter().flatten().cloned().collect(), from, n);
        let again = walk::short_keys(family, &first, share, &merged, n);
        if again.is_empty() {
            return Ok(merged);
        }
        let retry_keys: Vec<String> = again.iter().map(|&i| keys[i].clone()).collect();
        let second = self.zrange_each(family, &retry_keys, from, n).await?;
        let mut all: Vec<(String, f64)> =
            first.into_iter().enumerate().filter(|(i, _)| !again.contains(i)).flat_map(|(_, v)| v).collect();
        all.extend(second.into_iter().flatten());
        Ok(walk::merge(family, all, from, n))
    }

    /// One pipeline: `ZRANGE` of each key, at most `n` (plus ties) after `from`.
    async fn zrange_each(
        &self,
        family: Family,
        keys: &[String],
        from: Option<&Cand>,
        n: usize,
    ) -> Result<Vec<Vec<(String, f64)>>, ReadError> {
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> = keys.iter().map(|k| walk::zrange(&mut pipe, family, k.clone(), from, n)).collect();
        pipe.execute().await.map_err(store("read state index"))?;
        slots.into_iter().map(|s| s.value().map_err(store("read state index"))).collect()
    }

    /// One pipeline: the row of every id (`None` where the core is gone),
    /// its core fields and its tags (two commands a row); one more when the
    /// query `needs` its flow's kind or its attempts' workers.
    async fn rows(&self, ids: &[ExecutionId], needs: enrich::Needs) -> Result<Vec<Option<ExecLine>>, ReadError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> = ids
            .iter()
            .map(|id| {
                let ctx = ExecKeyContext::new(&self.partition(id.partition()), id);
                let core = EXEC_FIELDS.iter().fold(pipe.cmd::<Vec<Option<String>>>("HMGET").arg(ctx.core()), |cmd, f| cmd.arg(*f));
                (core.finish(), pipe.cmd::<HashMap<String, String>>("HGETALL").arg(ctx.tags()).finish())
            })
            .collect();
        pipe.execute().await.map_err(store("read executions"))?;
        let mut lines = ids
            .iter()
            .zip(slots)
            .map(|(id, (core, tags))| {
                let line = exec_line(id, core.value().map_err(store("read executions"))?);
                let mut tags: Vec<(String, String)> = tags.value().map_err(store("read tags"))?.into_iter().collect();
                tags.sort();
                Ok(line.map(|l| ExecLine { tags, ..l }))
            })
            .collect::<Result<Vec<_>, ReadError>>()?;
        enrich::fill(&self.client, &self.partitions, needs, &mut lines).await?;
        Ok(lines)
    }

    /// One pipeline: `fields` of each hash of `keys`, in order.
    async fn hmget(
        &self,
        keys: impl Iterator<Item = String>,
        fields: &[&str],
        op: &'static str,
    ) -> Result<Vec<Vec<Option<String>>>, ReadError> {
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> =
            keys.map(|key| fields.iter().fold(pipe.cmd::<Vec<Option<String>>>("HMGET").arg(key), |cmd, f| cmd.arg(*f)).finish()).collect();
        if slots.is_empty() {
            return Ok(Vec::new());
        }
        pipe.execute().await.map_err(store(op))?;
        slots.into_iter().map(|slot| slot.value().map_err(store(op))).collect()
    }

    /// The (partition, lane) zsets of `family`.
    fn lane_keys(&self, family: Family, lanes: &[String]) -> Vec<String> {
        (0..self.partitions.num_flow_partitions).flat_map(|index| family.keys(&IndexKeys::new(&self.partition(index)), lanes)).collect()
    }

    /// Walk `families` (each over the zsets `keys` names) in order from
    /// `after`, keeping rows `keep` accepts, until a page is full or
    /// [`MAX_SCAN`] rows were looked at.
    async fn walk(
        &self,
        families: &[Family],
        keys: impl Fn(Family) -> Vec<String>,
        after: Option<&str>,
        limit: usize,
        needs: enrich::Needs,
        keep: impl Fn(&ExecLine) -> bool,
    ) -> Result<Page<(Cand, ExecLine)>, ReadError> {
        let mut from = after.map(walk::parse_cursor).transpose()?;
        let mut out: Vec<(Cand, ExecLine)> = Vec::new();
        let mut scanned = 0;
        for (fi, &family) in families.iter().enumerate() {
            if from.as_ref().is_some_and(|c| c.family > fi) {
                continue;
            }
            let family_keys = keys(family);
            loop {
                let start = from.as_ref().filter(|c| c.family == fi);
                let want = limit + 1 - out.len();
                let cands = self.candidates(family, &family_keys, start, want).await?;
                let ids: Vec<ExecutionId> = cands.iter().map(|c| c.id.clone()).collect();
                let lines = self.rows(&ids, needs).await?;
                let got = cands.len();
                for (mut cand, line) in cands.into_iter().zip(lines) {
                    cand.family = fi;
                    scanned += 1;
                    from = Some(cand.clone());
                    if let Some(line) = line.filter(&keep) {
                        out.push((cand, line));
                        if out.len() > limit {
                            out.truncate(limit);
                            let next = out.last().map(|(c, _)| walk::cursor(c));
                            return Ok(Page::new(out, next));
                        }
                    }
                }
                if got < want {
                    break;
                }
                if scanned >= MAX_SCAN {
                    let next = from.as_ref().map(walk::cursor);
                    return Ok(Page { rows: out, next, cut_short: true });
                }
            }
        }
        Ok(Page::new(out, None))
    }

    /// Flow-core fields of `ids`, one pipeline.
    async fn flow_lines(&self, ids: &[FlowId]) -> Result<Vec<Option<FlowLine>>, ReadError> {
        const FIELDS: [&str; 7] =
            ["flow_kind", "namespace", "public_flow_state", "node_count", "edge_count", "created_at", "last_mutation_at"];
        let keys = ids.iter().map(|id| FlowKeyContext::new(&flow_partition(id, &self.partitions), id).core());
        let values = self.hmget(keys, &FIELDS, "read flows").await?;
        ids.iter()
            .zip(values)
            .map(|(id, v)| {
                let s = |i: usize| v.get(i).cloned().flatten();
                let num = |i: usize| s(i).and_then(|x| x.parse::<i64>().ok());
                let Some(state) = s(2) else { return Ok(None) };
                let created_at = num(5).unwrap_or(0);
                Ok(Some(FlowLine {
                    id: id.clone(),
                    kind: s(0).unwrap_or_default(),
                    namespace: s(1).unwrap_or_else(|| "default".into()),
                    state: FlowState::from_stored(&state),
                    status: state.clone(),
                    node_count: num(3).unwrap_or(0) as u32,
                    edge_count: num(4).unwrap_or(0) as u32,
                    created_at,
                    last_mutation_at: num(6).unwrap_or(created_at),
                }))
            })
            .collect()
    }
}

/// An exec-core `HMGET` ([`EXEC_FIELDS`]) as a row; `None` when the core is gone.
fn exec_line(id: &ExecutionId, v: Vec<Option<String>>) -> Option<ExecLine> {
    let s = |i: usize| v.get(i).cloned().flatten().filter(|x| !x.is_empty());
    let num = |i: usize| s(i).and_then(|x| x.parse::<i64>().ok());
    let state = super::parse_state(&s(0)?)?;
    let created_at = num(4).unwrap_or(0);
    Some(ExecLine {
        id: id.clone(),
        flow_id: s(3),
        lane: s(1).unwrap_or_default(),
        namespace: s(2).unwrap_or_default(),
        state,
        attempts: num(6).unwrap_or(0) as u32,
        created_at,
        last_mutation_at: num(5).unwrap_or(created_at),
        blocking_reason: s(7),
        kind: s(8).unwrap_or_default(),
        finished_at: num(9),
        tags: Vec::new(),
        flow_kind: None,
        workers: None,
    })
}

#[async_trait]
impl Reads for ValkeyReads {
    async fn flows(&self, q: &FlowQuery, after: Option<&str>, limit: usize) -> Result<Page<FlowLine>, ReadError> {
        let limit = clamp(limit);
        if let Some(field) = q.search.as_ref().and_then(|s| s.unanswered(FLOW_ANSWERED)) {
            return Err(ReadError::Unanswered { field: field.name() });
        }
        let now = super::now_ms();
        let after = after
            .map(|raw| FlowId::parse(raw).map_err(|_| ReadError::BadCursor(raw.to_owned())))
            .transpose()?;
        // The board's ordered flow index, merged across partitions (`flows`).
        let mut merge = flows::Merge::open(&self.client, self.partitions.num_flow_partitions, after.as_ref(), limit + 1).await?;
        let mut out = Vec::new();
        let mut scanned = 0;
        loop {
            let chunk = merge.next(limit + 1).await?;
            if chunk.is_empty() {
                return Ok(Page::new(out, None));
            }
            let lines = self.flow_lines(&chunk).await?;
            let gone: Vec<FlowId> = chunk.iter().zip(&lines).filter(|(_, l)| l.is_none()).map(|(id, _)| id.clone()).collect();
            scanned += gone.len();
            flows::Merge::forget(&self.client, &self.partitions, &gone).await?;
            for line in lines.into_iter().flatten() {
                scanned += 1;
                let keep = q.state.is_none_or(|s| line.state == s)
                    && q.namespace.as_ref().is_none_or(|n| &line.namespace == n)
                    && q.search.as_ref().is_none_or(|s| super::search::flow_matches(s.query(), &line, now));
                if keep {
                    out.push(line);
                }
                if out.len() > limit {
                    out.truncate(limit);
                    let next = out.last().map(|f| f.id.to_string());
                    return Ok(Page::new(out, next));
                }
            }
            if scanned >= MAX_SCAN {
                let next = chunk.last().map(|f| f.to_string());
                return Ok(Page { rows: out, next, cut_short: true });
            }
        }
    }

    async fn executions(&self, q: &ExecQuery, after: Option<&str>, limit: usize) -> Result<Page<ExecLine>, ReadError> {
        let limit = clamp(limit);
        if let Some(field) = q.search.as_ref().and_then(|s| s.unanswered(ANSWERED)) {
            return Err(ReadError::Unanswered { field: field.name() });
        }
        let now = super::now_ms();
        let keep = |l: &ExecLine| {
            q.state.is_none_or(|s| l.state == s)
                && q.lane.as_ref().is_none_or(|lane| &l.lane == lane)
                && q.namespace.as_ref().is_none_or(|n| &l.namespace == n)
                && q.search.as_ref().is_none_or(|s| super::search::matches(s.query(), l, now))
        };
        let needs = enrich::Needs::of(q.search.as_ref().map(|s| s.query()));
        // A step or tag term is read from the board's own index.
        let page = match q.search.as_ref().and_then(|s| index::Plan::of(s.query())) {
            Some(plan) => {
                let keys = plan.keys(&self.partitions);
                self.walk(&[Family::Indexed], |_| keys.clone(), after, limit, needs, keep).await?
            }
            None => {
                let lanes = self.lanes(q.lane.as_deref()).await?;
                self.walk(&Family::for_state(q.state), |f| self.lane_keys(f, &lanes), after, limit, needs, keep).await?
            }
        };
        Ok(Page { rows: page.rows.into_iter().map(|(_, l)| l).collect(), next: page.next, cut_short: page.cut_short })
    }

    async fn suspended(&self, search: Option<&Search>, after: Option<&str>, limit: usize) -> Result<Page<SuspendedLine>, ReadError> {
        let limit = clamp(limit);
        if let Some(field) = search.and_then(|s| s.unanswered(ANSWERED)) {
            return Err(ReadError::Unanswered { field: field.name() });
        }
        let lanes = self.lanes(None).await?;
        let now = super::now_ms();
        let page = self
            .walk(&[Family::Suspended], |f| self.lane_keys(f, &lanes), after, limit, enrich::Needs::of(search.map(|s| s.query())), |l| {
                l.state == PublicState::Suspended && search.is_none_or(|s| super::search::matches(s.query(), l, now))
            })
            .await?;
        // When and why each suspended: one more pipeline.
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> = page
            .rows
            .iter()
            .map(|(_, l)| {
                let ctx = ExecKeyContext::new(&self.partition(l.id.partition()), &l.id);
                pipe.cmd::<Vec<Option<String>>>("HMGET").arg(ctx.suspension_current()).arg("created_at").arg("reason_code").finish()
            })
            .collect();
        if !slots.is_empty() {
            pipe.execute().await.map_err(store("read suspensions"))?;
        }
        let mut rows = Vec::new();
        for ((_, exec), slot) in page.rows.into_iter().zip(slots) {
            let v = slot.value().map_err(store("read suspensions"))?;
            let at = v.first().cloned().flatten().and_then(|t| t.parse().ok()).unwrap_or(exec.last_mutation_at);
            let reason = v.get(1).cloned().flatten().filter(|r| !r.is_empty());
            rows.push(SuspendedLine { exec, suspended_at: at, reason });
        }
        Ok(Page { rows, next: page.next, cut_short: page.cut_short })
    }

    async fn flow_members(&self, flow: &FlowId, limit: usize) -> Result<Vec<ExecLine>, ReadError> {
        let ctx = FlowKeyContext::new(&flow_partition(flow, &self.partitions), flow);
        let mut raw: Vec<String> =
            self.client.cmd("SMEMBERS").arg(ctx.members()).execute().await.map_err(store("flow members"))?;
        raw.sort();
        raw.truncate(limit);
        let ids = raw
            .iter()
            .map(|r| ExecutionId::parse(r).map_err(|e| ReadError::store("flow members", format!("{r:?}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut lines: Vec<ExecLine> = self.rows(&ids, enrich::Needs::default()).await?.into_iter().flatten().collect();
        lines.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
        Ok(lines)
    }

    async fn leases(&self, limit: usize) -> Result<Vec<LeaseLine>, ReadError> {
        let limit = clamp(limit);
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> = (0..self.partitions.num_flow_partitions)
            .map(|index| {
                pipe.cmd::<Vec<(String, f64)>>("ZRANGE")
                    .arg(IndexKeys::new(&self.partition(index)).lease_expiry())
                    .arg("0")
                    .arg((limit - 1).to_string())
                    .arg("WITHSCORES")
                    .finish()
            })
            .collect();
        pipe.execute().await.map_err(store("active leases"))?;
        let mut all = Vec::new();
        for slot in slots {
            all.extend(slot.value().map_err(store("active leases"))?);
        }
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(limit);
        let ids = all
            .iter()
            .map(|(r, _)| ExecutionId::parse(r).map_err(|e| ReadError::store("active leases", format!("{r:?}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let lines = self.rows(&ids, enrich::Needs::default()).await?;
        let mut pipe = self.client.pipeline();
        let leases: Vec<_> = ids
            .iter()
            .map(|id| {
                let ctx = ExecKeyContext::new(&self.partition(id.partition()), id);
                pipe.cmd::<Vec<Option<String>>>("HMGET")
                    .arg(ctx.lease_current())
                    .arg("worker_instance_id")
                    .arg("lease_epoch")
                    .arg("expires_at")
                    .finish()
            })
            .collect();
        let attempt: Vec<_> = ids
            .iter()
            .map(|id| {
                let ctx = ExecKeyContext::new(&self.partition(id.partition()), id);
                pipe.cmd::<Option<String>>("HGET").arg(ctx.core()).arg("current_attempt_index").finish()
            })
            .collect();
        if !ids.is_empty() {
            pipe.execute().await.map_err(store("active leases"))?;
        }
        let mut out = Vec::new();
        for ((line, lease), attempt) in lines.into_iter().zip(leases).zip(attempt) {
            let v = lease.value().map_err(store("active leases"))?;
            let attempt = attempt.value().map_err(store("active leases"))?;
            let (Some(exec), Some(holder)) = (line, v.first().cloned().flatten()) else { continue };
            let num = |i: usize| v.get(i).cloned().flatten().and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
            out.push(LeaseLine {
                exec,
                holder,
                epoch: num(1) as u64,
                attempt_index: attempt.and_then(|a| a.parse().ok()).unwrap_or(0),
                expires_at: num(2),
            });
        }
        Ok(out)
    }

    async fn budget_ids(&self) -> Result<Vec<BudgetId>, ReadError> {
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> = (0..self.partitions.num_budget_partitions)
            .map(|index| {
                let tag = Partition { family: PartitionFamily::Budget, index }.hash_tag();
                pipe.cmd::<Vec<String>>("SMEMBERS").arg(budget_policies_index(&tag)).finish()
            })
            .collect();
        pipe.execute().await.map_err(store("list budgets"))?;
        let mut raw = Vec::new();
        for slot in slots {
            raw.extend(slot.value().map_err(store("list budgets"))?);
        }
        super::budgets(raw)
    }

    async fn history(&self, id: &ExecutionId) -> Result<super::History, ReadError> {
        history::history(&self.client, id).await
    }

    async fn quotas(&self, now: i64) -> Result<Vec<super::QuotaLine>, ReadError> {
        quotas::quotas(&self.client, &self.partitions, now).await
    }

    async fn stuck_counts(&self, families: &[ff_board_domain::BlockedFamily]) -> Result<Option<Vec<(ff_board_domain::BlockedFamily, u64)>>, ReadError> {
        let lanes = self.lanes(None).await?;
        stuck::counts(&self.client, &self.partitions, &lanes, families).await.map(Some)
    }

    async fn gates(&self, ids: &[ExecutionId]) -> Result<Vec<crate::gate::GateRows>, ReadError> {
        let ids = &ids[..ids.len().min(super::MAX_PAGE)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One pipeline: each gate and each execution's waitpoint set.
        let mut pipe = self.client.pipeline();
        let mut slots = Vec::new();
        for id in ids {
            let gate = gate::queue_valkey(&mut pipe, id);
            let ctx = ExecKeyContext::new(&self.partition(id.partition()), id);
            slots.push((gate, pipe.cmd::<Vec<String>>("SMEMBERS").arg(ctx.waitpoints()).finish()));
        }
        pipe.execute().await.map_err(store("read gates"))?;
        let mut gates = Vec::new();
        let mut wps: Vec<(usize, ff_core::types::WaitpointId)> = Vec::new();
        for (i, ((fields, tokens), set)) in slots.into_iter().enumerate() {
            let fields = fields.value().map_err(store("read gates"))?;
            let tokens = tokens.value().map_err(store("read gates"))?;
            gates.push(gate::valkey_gate(&ids[i], &fields, tokens));
            let mut set = set.value().map_err(store("read gates"))?;
            set.sort();
            set.truncate(64);
            wps.extend(set.iter().filter_map(|w| ff_core::types::WaitpointId::parse(w).ok()).map(|w| (i, w)));
        }
        // One more: the fields of every waitpoint (never its token).
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> = wps
            .iter()
            .map(|(i, w)| {
                let ctx = ExecKeyContext::new(&self.partition(ids[*i].partition()), &ids[*i]);
                pipe.cmd::<Vec<Option<String>>>("HMGET")
                    .arg(ctx.waitpoint(w))
                    .arg("state")
                    .arg("waitpoint_key")
                    .arg("created_at")
                    .arg("expires_at")
                    .finish()
            })
            .collect();
        if !wps.is_empty() {
            pipe.execute().await.map_err(store("read waitpoints"))?;
        }
        let mut pending: Vec<Vec<crate::gate::Pending>> = vec![Vec::new(); ids.len()];
        for ((i, w), slot) in wps.iter().zip(slots) {
            let v = slot.value().map_err(store("read waitpoints"))?;
            let s = |k: usize| v.get(k).cloned().flatten().filter(|x| !x.is_empty());
            let state = s(0).unwrap_or_default();
            if state != "pending" && state != "active" {
                continue;
            }
            pending[*i].push(crate::gate::Pending {
                waitpoint_id: w.to_string(),
                waitpoint_key: s(1).unwrap_or_default(),
                state,
                created_at: s(2).and_then(|t| t.parse().ok()).unwrap_or(0),
                expires_at: s(3).and_then(|t| t.parse().ok()),
                required: Vec::new(),
            });
        }
        Ok(gates.into_iter().zip(pending).map(|(gate, pending)| crate::gate::GateRows { gate, pending }).collect())
    }
}

/// Lanes named in a setting (comma-separated), checked as `LaneId`s.
pub fn parse_lanes(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| LaneId::try_new(l.to_owned()).map(|_| l.to_owned()).map_err(|e| format!("lane {l:?}: {e:?}")))
        .collect()
}
