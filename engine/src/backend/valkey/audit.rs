//! The audit log on Valkey: the stream `ff_board:{audit}` (one entry per
//! attempt), the hash `ff_board:{audit}:idem` (idempotency scope → entry
//! id) and the hash `ff_board:{audit}:outcomes` (entry id →
//! `"<outcome_at_ms> <outcome>"`), written atomically by Lua (see
//! `crate::audit` for what is written when), and per subject (the id an
//! entry is about, `crate::audit::subject_of`) the zset
//! `ff_board:{audit}:subject:<id>` of its entry ids scored by time, so a
//! flow's or an execution's page reads its own entries (one `ZREVRANGE`
//! and one `XRANGE` per entry shown), never the whole stream. Entries
//! written before that index existed are added by [`backfill`], resumable
//! (its position in `ff_board:{audit}:subject_mark`) and paced. The keys
//! share one hash tag, so the scripts also run on a cluster.
use async_trait::async_trait;
use ferriskey::Client;

use crate::audit::{Attempt, AuditEntry, AuditStore, Recorded, Wanted};
use crate::store_error::{Store, StoreError};

const STREAM: &str = "ff_board:{audit}";
const IDEM: &str = "ff_board:{audit}:idem";
const OUTCOMES: &str = "ff_board:{audit}:outcomes";
/// The last stream id [`backfill`] indexed by subject.
const SUBJECT_MARK: &str = "ff_board:{audit}:subject_mark";
/// Entries [`backfill`] indexes per step, and its pause between steps
/// (at most 5,000 entries a second).
const BACKFILL_BATCH: usize = 500;
const BACKFILL_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// The zset of subject `s`'s entries.
fn subject_key(s: &str) -> String {
    format!("ff_board:{{audit}}:subject:{s}")
}

/// KEYS: stream, idem, outcomes, subject zset. ARGV: scope, at_ms, user,
/// role, action, target, reason, key. Returns `{"new", id}` or
/// `{"existing", id, outcome_or_empty, field, value, …}`.
const RECORD_ATTEMPT_LUA: &str = r#"
local id = redis.call('HGET', KEYS[2], ARGV[1])
if id then
  local found = redis.call('XRANGE', KEYS[1], id, id)
  if #found > 0 then
    local reply = {'existing', id, redis.call('HGET', KEYS[3], id) or ''}
    for _, v in ipairs(found[1][2]) do reply[#reply + 1] = v end
    return reply
  end
end
id = redis.call('XADD', KEYS[1], '*', 'at_ms', ARGV[2], 'user', ARGV[3], 'role', ARGV[4],
  'action', ARGV[5], 'target', ARGV[6], 'reason', ARGV[7], 'idempotency_key', ARGV[8], 'scope', ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], id)
redis.call('ZADD', KEYS[4], ARGV[2], id)
return {'new', id}
"#;

/// KEYS: stream, outcomes. ARGV: id, "<at_ms> <outcome>". Returns 0 when
/// there is no such entry.
const RECORD_OUTCOME_LUA: &str = r#"
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"#;


/// KEYS: stream, idem, outcomes. ARGV: cutoff stream id (exclusive),
/// count. Deletes the oldest entries before the cutoff with their outcome
/// and (when it still names them) their idempotency scope and their
/// subject index entry; returns how many.
const TRIM_LUA: &str = r#"
local rows = redis.call('XRANGE', KEYS[1], '-', '(' .. ARGV[1], 'COUNT', ARGV[2])
for _, r in ipairs(rows) do
  local f = r[2]
  for i = 1, #f, 2 do
    if f[i] == 'scope' and redis.call('HGET', KEYS[2], f[i + 1]) == r[1] then
      redis.call('HDEL', KEYS[2], f[i + 1])
    end
    if f[i] == 'target' then
      redis.call('ZREM', 'ff_board:{audit}:subject:' .. string.match(f[i + 1], '^[^ ]*'), r[1])
    end
  end
  redis.call('HDEL', KEYS[3], r[1])
  redis.call('XDEL', KEYS[1], r[1])
end
return #rows
"#;

/// The audit stream on a Valkey store.
pub struct ValkeyAudit {
    client: Client,
}

/// Open: streams and hashes appear on first write; check that nothing
/// else holds the names.
pub async fn open(client: &Client) -> Result<ValkeyAudit, StoreError> {
    for (key, want) in [(STREAM, "stream"), (IDEM, "hash"), (OUTCOMES, "hash")] {
        let kind: String = client
            .cmd("TYPE")
            .arg(key)
            .execute()
            .await
            .map_err(|e| StoreError::new(Store::Audit, "check keys", format!("{key}: {e}")))?;
        if kind != "none" && kind != want {
            return Err(StoreError::invalid(Store::Audit, "check keys", format!("key {key} holds a {kind}, expected a {want}")));
        }
    }
    // Entries written before the index by subject existed join it in the background.
    let c = client.clone();
    tokio::spawn(async move {
        match backfill(&c).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "audit entries indexed by subject"),
            Err(e) => tracing::warn!(error = %e, "audit entries not indexed by subject: a flow's or execution's page may miss older entries"),
        }
    });
    Ok(ValkeyAudit { client: client.clone() })
}

#[async_trait]
impl AuditStore for ValkeyAudit {
    async fn record_attempt(&self, at_ms: i64, a: Attempt<'_>) -> Result<Recorded, StoreError> {
        let scope = serde_json::to_string(&[a.idempotency_key, a.action, a.target])
            .map_err(StoreError::at(Store::Audit, "encode idempotency scope"))?;
        let reply: Vec<String> = self
            .client
            .cmd("EVAL")
            .arg(RECORD_ATTEMPT_LUA)
            .arg(4)
            .arg(STREAM)
            .arg(IDEM)
            .arg(OUTCOMES)
            .arg(subject_key(crate::audit::subject_of(a.target)))
            .arg(scope)
            .arg(at_ms.to_string())
            .arg(a.user)
            .arg(a.role)
            .arg(a.action)
            .arg(a.target)
            .arg(a.reason)
            .arg(a.idempotency_key)
            .execute()
            .await
            .map_err(StoreError::at(Store::Audit, "record attempt"))?;
        match reply.as_slice() {
            [tag, id] if tag == "new" => Ok(Recorded::New(a.entry(id.clone(), at_ms))),
            [tag, id, outcome, fields @ ..] if tag == "existing" => {
                let mut entry = stream_entry(id, fields)?;
                set_outcome(&mut entry, (!outcome.is_empty()).then_some(outcome.as_str()))?;
                Ok(Recorded::Existing(entry))
            }
            other => Err(StoreError::invalid(Store::Audit, "record attempt", format!("unexpected reply {other:?}"))),
        }
    }

    async fn record_outcome(&self, id: &str, at_ms: i64, outcome: &str) -> Result<bool, StoreError> {
        Ok(is_stream_id(id)
            && self
                .client
                .cmd("EVAL")
                .arg(RECORD_OUTCOME_LUA)
                .arg(2)
                .arg(STREAM)
                .arg(OUTCOMES)
                .arg(id)
                .arg(format!("{at_ms} {outcome}"))
                .execute::<i64>()
                .await
                .map_err(|e| StoreError::new(Store::Audit, "record outcome", format!("{id}: {e}")))?
                == 1)
    }

    async fn list(&self, wanted: Wanted<'_>) -> Result<Vec<AuditEntry>, StoreError> {
        let (client, limit) = (&self.client, wanted.limit);
        if let Some(subject) = wanted.subject {
            let out = self.by_subject(subject, wanted).await?;
            return self.with_outcomes(out).await;
        }
        // Unfiltered: one page is the answer. Filtered: read larger pages
        // until enough entries match or the stream ends.
        let page = if wanted.filtered() { limit.clamp(256, 1024) } else { limit.min(1024) };
        let mut out: Vec<AuditEntry> = Vec::new();
        let mut end = "+".to_owned();
        let mut scanned = 0;
        while out.len() < limit && scanned < crate::audit::MAX_SCANNED {
            let reply: ferriskey::Value = client
                .cmd("XREVRANGE")
                .arg(STREAM)
                .arg(&end)
                .arg("-")
                .arg("COUNT")
                .arg(page)
                .execute()
                .await
                .map_err(StoreError::at(Store::Audit, "list"))?;
            let rows = stream_rows(reply)?;
            let Some((last, _)) = rows.last() else { break };
            end = format!("({last}");
            let full = rows.len() == page;
            scanned += rows.len();
            for (id, fields) in &rows {
                let e = stream_entry(id, fields)?;
                if wanted.matches(&e) {
                    out.push(e);
                }
            }
            if !full {
                break;
            }
        }
        out.truncate(limit);
        self.with_outcomes(out).await
    }

    async fn trim(&self, before_ms: i64, max: usize) -> Result<usize, StoreError> {
        let n: i64 = self
            .client
            .cmd("EVAL")
            .arg(TRIM_LUA)
            .arg(3)
            .arg(STREAM)
            .arg(IDEM)
            .arg(OUTCOMES)
            .arg(format!("{}-0", before_ms.max(0)))
            .arg(max.to_string())
            .execute()
            .await
            .map_err(StoreError::at(Store::Audit, "trim"))?;
        Ok(n.max(0) as usize)
    }
}

impl ValkeyAudit {
    /// Subject `subject`'s entries matching `wanted`, newest first: its
    /// zset page by page, each page's entries in one pipeline of `XRANGE`s
    /// (an id whose entry was trimmed meanwhile is skipped).
    async fn by_subject(&self, subject: &str, wanted: Wanted<'_>) -> Result<Vec<AuditEntry>, StoreError> {
        let key = subject_key(subject);
        let page = wanted.limit.clamp(16, 512);
        let mut out = Vec::new();
        let mut from = 0usize;
        while out.len() < wanted.limit && from < crate::audit::MAX_SCANNED {
            let ids: Vec<String> = self
                .client
                .cmd("ZREVRANGE")
                .arg(&key)
                .arg(from.to_string())
                .arg((from + page - 1).to_string())
                .execute()
                .await
                .map_err(StoreError::at(Store::Audit, "list by subject"))?;
            if ids.is_empty() {
                break;
            }
            let mut pipe = self.client.pipeline();
            let slots: Vec<_> = ids.iter().map(|id| pipe.cmd::<ferriskey::Value>("XRANGE").arg(STREAM).arg(id.as_str()).arg(id.as_str()).finish()).collect();
            pipe.execute().await.map_err(StoreError::at(Store::Audit, "read entries by subject"))?;
            for slot in slots {
                let reply = slot.value().map_err(StoreError::at(Store::Audit, "read entries by subject"))?;
                for (id, fields) in stream_rows(reply)? {
                    let e = stream_entry(&id, &fields)?;
                    if wanted.matches(&e) && out.len() < wanted.limit {
                        out.push(e);
                    }
                }
            }
            if ids.len() < page {
                break;
            }
            from += page;
        }
        Ok(out)
    }

    /// `out` with their outcomes (one `HMGET`).
    async fn with_outcomes(&self, mut out: Vec<AuditEntry>) -> Result<Vec<AuditEntry>, StoreError> {
        let client = &self.client;
        if out.is_empty() {
            return Ok(out);
        }
        let outcomes: Vec<Option<String>> = out
            .iter()
            .fold(client.cmd("HMGET").arg(OUTCOMES), |cmd, e| cmd.arg(&e.id))
            .execute()
            .await
            .map_err(StoreError::at(Store::Audit, "read outcomes"))?;
        for (e, o) in out.iter_mut().zip(&outcomes) {
            set_outcome(e, o.as_deref())?;
        }
        Ok(out)
    }
}

/// Index by subject the entries written before the index existed: from
/// the stream's start (or where it stopped, `ff_board:{audit}:subject_mark`)
/// to its end, [`BACKFILL_BATCH`] entries a step, [`BACKFILL_PAUSE`]
/// between steps. Idempotent (`ZADD`), so replicas running it at once,
/// or a restart, only repeat work; how many entries it went through.
pub async fn backfill(client: &Client) -> Result<usize, StoreError> {
    let fail = |op| StoreError::at(Store::Audit, op);
    let mut done = 0;
    loop {
        let mark: Option<String> = client.cmd("GET").arg(SUBJECT_MARK).execute().await.map_err(fail("read the subject mark"))?;
        let from = mark.map_or_else(|| "-".to_owned(), |m| format!("({m}"));
        let reply: ferriskey::Value =
            client.cmd("XRANGE").arg(STREAM).arg(from).arg("+").arg("COUNT").arg(BACKFILL_BATCH).execute().await.map_err(fail("read entries to index"))?;
        let rows = stream_rows(reply)?;
        let Some((last, _)) = rows.last().cloned() else { return Ok(done) };
        let mut pipe = client.pipeline();
        for (id, fields) in &rows {
            let e = stream_entry(id, fields)?;
            let _ = pipe.cmd::<i64>("ZADD").arg(subject_key(crate::audit::subject_of(&e.target))).arg(e.at_ms.to_string()).arg(id.as_str()).finish();
        }
        let _ = pipe.cmd::<String>("SET").arg(SUBJECT_MARK).arg(last.as_str()).finish();
        pipe.execute().await.map_err(fail("index entries by subject"))?;
        done += rows.len();
        if rows.len() < BACKFILL_BATCH {
            return Ok(done);
        }
        tokio::time::sleep(BACKFILL_PAUSE).await;
    }
}

/// `<ms>-<seq>`, the only ids the Valkey audit stream holds.
fn is_stream_id(id: &str) -> bool {
    id.split_once('-').is_some_and(|(ms, seq)| {
        [ms, seq].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// `(id, [field, value, …])` rows of an `XRANGE` / `XREVRANGE` reply, which
/// the client hands over as an array of `[id, fields]` or as a map
/// `id → fields`, with the fields flat or as pairs.
fn stream_rows(reply: ferriskey::Value) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    use ferriskey::Value;
    let bad = |what: &dyn std::fmt::Debug| StoreError::invalid(Store::Audit, "read stream", format!("unexpected stream reply {what:?}"));
    fn flatten(v: Value, out: &mut Vec<String>) -> Result<(), StoreError> {
        match v {
            Value::Array(items) => items.into_iter().try_for_each(|i| {
                flatten(i.map_err(StoreError::at(Store::Audit, "stream reply"))?, out)
            }),
            Value::Map(pairs) => pairs.into_iter().try_for_each(|(k, v)| {
                flatten(k, out)?;
                flatten(v, out)
            }),
            scalar => {
                out.push(
                    ferriskey::from_owned_value(scalar)
                        .map_err(StoreError::at(Store::Audit, "stream reply"))?,
                );
                Ok(())
            }
        }
    }
    let pairs: Vec<(Value, Value)> = match reply {
        Value::Nil => Vec::new(),
        Value::Map(pairs) => pairs,
        Value::Array(items) => items
            .into_iter()
            .map(|row| match row {
                Ok(Value::Array(mut parts)) if parts.len() == 2 => {
                    let fields = parts.pop().expect("two parts");
                    let id = parts.pop().expect("two parts");
                    match (id, fields) {
                        (Ok(id), Ok(fields)) => Ok((id, fields)),
                        other => Err(bad(&other)),
                    }
                }
                other => Err(bad(&other)),
            })
            .collect::<Result<_, _>>()?,
        other => return Err(bad(&other)),
    };
    pairs
        .into_iter()
        .map(|(id, fields)| {
            let id: String =
                ferriskey::from_owned_value(id).map_err(StoreError::at(Store::Audit, "stream entry id"))?;
            let mut flat = Vec::new();
            flatten(fields, &mut flat)?;
            Ok((id, flat))
        })
        .collect()
}

/// An attempt from its stream entry's flat `field, value, …` list.
fn stream_entry(id: &str, fields: &[String]) -> Result<AuditEntry, StoreError> {
    let get = |name: &str| {
        fields
            .chunks_exact(2)
            .find(|kv| kv[0] == name)
            .map(|kv| kv[1].clone())
            .ok_or_else(|| StoreError::invalid(Store::Audit, "read entry", format!("entry {id} lacks field {name}")))
    };
    Ok(AuditEntry {
        id: id.to_owned(),
        at_ms: get("at_ms")?
            .parse()
            .map_err(|e| StoreError::invalid(Store::Audit, "read entry", format!("entry {id} has a bad at_ms: {e}")))?,
        user: get("user")?,
        role: get("role")?,
        action: get("action")?,
        target: get("target")?,
        reason: get("reason")?,
        idempotency_key: get("idempotency_key")?,
        outcome: None,
        outcome_at_ms: None,
    })
}

/// Fill an entry's outcome from its `"<at_ms> <outcome>"` hash value.
fn set_outcome(entry: &mut AuditEntry, raw: Option<&str>) -> Result<(), StoreError> {
    let Some(raw) = raw else { return Ok(()) };
    let (at, text) = raw
        .split_once(' ')
        .ok_or_else(|| StoreError::invalid(Store::Audit, "read outcome", format!("malformed outcome of {}: {raw:?}", entry.id)))?;
    entry.outcome_at_ms = Some(at.parse().map_err(|e| {
        StoreError::invalid(Store::Audit, "read outcome", format!("bad outcome time of {}: {e}", entry.id))
    })?);
    entry.outcome = Some(text.to_owned());
    Ok(())
}
