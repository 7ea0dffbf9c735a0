//! Decoding of Valkey replies (RESP2 and RESP3 shapes alike) and the
//! small server probes the live readers share.
use std::collections::HashMap;
use std::time::Duration;

use ferriskey::{Client, TypedPipeline, Value};
use ff_core::partition::{Partition, PartitionFamily};

use crate::store_error::{Store, StoreError};

/// Deadline of every command or pipeline the live readers send: a shard
/// that stops answering (failover) fails the read, which is retried with
/// backoff, instead of stalling the reader.
pub(super) const CALL_DEADLINE: Duration = Duration::from_secs(5);

/// Execute `p` within [`CALL_DEADLINE`]; errors say `what`.
pub(super) async fn execute(p: &mut TypedPipeline, what: &'static str) -> Result<(), StoreError> {
    match tokio::time::timeout(CALL_DEADLINE, p.execute()).await {
        Ok(r) => r.map_err(StoreError::at(Store::Live, what)),
        Err(_) => Err(StoreError::timeout(Store::Live, what, CALL_DEADLINE)),
    }
}

pub(super) fn partition(index: u16) -> Partition {
    Partition { family: PartitionFamily::Flow, index }
}

// ── reply decoding ──────────────────────────────────────────────────────

pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Double(d) => Some(d.to_string()),
        Value::Okay => Some("OK".into()),
        _ => None,
    }
}

pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        Value::Int(i) => Some(*i as f64),
        other => text(other)?.parse().ok(),
    }
}

pub(super) fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().filter_map(|r| r.as_ref().ok()).collect(),
        Value::Set(s) => s.iter().collect(),
        _ => Vec::new(),
    }
}

/// Key/value pairs of a map, an array of 2-arrays, or a flat array.
pub(super) fn pairs(v: &Value) -> Vec<(&Value, &Value)> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| (k, v)).collect(),
        Value::Array(_) => {
            let all = items(v);
            let nested = !all.is_empty() && all.iter().all(|e| matches!(e, Value::Array(a) if a.len() == 2));
            if nested {
                all.into_iter()
                    .filter_map(|e| match e {
                        Value::Array(a) => Some((a[0].as_ref().ok()?, a[1].as_ref().ok()?)),
                        _ => None,
                    })
                    .collect()
            } else {
                all.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0], c[1])).collect()
            }
        }
        _ => Vec::new(),
    }
}

/// One stream entry: its id and fields.
pub(super) type Entry = (String, HashMap<String, String>);

/// An XREAD reply: per stream key, its entries.
pub(super) fn xread_entries(v: &Value) -> Vec<(String, Vec<Entry>)> {
    pairs(v)
        .into_iter()
        .filter_map(|(key, entries)| {
            let key = text(key)?;
            let entries = pairs(entries)
                .into_iter()
                .filter_map(|(id, fields)| {
                    let id = text(id)?;
                    let fields = pairs(fields).into_iter().filter_map(|(k, v)| Some((text(k)?, text(v)?))).collect();
                    Some((id, fields))
                })
                .collect();
            Some((key, entries))
        })
        .collect()
}

pub(super) fn stream_id_ms(id: &str) -> i64 {
    id.split('-').next().and_then(|ms| ms.parse().ok()).unwrap_or(0)
}

pub(super) fn non_empty(fields: &HashMap<String, String>, key: &str) -> Option<String> {
    fields.get(key).filter(|s| !s.is_empty()).cloned()
}

pub(super) async fn server_time_ms(client: &Client) -> Result<u64, StoreError> {
    let v: Value = tokio::time::timeout(CALL_DEADLINE, client.cmd("TIME").execute())
        .await
        .map_err(|_| StoreError::timeout(Store::Live, "TIME", CALL_DEADLINE))?
        .map_err(StoreError::at(Store::Live, "TIME"))?;
    let parts = items(&v);
    let secs: u64 = parts
        .first()
        .and_then(|v| text(v))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::invalid(Store::Live, "TIME", "bad reply"))?;
    let micros: u64 = parts.get(1).and_then(|v| text(v)).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(secs * 1000 + micros / 1000)
}

/// The server's `run_id` (standalone), or `None` on a cluster (each node
/// has its own); Err when the server does not answer within 2 s.
pub(super) async fn server_id(client: &Client, cluster: bool) -> Result<Option<String>, StoreError> {
    const PROBE_DEADLINE: Duration = Duration::from_secs(2);
    let probe = async {
        if cluster {
            let _: Value = client.cmd("PING").execute().await.map_err(StoreError::at(Store::Live, "PING"))?;
            return Ok(None);
        }
        let v: Value = client.cmd("INFO").arg("server").execute().await.map_err(StoreError::at(Store::Live, "INFO"))?;
        let info = text(&v).unwrap_or_default();
        Ok(info.lines().find_map(|l| l.strip_prefix("run_id:")).map(|s| s.trim().to_owned()))
    };
    tokio::time::timeout(PROBE_DEADLINE, probe)
        .await
        .unwrap_or_else(|_| Err(StoreError::timeout(Store::Live, "probe the server", PROBE_DEADLINE)))
}

pub(super) fn server_time_ms_of(v: &Value) -> Option<f64> {
    let parts = items(v);
    let secs: f64 = parts.first().and_then(|v| text(v))?.parse().ok()?;
    let micros: f64 = parts.get(1).and_then(|v| text(v)).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    Some(secs * 1000.0 + (micros / 1000.0).floor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xread_replies_in_both_protocols() {
        let b = |s: &str| Value::BulkString(s.as_bytes().to_vec().into());
        let arr = |v: Vec<Value>| Value::Array(v.into_iter().map(Ok).collect());
        let fields = arr(vec![b("event"), b("acquired"), b("ts"), b("5")]);
        let resp2 = arr(vec![arr(vec![b("k1"), arr(vec![arr(vec![b("5-0"), fields.clone()])])])]);
        let resp3 = Value::Map(vec![(b("k1"), arr(vec![arr(vec![b("5-0"), fields])]))]);
        for v in [resp2, resp3] {
            let got = xread_entries(&v);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].0, "k1");
            assert_eq!(got[0].1[0].0, "5-0");
            assert_eq!(got[0].1[0].1.get("event").map(String::as_str), Some("acquired"));
        }
        assert!(xread_entries(&Value::Nil).is_empty());
    }
}
