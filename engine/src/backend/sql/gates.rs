//! The SQL of gates: the stored suspensions and pending waitpoints of a
//! page of executions (one query each), a waitpoint's owner, and their
//! decoding into [`crate::gate::GateRows`].
use ff_core::types::ExecutionId;

use super::{uuid_text, Bind, Dialect, Query};
use crate::backend::ReadError;

/// Rows whose `(partition_key, execution_id)` is one of a page's ids: a
/// join to add after the table and a filter for its WHERE.
pub(super) struct Ids {
    pub join: String,
    pub filter: String,
}

/// `(partition_key, execution_id)` is one of `ids` (each once).
///
/// Postgres: a join to the ids as two arrays (`unnest`), one statement text
/// for any page, so its plan is kept ([`super::Plan::Generic`]): a nested
/// loop that finds each id in its own partition. Measured at 1M executions:
/// the OR of pairs it replaced, one text per page size, was planned at each
/// call (26–186 ms); `partition_key = ANY(…) AND execution_id = ANY(…)` was
/// kept but probed every id in every partition named (171 ms for a page of
/// 100 lease holders). SQLite (one partition): an OR of pairs.
pub(super) fn any_of(d: Dialect, alias: &str, ids: &[ExecutionId], query: &mut Query) -> Result<Ids, ReadError> {
    let mut pairs = Vec::with_capacity(ids.len());
    for id in ids {
        let (part, u) = crate::backend::filled::exec_row::split_eid(id, "read gates").map_err(|e| ReadError::store("read gates", e))?;
        pairs.push((part, u.to_string()));
    }
    pairs.sort_unstable();
    pairs.dedup();
    if pairs.is_empty() {
        return Ok(Ids { join: String::new(), filter: "1 = 0".to_owned() });
    }
    Ok(match d {
        Dialect::Postgres => {
            let parts: Vec<String> = pairs.iter().map(|(p, _)| p.to_string()).collect();
            let uuids: Vec<&str> = pairs.iter().map(|(_, u)| u.as_str()).collect();
            let np = query.bind(Bind::Text(format!("{{{}}}", parts.join(","))));
            let nu = query.bind(Bind::Text(format!("{{{}}}", uuids.join(","))));
            Ids {
                join: format!(
                    "JOIN unnest(CAST(${np} AS TEXT)::smallint[], CAST(${nu} AS TEXT)::uuid[]) AS page_ids(p, e) \
                     ON {alias}.partition_key = page_ids.p AND {alias}.execution_id = page_ids.e"
                ),
                filter: "TRUE".to_owned(),
            }
        }
        Dialect::Sqlite => {
            let terms: Vec<String> = pairs
                .into_iter()
                .map(|(p, u)| {
                    let (np, nu) = (query.bind(Bind::Int(p)), query.bind(Bind::Text(u)));
                    format!("({alias}.partition_key = {} AND {alias}.execution_id = {})", d.part(np), d.uuid(nu))
                })
                .collect();
            Ids { join: String::new(), filter: format!("({})", terms.join(" OR ")) }
        }
    })
}

/// The stored suspensions of `ids` (one query for a page of the inbox).
pub fn suspensions(d: Dialect, ids: &[ExecutionId]) -> Result<Query, ReadError> {
    let mut query = Query::default();
    let Ids { join, filter } = any_of(d, "s", ids, &mut query)?;
    query.sql = d.finish(format!(
        "SELECT CAST(s.partition_key AS BIGINT) AS part, {eid} AS eid, CAST(s.condition AS TEXT) AS condition, \
                CAST(s.member_map AS TEXT) AS member_map, s.timeout_at_ms, s.timeout_behavior, s.suspended_at_ms \
         FROM ff_suspension_current s {join} WHERE {filter}",
        eid = d.id("s.execution_id"),
    ));
    Ok(query.spanning())
}

/// The pending and active waitpoints of `ids` (one query; never the token).
pub fn pending(d: Dialect, ids: &[ExecutionId]) -> Result<Query, ReadError> {
    let mut query = Query::default();
    let Ids { join, filter } = any_of(d, "w", ids, &mut query)?;
    query.sql = d.finish(format!(
        "SELECT CAST(w.partition_key AS BIGINT) AS part, {eid} AS eid, {wid} AS wid, w.waitpoint_key, w.state, \
                CAST(w.required_signal_names AS TEXT) AS required, w.created_at_ms, w.expires_at_ms \
         FROM ff_waitpoint_pending w {join} WHERE {filter} AND w.state IN ('pending', 'active') \
         ORDER BY w.created_at_ms LIMIT 1000",
        eid = d.id("w.execution_id"),
        wid = d.id("w.waitpoint_id"),
    ));
    Ok(query.spanning())
}

/// A stored suspension row: whose, and the suspension.
#[derive(Debug, sqlx::FromRow)]
pub struct RawSuspension {
    pub part: i64,
    pub eid: String,
    #[sqlx(flatten)]
    pub stored: SuspensionRow,
}

/// A pending waitpoint row.
#[derive(Debug, sqlx::FromRow)]
pub struct RawPending {
    pub part: i64,
    pub eid: String,
    pub wid: String,
    pub waitpoint_key: String,
    pub state: String,
    pub required: Option<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
}

/// The `{fp:N}:<uuid>` of a row's partition and uuid text.
/// The execution that owns a pending waitpoint: `(part, eid)` (one row,
/// by the waitpoint's id; FlowFabric's `(partition_key, waitpoint_id)`
/// primary key does not help without the partition, so this reads the
/// pending-waitpoint table, small by nature).
pub fn waitpoint_owner(d: Dialect) -> String {
    d.finish(format!(
        "SELECT CAST(partition_key AS BIGINT) AS part, {eid} AS eid FROM ff_waitpoint_pending WHERE waitpoint_id = {wp} LIMIT 1",
        eid = d.id("execution_id"),
        wp = d.uuid(1),
    ))
}

/// An execution id from a partition and a stored uuid.
pub fn exec_id(part: i64, eid: &str) -> Option<ExecutionId> {
    ExecutionId::parse(&row_id(part, eid)?).ok()
}

pub(super) fn row_id(part: i64, eid: &str) -> Option<String> {
    Some(format!("{{fp:{part}}}:{}", uuid_text(eid).ok()??))
}

/// Names stored as a Postgres array (`{a,b}`) or a JSON list (`["a","b"]`).
fn names(raw: Option<&str>) -> Vec<String> {
    let raw = raw.unwrap_or_default().trim();
    if raw.starts_with('[') {
        return serde_json::from_str(raw).unwrap_or_default();
    }
    raw.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// One [`GateRows`](crate::gate::GateRows) per id, in the order of `ids`.
pub fn gate_rows(ids: &[ExecutionId], susp: Vec<RawSuspension>, pend: Vec<RawPending>) -> Vec<crate::gate::GateRows> {
    ids.iter()
        .map(|id| {
            let key = id.to_string();
            let gate = match susp.iter().find(|r| row_id(r.part, &r.eid).as_deref() == Some(key.as_str())) {
                None => Ok(None),
                Some(r) => r.stored.gate(id).map(Some),
            };
            let pending = pend
                .iter()
                .filter(|w| row_id(w.part, &w.eid).as_deref() == Some(key.as_str()))
                .map(|w| crate::gate::Pending {
                    waitpoint_id: uuid_text(&w.wid).ok().flatten().map(|u| u.to_string()).unwrap_or_else(|| w.wid.clone()),
                    waitpoint_key: w.waitpoint_key.clone(),
                    state: w.state.clone(),
                    created_at: w.created_at_ms,
                    expires_at: w.expires_at_ms,
                    required: names(w.required.as_deref()),
                })
                .collect();
            crate::gate::GateRows { gate, pending }
        })
        .collect()
}


/// One `ff_suspension_current` row as both SQL backends select it
/// (condition and member map as JSON text).
#[derive(Debug, sqlx::FromRow)]
pub struct SuspensionRow {
    condition: String,
    member_map: String,
    timeout_at_ms: Option<i64>,
    timeout_behavior: Option<String>,
    suspended_at_ms: i64,
}

impl SuspensionRow {
    /// The row as the gate of `id`.
    pub fn gate(&self, id: &ExecutionId) -> Result<crate::gate::Gate, crate::StoreError> {
        crate::gate::sql_gate(id, &self.condition, &self.member_map, self.timeout_at_ms, self.timeout_behavior.clone(), self.suspended_at_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_in_both_forms() {
        assert_eq!(names(Some("{a,\"b c\"}")), ["a", "b c"]);
        assert_eq!(names(Some("[\"a\"]")), ["a"]);
        assert!(names(None).is_empty());
    }
}
