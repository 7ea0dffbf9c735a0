//! The `ff_exec_core` row an execution's snapshot is built from, shared by
//! the SQLite and Postgres wrappers ([`super::Filled`]): its query (in
//! either dialect), its decoding through ff-core's own snapshot builder,
//! and the 0.15 terminal-state fix ([`crate::backend::state_fix`]).
use std::collections::HashMap;

use ff_core::contracts::decode::build_execution_snapshot;
use ff_core::contracts::ExecutionSnapshot;
use ff_core::engine_error::{EngineError, ValidationKind};
use ff_core::state::PublicState;
use ff_core::types::ExecutionId;
use serde_json::Value as JsonValue;
use uuid::Uuid;

pub(crate) fn corruption(detail: String) -> EngineError {
    EngineError::Validation { kind: ValidationKind::Corruption, detail }
}

pub(crate) fn invalid(detail: String) -> EngineError {
    EngineError::Validation { kind: ValidationKind::InvalidInput, detail }
}

/// `(partition, uuid)` of a `{fp:N}:<uuid>` execution id.
pub fn split_eid(eid: &ExecutionId, op: &str) -> Result<(i64, Uuid), EngineError> {
    let s = eid.as_str();
    let rest = s
        .strip_prefix("{fp:")
        .ok_or_else(|| invalid(format!("{op}: execution_id missing '{{fp:' prefix: {s}")))?;
    let close =
        rest.find("}:").ok_or_else(|| invalid(format!("{op}: execution_id missing '}}:' delimiter: {s}")))?;
    let part: u16 =
        rest[..close].parse().map_err(|_| invalid(format!("{op}: execution_id partition not a u16: {s}")))?;
    let uuid = Uuid::parse_str(&rest[close + 2..])
        .map_err(|e| invalid(format!("{op}: execution_id uuid suffix: {e}")))?;
    Ok((i64::from(part), uuid))
}

/// The `ff_exec_core` columns `describe_execution` is built from, plus
/// the current attempt's outcome, selected by [`exec_row_sql`]. Shared
/// by the SQLite and Postgres wrappers (`crate::backend::postgres::fill`).
#[derive(sqlx::FromRow)]
pub struct ExecRow {
    /// Text form of the flow uuid (hex on SQLite, where NULL reads `''`).
    flow_id: Option<String>,
    lane_id: String,
    public_state: String,
    lifecycle_phase: String,
    attempt_outcome: Option<String>,
    cancellation_reason: Option<String>,
    blocking_reason: Option<String>,
    created_at_ms: i64,
    /// JSON text.
    raw_fields: String,
}

/// The query behind [`ExecRow`], binding `$1` = partition and `$2` =
/// execution uuid (sqlx-sqlite accepts `$N` too). `flow_id_text`,
/// `raw_fields_text` and `exec_uuid` are the dialect's text form of
/// `ec.flow_id` and `ec.raw_fields`, and its comparand for `$2`.
pub fn exec_row_sql(flow_id_text: &str, raw_fields_text: &str, exec_uuid: &str) -> String {
    format!(
        "SELECT {flow_id_text} AS flow_id, ec.lane_id, ec.public_state, ec.lifecycle_phase, \
                ec.cancellation_reason, ec.blocking_reason, ec.created_at_ms, \
                {raw_fields_text} AS raw_fields, \
                (SELECT a.outcome FROM ff_attempt a \
                  WHERE a.partition_key = ec.partition_key AND a.execution_id = ec.execution_id \
                    AND a.attempt_index = ec.attempt_index) AS attempt_outcome \
         FROM ff_exec_core ec WHERE ec.partition_key = $1 AND ec.execution_id = {exec_uuid}"
    )
}

impl ExecRow {
    /// The row's state with the 0.15 terminal-state gap fixed
    /// (`crate::backend::state_fix::public_state`), as a `PublicState` literal.
    fn state_literal(&self) -> &str {
        crate::backend::state_fix::public_state(
            &self.public_state,
            &self.lifecycle_phase,
            self.attempt_outcome.as_deref(),
            self.cancellation_reason.as_deref(),
        )
    }

    /// The row's (fixed) public state.
    pub fn public_state(&self) -> Result<PublicState, EngineError> {
        let raw = self.state_literal();
        serde_json::from_value(JsonValue::String(raw.to_owned()))
            .map_err(|e| corruption(format!("exec_core: public_state '{raw}' is not a known value: {e}")))
    }

    /// The snapshot, decoded through ff-core's shared
    /// `build_execution_snapshot` from the same fields the Postgres
    /// backend feeds it, with two deliberate departures that make
    /// Postgres 0.15 fail with `Corruption` on rows it wrote itself: the
    /// flow id is given as the bare uuid `FlowId::parse` accepts
    /// (Postgres passes `{fp:N}:<uuid>`, which no flow member survives),
    /// and `public_state` is the fixed one of [`Self::public_state`]
    /// (Postgres passes the raw literal, and claimed rows say `running`).
    pub fn snapshot(self, id: &ExecutionId) -> Result<Option<ExecutionSnapshot>, EngineError> {
        let mut core: HashMap<String, String> = HashMap::new();
        core.insert("public_state".into(), self.state_literal().to_owned());
        if let Some(fid) = self.flow_id.as_deref().filter(|s| !s.is_empty()) {
            let fid = Uuid::parse_str(fid).map_err(|e| corruption(format!("flow_id: not a uuid: {e}")))?;
            core.insert("flow_id".into(), fid.to_string());
        }
        if let Some(r) = self.blocking_reason {
            core.insert("blocking_reason".into(), r);
        }
        core.insert("created_at".into(), self.created_at_ms.to_string());
        core.insert("lane_id".into(), self.lane_id);

        let raw: JsonValue = serde_json::from_str(&self.raw_fields)
            .map_err(|e| corruption(format!("raw_fields: not valid JSON: {e}")))?;
        for key in [
            "namespace",
            "last_mutation_at",
            "total_attempt_count",
            "current_attempt_id",
            "current_attempt_index",
            "current_waitpoint_id",
            "blocking_detail",
        ] {
            if let Some(JsonValue::String(s)) = raw.get(key) {
                core.insert(key.to_owned(), s.clone());
            }
        }
        let tags: HashMap<String, String> = match raw.get("tags") {
            Some(JsonValue::Object(m)) => {
                m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned()))).collect()
            }
            _ => HashMap::new(),
        };
        build_execution_snapshot(id.clone(), &core, tags)
    }
}

