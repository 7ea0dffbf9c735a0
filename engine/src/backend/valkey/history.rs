//! One execution's history on Valkey, for its timeline: its attempts
//! (`ff:attempt:{fp:N}:<eid>:<index>` hashes, indexed by the execution's
//! `attempts` zset), its lease events (the per-execution stream
//! `…:lease:history`) and the signals it received (the zset
//! `ff:exec:{fp:N}:<eid>:signals`, scored by acceptance time, and each
//! signal's hash `ff:signal:{fp:N}:<sid>`). Two round trips: the zsets and
//! the stream's newest entries in one pipeline, then one `HMGET` per
//! attempt and signal listed (at most [`HISTORY_ATTEMPTS`] and
//! [`HISTORY_SIGNALS`]); every key on the execution's shard.
use ferriskey::{Client, Value};
use ff_core::keys::ExecKeyContext;
use ff_core::partition::{Partition, PartitionFamily};
use ff_core::types::{AttemptIndex, ExecutionId, SignalId};

use super::reply::{non_empty, pairs, stream_id_ms, text};
use crate::backend::{AttemptLine, History, LeaseMark, ReadError, SignalMark, HISTORY_ATTEMPTS, HISTORY_LEASES, HISTORY_SIGNALS};

/// The attempt fields read.
const FIELDS: [&str; 5] = ["attempt_state", "started_at", "ended_at", "worker_instance_id", "failure_reason"];

fn store(op: &'static str) -> impl Fn(ferriskey::Error) -> ReadError {
    move |e| ReadError::store(op, e)
}

pub async fn history(client: &Client, id: &ExecutionId) -> Result<History, ReadError> {
    let keys = ExecKeyContext::new(&Partition { family: PartitionFamily::Flow, index: id.partition() }, id);
    let mut p = client.pipeline();
    let indexes = p.cmd::<Vec<String>>("ZREVRANGE").arg(keys.attempts()).arg("0").arg((HISTORY_ATTEMPTS - 1).to_string()).finish();
    let stream = p.cmd::<Value>("XREVRANGE").arg(keys.lease_history()).arg("+").arg("-").arg("COUNT").arg(HISTORY_LEASES.to_string()).finish();
    let signals = p.cmd::<Vec<(String, f64)>>("ZRANGE").arg(keys.exec_signals()).arg("+inf").arg("-inf").arg("BYSCORE").arg("REV").arg("LIMIT").arg("0").arg(HISTORY_SIGNALS.to_string()).arg("WITHSCORES").finish();
    p.execute().await.map_err(store("execution history"))?;
    let signals: Vec<(SignalId, i64)> = signals
        .value()
        .map_err(store("execution signals"))?
        .into_iter()
        .filter_map(|(sid, at)| Some((SignalId::parse(&sid).ok()?, at as i64)))
        .collect();
    let indexes: Vec<u32> = indexes.value().map_err(store("execution attempts"))?.iter().filter_map(|i| i.parse().ok()).collect();
    let stream = stream.value().map_err(store("execution lease events"))?;
    let leases = pairs(&stream)
        .into_iter()
        .filter_map(|(entry, fields)| {
            let entry = text(entry)?;
            let fields: std::collections::HashMap<String, String> = pairs(fields).into_iter().filter_map(|(k, v)| Some((text(k)?, text(v)?))).collect();
            let event = non_empty(&fields, "event")?;
            let at = fields.get("ts").and_then(|t| t.parse::<f64>().ok()).map_or_else(|| stream_id_ms(&entry), |t| t as i64);
            Some(LeaseMark { at, event })
        })
        .collect();
    let mut attempts = Vec::new();
    let mut marks = Vec::new();
    if !indexes.is_empty() || !signals.is_empty() {
        let mut p = client.pipeline();
        let slots: Vec<_> = indexes
            .iter()
            .map(|i| {
                let mut cmd = p.cmd::<Vec<Option<String>>>("HMGET").arg(keys.attempt_hash(AttemptIndex::new(*i)));
                for f in FIELDS {
                    cmd = cmd.arg(f);
                }
                cmd.finish()
            })
            .collect();
        let signal_slots: Vec<_> = signals
            .iter()
            .map(|(sid, _)| p.cmd::<Vec<Option<String>>>("HMGET").arg(keys.signal(sid)).arg("signal_name").arg("source_type").arg("source_identity").finish())
            .collect();
        p.execute().await.map_err(store("execution attempts"))?;
        for ((_, at), slot) in signals.iter().zip(signal_slots) {
            let v = slot.value().map_err(store("execution signals"))?;
            let field = |i: usize| v.get(i).cloned().flatten().unwrap_or_default();
            marks.push(SignalMark { at: *at, name: field(0), source: source(&field(1), &field(2)) });
        }
        for (index, slot) in indexes.iter().zip(slots) {
            let v = slot.value().map_err(store("execution attempts"))?;
            let field = |i: usize| v.get(i).cloned().flatten().filter(|s| !s.is_empty());
            let num = |i: usize| field(i).and_then(|s| s.parse::<i64>().ok());
            attempts.push(AttemptLine {
                index: *index,
                outcome: field(0).filter(|s| s != "started").unwrap_or_default(),
                started_at: num(1),
                ended_at: num(2),
                worker: field(3).unwrap_or_default(),
                failure: field(4),
                lease_expires_at: None,
            });
        }
    }
    Ok(History { attempts, leases, signals: marks })
}

/// Who sent a signal, as the timeline names it (`type:identity`).
fn source(kind: &str, identity: &str) -> String {
    match (kind.is_empty(), identity.is_empty()) {
        (true, _) => identity.to_owned(),
        (false, true) => kind.to_owned(),
        (false, false) => format!("{kind}:{identity}"),
    }
}
