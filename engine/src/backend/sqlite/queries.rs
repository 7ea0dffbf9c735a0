//! The nine filled reads: sqlx queries against the SQLite backend's own
//! tables, each a port of the Postgres backend's implementation of the
//! same trait method (ff-backend-postgres 0.15: `flow.rs`, `exec_core.rs`,
//! `admin.rs`) with the same decoding, ordering, cursor and `Ok(None)`
//! rules.
//!
//! `describe_execution` is built from an `ExecRow`
//! (`crate::backend::filled::exec_row`), shared with the Postgres wrapper.
//!
//! SQLite dialect notes: ids are 16-byte BLOBs (compared with memcmp, the
//! same order as Postgres `uuid`), JSON columns are TEXT, and every flow
//! lives on partition 0 (the backend is single-writer, one partition).
//! Execution rows keep the partition of their id (`{fp:N}:<uuid>`), as
//! `create_execution` writes it.

use std::collections::BTreeMap;

use ff_core::contracts::{
    EdgeDependencyPolicy, EdgeDirection, EdgeGroupSnapshot, EdgeGroupState, EdgeSnapshot,
    FlowSnapshot, FlowStatus, FlowSummary, ListExecutionsPage, ListFlowsPage, ListLanesPage,
    ListSuspendedPage, OnSatisfied, SuspendedExecutionEntry,
};
use ff_core::engine_error::EngineError;
use ff_core::partition::PartitionKey;
use ff_core::types::{EdgeId, ExecutionId, FlowId, LaneId, Namespace, TimestampMs};
use serde_json::Value as JsonValue;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

use crate::backend::filled::exec_row::{corruption, exec_row_sql, invalid, split_eid, ExecRow};

/// The SQLite backend writes every flow (and its edges / edge groups)
/// on partition 0.
const FLOW_PARTITION: i64 = 0;

/// Postgres caps `list_executions` pages at this many ids.
const LIST_EXECUTIONS_MAX: usize = 1000;

// ── small decoding helpers ──────────────────────────────────────────

fn transport(e: sqlx::Error) -> EngineError {
    EngineError::Transport { backend: "sqlite", source: Box::new(e) }
}

/// Bind form of an id column (BLOB).
fn blob(u: &Uuid) -> Vec<u8> {
    u.as_bytes().to_vec()
}

fn uuid_col(row: &SqliteRow, col: &str) -> Result<Uuid, EngineError> {
    let bytes: Vec<u8> = row.try_get(col).map_err(transport)?;
    Uuid::from_slice(&bytes).map_err(|e| corruption(format!("{col}: not a 16-byte uuid: {e}")))
}

fn opt_uuid_col(row: &SqliteRow, col: &str) -> Result<Option<Uuid>, EngineError> {
    let bytes: Option<Vec<u8>> = row.try_get(col).map_err(transport)?;
    bytes
        .map(|b| Uuid::from_slice(&b).map_err(|e| corruption(format!("{col}: not a 16-byte uuid: {e}"))))
        .transpose()
}

/// A TEXT JSON column (`raw_fields`, `policy`).
fn json_col(row: &SqliteRow, col: &str) -> Result<JsonValue, EngineError> {
    let text: String = row.try_get(col).map_err(transport)?;
    serde_json::from_str(&text).map_err(|e| corruption(format!("{col}: not valid JSON: {e}")))
}

fn raw_str<'a>(raw: &'a JsonValue, key: &str) -> Option<&'a str> {
    raw.get(key).and_then(|v| v.as_str())
}

/// Number or numeric string, as the Postgres decoder accepts.
fn raw_u64(raw: &JsonValue, key: &str) -> Option<u64> {
    raw.get(key).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

fn raw_u32(raw: &JsonValue, key: &str) -> Option<u32> {
    raw_u64(raw, key).and_then(|n| u32::try_from(n).ok())
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn eid_from_parts(part: i64, uuid: Uuid) -> Result<ExecutionId, EngineError> {
    let s = format!("{{fp:{part}}}:{uuid}");
    ExecutionId::parse(&s).map_err(|e| corruption(format!("could not reassemble execution id '{s}': {e}")))
}

fn partition_index(key: &PartitionKey, op: &str) -> Result<i64, EngineError> {
    let p = key.parse().map_err(|e| invalid(format!("{op}: partition '{key}': {e}")))?;
    Ok(i64::from(p.index))
}

/// Namespaced tags (`^[a-z][a-z0-9_]*\.`) stored at the top level of
/// `ff_flow_core.raw_fields`.
fn extract_tags(raw: &JsonValue) -> BTreeMap<String, String> {
    let Some(obj) = raw.as_object() else { return BTreeMap::new() };
    obj.iter()
        .filter(|(k, _)| is_namespaced_tag_key(k))
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
        .collect()
}

fn is_namespaced_tag_key(k: &str) -> bool {
    let mut chars = k.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_lowercase()) {
        return false;
    }
    for c in chars {
        if c == '.' {
            return true;
        }
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return false;
        }
    }
    false
}

fn parse_on_satisfied(v: &JsonValue) -> OnSatisfied {
    match v.get("on_satisfied").and_then(|x| x.as_str()) {
        Some("let_run") => OnSatisfied::LetRun,
        _ => OnSatisfied::CancelRemaining,
    }
}

/// `ff_edge_group.policy` JSON: `{"kind": "all_of"|"any_of"|"quorum", ...}`.
fn decode_edge_policy(v: &JsonValue) -> EdgeDependencyPolicy {
    match v.get("kind").and_then(|k| k.as_str()).unwrap_or("all_of") {
        "any_of" => EdgeDependencyPolicy::AnyOf { on_satisfied: parse_on_satisfied(v) },
        "quorum" => EdgeDependencyPolicy::Quorum {
            k: v.get("k").and_then(|x| x.as_u64()).and_then(|n| u32::try_from(n).ok()).unwrap_or(1),
            on_satisfied: parse_on_satisfied(v),
        },
        _ => EdgeDependencyPolicy::AllOf,
    }
}

fn decode_edge_group_row(row: &SqliteRow) -> Result<EdgeGroupSnapshot, EngineError> {
    let part: i64 = row.try_get("partition_key").map_err(transport)?;
    let downstream = eid_from_parts(part, uuid_col(row, "downstream_eid")?)?;
    let policy = decode_edge_policy(&json_col(row, "policy")?);
    let get = |c: &str| row.try_get::<i64, _>(c).map_err(transport);
    let (k_target, success, fail, skip, running) = (
        get("k_target")?,
        get("success_count")?,
        get("fail_count")?,
        get("skip_count")?,
        get("running_count")?,
    );
    // Stage A: total = success + fail + skip + running; satisfied once
    // k_target successes are in.
    let total = count(success) + count(fail) + count(skip) + count(running);
    let state =
        if k_target > 0 && success >= k_target { EdgeGroupState::Satisfied } else { EdgeGroupState::Pending };
    Ok(EdgeGroupSnapshot::new(
        downstream,
        policy,
        total,
        count(success),
        count(fail),
        count(skip),
        count(running),
        state,
    ))
}

/// `ff_edge.policy` JSON carries the immutable edge record.
fn decode_edge_row(row: &SqliteRow, flow_id: &FlowId) -> Result<EdgeSnapshot, EngineError> {
    let part: i64 = row.try_get("partition_key").map_err(transport)?;
    let policy = json_col(row, "policy")?;
    Ok(EdgeSnapshot::new(
        EdgeId::from_uuid(uuid_col(row, "edge_id")?),
        flow_id.clone(),
        eid_from_parts(part, uuid_col(row, "upstream_eid")?)?,
        eid_from_parts(part, uuid_col(row, "downstream_eid")?)?,
        raw_str(&policy, "dependency_kind").unwrap_or("success_only").to_owned(),
        raw_str(&policy, "satisfaction_condition").unwrap_or("all_required").to_owned(),
        raw_str(&policy, "data_passing_ref").filter(|s| !s.is_empty()).map(str::to_owned),
        raw_str(&policy, "edge_state").unwrap_or("pending").to_owned(),
        TimestampMs(raw_u64(&policy, "created_at_ms").map(|n| n as i64).unwrap_or(0)),
        raw_str(&policy, "created_by").unwrap_or("engine").to_owned(),
    ))
}

// ── flows ───────────────────────────────────────────────────────────

/// One flow row + its edge groups (ordered by downstream id).
pub(super) async fn describe_flow(
    pool: &SqlitePool,
    id: &FlowId,
) -> Result<Option<FlowSnapshot>, EngineError> {
    let flow_blob = blob(&id.0);
    let row = sqlx::query(
        "SELECT graph_revision, public_flow_state, created_at_ms, terminal_at_ms, raw_fields \
         FROM ff_flow_core WHERE partition_key = ?1 AND flow_id = ?2",
    )
    .bind(FLOW_PARTITION)
    .bind(&flow_blob)
    .fetch_optional(pool)
    .await
    .map_err(transport)?;
    let Some(row) = row else { return Ok(None) };

    let eg_rows = sqlx::query(
        "SELECT partition_key, downstream_eid, policy, k_target, success_count, fail_count, \
                skip_count, running_count \
         FROM ff_edge_group WHERE partition_key = ?1 AND flow_id = ?2 ORDER BY downstream_eid",
    )
    .bind(FLOW_PARTITION)
    .bind(&flow_blob)
    .fetch_all(pool)
    .await
    .map_err(transport)?;
    let edge_groups = eg_rows.iter().map(decode_edge_group_row).collect::<Result<Vec<_>, _>>()?;

    let public_flow_state: String = row.try_get("public_flow_state").map_err(transport)?;
    let graph_revision: i64 = row.try_get("graph_revision").map_err(transport)?;
    let created_at_ms: i64 = row.try_get("created_at_ms").map_err(transport)?;
    let terminal_at_ms: Option<i64> = row.try_get("terminal_at_ms").map_err(transport)?;
    let raw = json_col(&row, "raw_fields")?;
    Ok(Some(FlowSnapshot::new(
        id.clone(),
        raw_str(&raw, "flow_kind").unwrap_or("").to_owned(),
        Namespace::new(raw_str(&raw, "namespace").unwrap_or("default").to_owned()),
        public_flow_state,
        u64::try_from(graph_revision).unwrap_or(0),
        raw_u32(&raw, "node_count").unwrap_or(0),
        raw_u32(&raw, "edge_count").unwrap_or(0),
        TimestampMs(created_at_ms),
        TimestampMs(raw_u64(&raw, "last_mutation_at_ms").map(|n| n as i64).unwrap_or(created_at_ms)),
        terminal_at_ms.map(TimestampMs),
        raw_str(&raw, "cancel_reason").map(str::to_owned),
        raw_str(&raw, "cancellation_policy").map(str::to_owned),
        extract_tags(&raw),
        edge_groups,
    )))
}

/// Flows of one partition ordered by id; `cursor` is exclusive, and
/// `next_cursor` is the last id of a full page when more rows follow.
pub(super) async fn list_flows(
    pool: &SqlitePool,
    partition: PartitionKey,
    cursor: Option<FlowId>,
    limit: usize,
) -> Result<ListFlowsPage, EngineError> {
    if limit == 0 {
        return Ok(ListFlowsPage::new(Vec::new(), None));
    }
    let part = partition_index(&partition, "list_flows")?;
    let rows = sqlx::query(
        "SELECT flow_id, created_at_ms, public_flow_state FROM ff_flow_core \
         WHERE partition_key = ?1 AND (?2 IS NULL OR flow_id > ?2) \
         ORDER BY flow_id LIMIT ?3",
    )
    .bind(part)
    .bind(cursor.as_ref().map(|f| blob(&f.0)))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
    .fetch_all(pool)
    .await
    .map_err(transport)?;

    let mut flows = Vec::with_capacity(rows.len().min(limit));
    for row in rows.iter().take(limit) {
        let state: String = row.try_get("public_flow_state").map_err(transport)?;
        flows.push(FlowSummary::new(
            FlowId::from_uuid(uuid_col(row, "flow_id")?),
            TimestampMs(row.try_get("created_at_ms").map_err(transport)?),
            FlowStatus::from_public_flow_state(&state),
        ));
    }
    let next_cursor = if rows.len() > limit { flows.last().map(|f| f.flow_id.clone()) } else { None };
    Ok(ListFlowsPage::new(flows, next_cursor))
}

// ── edges ───────────────────────────────────────────────────────────

/// Edges out of (`Outgoing`) or into (`Incoming`) one execution of a
/// flow, ordered by edge id.
pub(super) async fn list_edges(
    pool: &SqlitePool,
    flow_id: &FlowId,
    direction: EdgeDirection,
) -> Result<Vec<EdgeSnapshot>, EngineError> {
    let (column, subject) = match &direction {
        EdgeDirection::Outgoing { from_node } => ("upstream_eid", from_node),
        EdgeDirection::Incoming { to_node } => ("downstream_eid", to_node),
    };
    let (_, subject_uuid) = split_eid(subject, "list_edges")?;
    let sql = format!(
        "SELECT partition_key, edge_id, upstream_eid, downstream_eid, policy FROM ff_edge \
         WHERE partition_key = ?1 AND flow_id = ?2 AND {column} = ?3 ORDER BY edge_id"
    );
    let rows = sqlx::query(&sql)
        .bind(FLOW_PARTITION)
        .bind(blob(&flow_id.0))
        .bind(blob(&subject_uuid))
        .fetch_all(pool)
        .await
        .map_err(transport)?;
    rows.iter().map(|r| decode_edge_row(r, flow_id)).collect()
}

/// One edge by flow + edge id; `Ok(None)` when absent.
pub(super) async fn describe_edge(
    pool: &SqlitePool,
    flow_id: &FlowId,
    edge_id: &EdgeId,
) -> Result<Option<EdgeSnapshot>, EngineError> {
    let row = sqlx::query(
        "SELECT partition_key, edge_id, upstream_eid, downstream_eid, policy FROM ff_edge \
         WHERE partition_key = ?1 AND flow_id = ?2 AND edge_id = ?3",
    )
    .bind(FLOW_PARTITION)
    .bind(blob(&flow_id.0))
    .bind(blob(&edge_id.0))
    .fetch_optional(pool)
    .await
    .map_err(transport)?;
    row.map(|r| decode_edge_row(&r, flow_id)).transpose()
}

// ── executions ──────────────────────────────────────────────────────

/// The [`ExecRow`] of one execution; `Ok(None)` when it is missing.
pub(super) async fn exec_row(pool: &SqlitePool, id: &ExecutionId) -> Result<Option<ExecRow>, EngineError> {
    let (part, exec_uuid) = split_eid(id, "describe_execution")?;
    sqlx::query_as(&exec_row_sql("hex(ec.flow_id)", "ec.raw_fields", "$2"))
        .bind(part)
        .bind(blob(&exec_uuid))
        .fetch_optional(pool)
        .await
        .map_err(transport)
}

/// Execution ids of one partition ordered by uuid, at most 1000 a page.
pub(super) async fn list_executions(
    pool: &SqlitePool,
    partition: PartitionKey,
    cursor: Option<ExecutionId>,
    limit: usize,
) -> Result<ListExecutionsPage, EngineError> {
    if limit == 0 {
        return Ok(ListExecutionsPage::new(Vec::new(), None));
    }
    let part = partition_index(&partition, "list_executions")?;
    let cursor_uuid =
        cursor.as_ref().map(|c| split_eid(c, "list_executions").map(|(_, u)| blob(&u))).transpose()?;
    let limit = limit.min(LIST_EXECUTIONS_MAX);
    let rows = sqlx::query(
        "SELECT execution_id FROM ff_exec_core \
         WHERE partition_key = ?1 AND (?2 IS NULL OR execution_id > ?2) \
         ORDER BY execution_id ASC LIMIT ?3",
    )
    .bind(part)
    .bind(cursor_uuid)
    .bind(limit as i64 + 1)
    .fetch_all(pool)
    .await
    .map_err(transport)?;

    let mut ids = rows
        .iter()
        .map(|r| eid_from_parts(part, uuid_col(r, "execution_id")?))
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = ids.len() > limit;
    ids.truncate(limit);
    let next_cursor = if has_more { ids.last().cloned() } else { None };
    Ok(ListExecutionsPage::new(ids, next_cursor))
}

/// The flow an execution belongs to; `Ok(None)` when the execution is
/// missing or standalone.
pub(super) async fn resolve_execution_flow_id(
    pool: &SqlitePool,
    eid: &ExecutionId,
) -> Result<Option<FlowId>, EngineError> {
    let (part, exec_uuid) = split_eid(eid, "resolve_execution_flow_id")?;
    let row = sqlx::query("SELECT flow_id FROM ff_exec_core WHERE partition_key = ?1 AND execution_id = ?2")
        .bind(part)
        .bind(blob(&exec_uuid))
        .fetch_optional(pool)
        .await
        .map_err(transport)?;
    match row {
        None => Ok(None),
        Some(r) => Ok(opt_uuid_col(&r, "flow_id")?.map(FlowId::from_uuid)),
    }
}

// ── admin listings ──────────────────────────────────────────────────

/// The global lane registry ordered by lane id; `cursor` is exclusive.
pub(super) async fn list_lanes(
    pool: &SqlitePool,
    cursor: Option<LaneId>,
    limit: usize,
) -> Result<ListLanesPage, EngineError> {
    if limit == 0 {
        return Ok(ListLanesPage::new(Vec::new(), None));
    }
    let rows = sqlx::query(
        "SELECT lane_id FROM ff_lane_registry WHERE (?1 IS NULL OR lane_id > ?1) \
         ORDER BY lane_id ASC LIMIT ?2",
    )
    .bind(cursor.as_ref().map(|l| l.as_str().to_owned()))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
    .fetch_all(pool)
    .await
    .map_err(transport)?;

    let mut lanes = Vec::with_capacity(rows.len().min(limit));
    for row in rows.iter().take(limit) {
        let raw: String = row.try_get("lane_id").map_err(transport)?;
        let lane = LaneId::try_new(raw.clone())
            .map_err(|e| corruption(format!("list_lanes: lane_id '{raw}' is not a valid LaneId: {e:?}")))?;
        lanes.push(lane);
    }
    let next_cursor = if rows.len() > limit { lanes.last().cloned() } else { None };
    Ok(ListLanesPage::new(lanes, next_cursor))
}

/// Suspended executions of one partition ordered by
/// `(suspended_at_ms, execution_id)`. The cursor's timestamp is re-read;
/// if its row is gone the page continues by id alone (as Postgres does).
pub(super) async fn list_suspended(
    pool: &SqlitePool,
    partition: PartitionKey,
    cursor: Option<ExecutionId>,
    limit: usize,
) -> Result<ListSuspendedPage, EngineError> {
    if limit == 0 {
        return Ok(ListSuspendedPage::new(Vec::new(), None));
    }
    let part = partition_index(&partition, "list_suspended")?;
    let cursor_uuid = cursor.as_ref().map(|c| split_eid(c, "list_suspended").map(|(_, u)| u)).transpose()?;
    let cursor_ms: Option<i64> = match &cursor_uuid {
        Some(u) => sqlx::query_scalar(
            "SELECT suspended_at_ms FROM ff_suspension_current WHERE partition_key = ?1 AND execution_id = ?2",
        )
        .bind(part)
        .bind(blob(u))
        .fetch_optional(pool)
        .await
        .map_err(transport)?,
        None => None,
    };
    let fetch_n = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    const COLS: &str = "SELECT execution_id, suspended_at_ms, reason_code FROM ff_suspension_current";
    const ORDER: &str = "ORDER BY suspended_at_ms ASC, execution_id ASC";
    let rows = match (cursor_ms, cursor_uuid) {
        (Some(ms), Some(u)) => {
            sqlx::query(&format!(
            "{COLS} WHERE partition_key = ?1 AND (suspended_at_ms, execution_id) > (?2, ?3) {ORDER} LIMIT ?4"
        ))
            .bind(part)
            .bind(ms)
            .bind(blob(&u))
            .bind(fetch_n)
            .fetch_all(pool)
            .await
        }
        (None, Some(u)) => {
            sqlx::query(&format!("{COLS} WHERE partition_key = ?1 AND execution_id > ?2 {ORDER} LIMIT ?3"))
                .bind(part)
                .bind(blob(&u))
                .bind(fetch_n)
                .fetch_all(pool)
                .await
        }
        _ => {
            sqlx::query(&format!("{COLS} WHERE partition_key = ?1 {ORDER} LIMIT ?2"))
                .bind(part)
                .bind(fetch_n)
                .fetch_all(pool)
                .await
        }
    }
    .map_err(transport)?;

    let mut entries = Vec::with_capacity(rows.len().min(limit));
    for row in rows.iter().take(limit) {
        let reason: Option<String> = row.try_get("reason_code").map_err(transport)?;
        entries.push(SuspendedExecutionEntry::new(
            eid_from_parts(part, uuid_col(row, "execution_id")?)?,
            row.try_get("suspended_at_ms").map_err(transport)?,
            reason.unwrap_or_default(),
        ));
    }
    let next_cursor = if rows.len() > limit { entries.last().map(|e| e.execution_id.clone()) } else { None };
    Ok(ListSuspendedPage::new(entries, next_cursor))
}

/// `SELECT 1` on the side pool: the liveness check behind `ping`.
pub(super) async fn ping(pool: &SqlitePool) -> Result<(), EngineError> {
    sqlx::query("SELECT 1").execute(pool).await.map(drop).map_err(transport)
}
