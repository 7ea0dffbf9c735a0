//! The board's audit log of operator actions, kept in the deployment's own
//! store beside the engine's data.
//!
//! Every action is written twice: the attempt ([`AuditLog::record_attempt`])
//! BEFORE the engine call, and its outcome ([`AuditLog::record_outcome`])
//! after it, so a crash or an engine failure still leaves a trace (an entry
//! with `outcome: None`, or `error: …`). The attempt also makes actions
//! idempotent: a second attempt with the same idempotency key, action and
//! target writes nothing and returns the first entry
//! ([`Recorded::Existing`]), race-free across tasks, tabs and board
//! instances.
//!
//! Storage, created by [`AuditLog::open`] when missing:
//! - SQLite / Postgres: the board's own table `ff_board_audit` (one row per
//!   attempt, the outcome filled in later), with a unique index on
//!   `(idempotency_key, action, target)` and indexes on `at_ms` and
//!   `target`;
//! - Valkey: the stream `ff_board:{audit}` (one entry per attempt; its
//!   stream id is the entry id), the hash `ff_board:{audit}:idem`
//!   (idempotency scope → entry id) and the hash `ff_board:{audit}:outcomes`
//!   (entry id → `"<outcome_at_ms> <outcome>"`). The keys share one hash tag
//!   so the Lua scripts that write them atomically also run on a cluster.
//!   Listing is one `XREVRANGE` plus one `HMGET` (more `XREVRANGE` pages
//!   only when filters skip entries).
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::connect::SideStore;

/// One audited operator action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub at_ms: i64,
    pub user: String,
    pub role: String,
    pub action: String,
    /// Flow / execution / budget / lease ids, space-separated if several.
    pub target: String,
    pub reason: String,
    pub idempotency_key: String,
    /// `None`: the attempt has not finished (yet); `"ok"` or `"ok: detail"`;
    /// `"error: <engine error text>"`.
    pub outcome: Option<String>,
    pub outcome_at_ms: Option<i64>,
}

/// What [`AuditLog::record_attempt`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// A new attempt was written: go ahead with the engine call.
    New(AuditEntry),
    /// The idempotency key was already used for this action and target:
    /// nothing was written; this is the earlier attempt (and its outcome).
    Existing(AuditEntry),
}

impl Recorded {
    pub fn entry(&self) -> &AuditEntry {
        match self {
            Recorded::New(e) | Recorded::Existing(e) => e,
        }
    }
}

/// Which entries [`AuditLog::list`] returns. `None` or an empty string
/// means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Exact user name.
    pub user: Option<String>,
    /// Exact action name.
    pub action: Option<String>,
    /// A substring of the target (a flow / execution / budget id).
    pub target_contains: Option<String>,
    /// At most this many entries (newest first).
    pub limit: usize,
}

/// The audit log on one store.
pub struct AuditLog {
    side: SideStore,
}

const TABLE_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ff_board_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        at_ms INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        outcome TEXT,
        outcome_at_ms INTEGER
    )",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_at_ms ON ff_board_audit (at_ms)",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_target ON ff_board_audit (target)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ff_board_audit_idem ON ff_board_audit (idempotency_key, action, target)",
];

const TABLE_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ff_board_audit (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        at_ms BIGINT NOT NULL,
        user_name TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        outcome TEXT,
        outcome_at_ms BIGINT
    )",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_at_ms ON ff_board_audit (at_ms)",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_target ON ff_board_audit (target)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ff_board_audit_idem ON ff_board_audit (idempotency_key, action, target)",
];

/// Advisory lock serialising concurrent `open`s on one Postgres database
/// (concurrent `CREATE TABLE IF NOT EXISTS` can otherwise fail).
const PG_SCHEMA_LOCK: i64 = 0x6666_5f62_6f61_7264; // "ff_board"

const COLUMNS: &str =
    "id, at_ms, user_name, role, action, target, reason, idempotency_key, outcome, outcome_at_ms";

const STREAM: &str = "ff_board:{audit}";
const IDEM: &str = "ff_board:{audit}:idem";
const OUTCOMES: &str = "ff_board:{audit}:outcomes";

/// KEYS: stream, idem, outcomes. ARGV: scope, at_ms, user, role, action,
/// target, reason, key. Returns `{"new", id}` or
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
  'action', ARGV[5], 'target', ARGV[6], 'reason', ARGV[7], 'idempotency_key', ARGV[8])
redis.call('HSET', KEYS[2], ARGV[1], id)
return {'new', id}
"#;

/// KEYS: stream, outcomes. ARGV: id, "<at_ms> <outcome>". Returns 0 when
/// there is no such entry.
const RECORD_OUTCOME_LUA: &str = r#"
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"#;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    at_ms: i64,
    user_name: String,
    role: String,
    action: String,
    target: String,
    reason: String,
    idempotency_key: String,
    outcome: Option<String>,
    outcome_at_ms: Option<i64>,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        AuditEntry {
            id: r.id,
            at_ms: r.at_ms,
            user: r.user_name,
            role: r.role,
            action: r.action,
            target: r.target,
            reason: r.reason,
            idempotency_key: r.idempotency_key,
            outcome: r.outcome,
            outcome_at_ms: r.outcome_at_ms,
        }
    }
}

impl AuditLog {
    /// Open the audit log on `side`, creating its storage if missing.
    pub async fn open(side: &SideStore) -> Result<AuditLog, String> {
        match side {
            SideStore::Sqlite(pool) => {
                for stmt in TABLE_SQLITE {
                    sqlx::query(stmt)
                        .execute(pool)
                        .await
                        .map_err(|e| format!("sqlite audit log: create table ff_board_audit: {e}"))?;
                }
            }
            SideStore::Postgres(pool) => {
                let fail = |e: sqlx::Error| format!("postgres audit log: create table ff_board_audit: {e}");
                let mut tx = pool.begin().await.map_err(fail)?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PG_SCHEMA_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                for stmt in TABLE_POSTGRES {
                    sqlx::query(stmt).execute(&mut *tx).await.map_err(fail)?;
                }
                tx.commit().await.map_err(fail)?;
            }
            SideStore::Valkey(client) => {
                // Streams and hashes appear on first write; check that
                // nothing else holds the names.
                for (key, want) in [(STREAM, "stream"), (IDEM, "hash"), (OUTCOMES, "hash")] {
                    let kind: String = client
                        .cmd("TYPE")
                        .arg(key)
                        .execute()
                        .await
                        .map_err(|e| format!("valkey audit log: check key {key}: {e}"))?;
                    if kind != "none" && kind != want {
                        return Err(format!(
                            "valkey audit log: key {key} holds a {kind}, expected a {want}"
                        ));
                    }
                }
            }
        }
        Ok(AuditLog { side: side.clone() })
    }

    /// Write an attempt before the engine call. If this idempotency key was
    /// already used for the same action and target, nothing is written and
    /// the earlier entry is returned as [`Recorded::Existing`].
    pub async fn record_attempt(
        &self,
        user: &str,
        role: &str,
        action: &str,
        target: &str,
        reason: &str,
        idempotency_key: &str,
    ) -> Result<Recorded, String> {
        if idempotency_key.is_empty() {
            return Err(format!("{} audit log: an idempotency key is required", self.store()));
        }
        let at_ms = now_ms();
        match &self.side {
            SideStore::Sqlite(pool) => {
                let id = uuid::Uuid::new_v4().to_string();
                // `OR IGNORE`, not `ON CONFLICT (…)`: SQLite checks a
                // conflict target against the connection's cached schema
                // when preparing, and a pooled connection that loaded the
                // schema before `open` added the index rejects it.
                let inserted = sqlx::query(
                    "INSERT OR IGNORE INTO ff_board_audit \
                     (id, at_ms, user_name, role, action, target, reason, idempotency_key) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(at_ms)
                .bind(user)
                .bind(role)
                .bind(action)
                .bind(target)
                .bind(reason)
                .bind(idempotency_key)
                .execute(pool)
                .await
                .map_err(|e| format!("sqlite audit log: record attempt: {e}"))?
                .rows_affected();
                let row: Row = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM ff_board_audit \
                     WHERE idempotency_key = ? AND action = ? AND target = ?"
                ))
                .bind(idempotency_key)
                .bind(action)
                .bind(target)
                .fetch_one(pool)
                .await
                .map_err(|e| format!("sqlite audit log: read attempt back: {e}"))?;
                Ok(recorded(inserted == 1, row.into()))
            }
            SideStore::Postgres(pool) => {
                let id = uuid::Uuid::new_v4().to_string();
                let new: Option<Row> = sqlx::query_as(&format!(
                    "INSERT INTO ff_board_audit \
                     (id, at_ms, user_name, role, action, target, reason, idempotency_key) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (idempotency_key, action, target) DO NOTHING \
                     RETURNING {COLUMNS}"
                ))
                .bind(&id)
                .bind(at_ms)
                .bind(user)
                .bind(role)
                .bind(action)
                .bind(target)
                .bind(reason)
                .bind(idempotency_key)
                .fetch_optional(pool)
                .await
                .map_err(|e| format!("postgres audit log: record attempt: {e}"))?;
                if let Some(row) = new {
                    return Ok(Recorded::New(row.into()));
                }
                let row: Row = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM ff_board_audit \
                     WHERE idempotency_key = $1 AND action = $2 AND target = $3"
                ))
                .bind(idempotency_key)
                .bind(action)
                .bind(target)
                .fetch_one(pool)
                .await
                .map_err(|e| format!("postgres audit log: read existing attempt: {e}"))?;
                Ok(Recorded::Existing(row.into()))
            }
            SideStore::Valkey(client) => {
                let scope = serde_json::to_string(&[idempotency_key, action, target])
                    .map_err(|e| format!("valkey audit log: encode idempotency scope: {e}"))?;
                let reply: Vec<String> = client
                    .cmd("EVAL")
                    .arg(RECORD_ATTEMPT_LUA)
                    .arg(3)
                    .arg(STREAM)
                    .arg(IDEM)
                    .arg(OUTCOMES)
                    .arg(scope)
                    .arg(at_ms.to_string())
                    .arg(user)
                    .arg(role)
                    .arg(action)
                    .arg(target)
                    .arg(reason)
                    .arg(idempotency_key)
                    .execute()
                    .await
                    .map_err(|e| format!("valkey audit log: record attempt: {e}"))?;
                match reply.as_slice() {
                    [tag, id] if tag == "new" => Ok(Recorded::New(AuditEntry {
                        id: id.clone(),
                        at_ms,
                        user: user.to_owned(),
                        role: role.to_owned(),
                        action: action.to_owned(),
                        target: target.to_owned(),
                        reason: reason.to_owned(),
                        idempotency_key: idempotency_key.to_owned(),
                        outcome: None,
                        outcome_at_ms: None,
                    })),
                    [tag, id, outcome, fields @ ..] if tag == "existing" => {
                        let mut entry = stream_entry(id, fields)?;
                        set_outcome(&mut entry, (!outcome.is_empty()).then_some(outcome.as_str()))?;
                        Ok(Recorded::Existing(entry))
                    }
                    other => Err(format!("valkey audit log: record attempt: unexpected reply {other:?}")),
                }
            }
        }
    }

    /// Write the outcome of an attempt after the engine call: `"ok"`,
    /// `"ok: detail"` or `"error: <engine error text>"`.
    pub async fn record_outcome(&self, id: &str, outcome: &str) -> Result<(), String> {
        let at_ms = now_ms();
        let updated = match &self.side {
            SideStore::Sqlite(pool) => {
                sqlx::query("UPDATE ff_board_audit SET outcome = ?, outcome_at_ms = ? WHERE id = ?")
                    .bind(outcome)
                    .bind(at_ms)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map_err(|e| format!("sqlite audit log: record outcome of {id}: {e}"))?
                    .rows_affected()
                    == 1
            }
            SideStore::Postgres(pool) => {
                sqlx::query("UPDATE ff_board_audit SET outcome = $1, outcome_at_ms = $2 WHERE id = $3")
                    .bind(outcome)
                    .bind(at_ms)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map_err(|e| format!("postgres audit log: record outcome of {id}: {e}"))?
                    .rows_affected()
                    == 1
            }
            SideStore::Valkey(client) => {
                is_stream_id(id)
                    && client
                        .cmd("EVAL")
                        .arg(RECORD_OUTCOME_LUA)
                        .arg(2)
                        .arg(STREAM)
                        .arg(OUTCOMES)
                        .arg(id)
                        .arg(format!("{at_ms} {outcome}"))
                        .execute::<i64>()
                        .await
                        .map_err(|e| format!("valkey audit log: record outcome of {id}: {e}"))?
                        == 1
            }
        };
        if updated {
            Ok(())
        } else {
            Err(format!("{} audit log: no audit entry {id:?} to record an outcome on", self.store()))
        }
    }

    /// Entries matching `filter`, newest first.
    pub async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, String> {
        let user = non_empty(&filter.user);
        let action = non_empty(&filter.action);
        let target = non_empty(&filter.target_contains);
        if filter.limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        match &self.side {
            SideStore::Sqlite(pool) => {
                let rows: Vec<Row> = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM ff_board_audit \
                     WHERE (? IS NULL OR user_name = ?) AND (? IS NULL OR action = ?) \
                     AND (? IS NULL OR instr(target, ?) > 0) \
                     ORDER BY at_ms DESC, seq DESC LIMIT ?"
                ))
                .bind(user)
                .bind(user)
                .bind(action)
                .bind(action)
                .bind(target)
                .bind(target)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(|e| format!("sqlite audit log: list: {e}"))?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
            SideStore::Postgres(pool) => {
                let rows: Vec<Row> = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM ff_board_audit \
                     WHERE ($1::text IS NULL OR user_name = $1) AND ($2::text IS NULL OR action = $2) \
                     AND ($3::text IS NULL OR strpos(target, $3) > 0) \
                     ORDER BY at_ms DESC, seq DESC LIMIT $4"
                ))
                .bind(user)
                .bind(action)
                .bind(target)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(|e| format!("postgres audit log: list: {e}"))?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
            SideStore::Valkey(client) => {
                let filtered = user.is_some() || action.is_some() || target.is_some();
                // Unfiltered: one page is the answer. Filtered: read larger
                // pages until enough entries match or the stream ends.
                let page = if filtered { filter.limit.clamp(256, 1024) } else { filter.limit.min(1024) };
                let mut out: Vec<AuditEntry> = Vec::new();
                let mut end = "+".to_owned();
                while out.len() < filter.limit {
                    let reply: ferriskey::Value = client
                        .cmd("XREVRANGE")
                        .arg(STREAM)
                        .arg(&end)
                        .arg("-")
                        .arg("COUNT")
                        .arg(page)
                        .execute()
                        .await
                        .map_err(|e| format!("valkey audit log: list: {e}"))?;
                    let rows = stream_rows(reply)?;
                    let Some((last, _)) = rows.last() else { break };
                    end = format!("({last}");
                    let full = rows.len() == page;
                    for (id, fields) in &rows {
                        let e = stream_entry(id, fields)?;
                        if user.is_none_or(|u| e.user == u)
                            && action.is_none_or(|a| e.action == a)
                            && target.is_none_or(|t| e.target.contains(t))
                        {
                            out.push(e);
                        }
                    }
                    if !full {
                        break;
                    }
                }
                out.truncate(filter.limit);
                if out.is_empty() {
                    return Ok(out);
                }
                let outcomes: Vec<Option<String>> = out
                    .iter()
                    .fold(client.cmd("HMGET").arg(OUTCOMES), |cmd, e| cmd.arg(&e.id))
                    .execute()
                    .await
                    .map_err(|e| format!("valkey audit log: read outcomes: {e}"))?;
                for (e, o) in out.iter_mut().zip(&outcomes) {
                    set_outcome(e, o.as_deref())?;
                }
                Ok(out)
            }
        }
    }

    fn store(&self) -> &'static str {
        match self.side {
            SideStore::Sqlite(_) => "sqlite",
            SideStore::Postgres(_) => "postgres",
            SideStore::Valkey(_) => "valkey",
        }
    }
}

fn recorded(new: bool, entry: AuditEntry) -> Recorded {
    if new {
        Recorded::New(entry)
    } else {
        Recorded::Existing(entry)
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
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
fn stream_rows(reply: ferriskey::Value) -> Result<Vec<(String, Vec<String>)>, String> {
    use ferriskey::Value;
    let bad = |what: &dyn std::fmt::Debug| format!("valkey audit log: unexpected stream reply {what:?}");
    fn flatten(v: Value, out: &mut Vec<String>) -> Result<(), String> {
        match v {
            Value::Array(items) => items.into_iter().try_for_each(|i| {
                flatten(i.map_err(|e| format!("valkey audit log: stream reply: {e}"))?, out)
            }),
            Value::Map(pairs) => pairs.into_iter().try_for_each(|(k, v)| {
                flatten(k, out)?;
                flatten(v, out)
            }),
            scalar => {
                out.push(
                    ferriskey::from_owned_value(scalar)
                        .map_err(|e| format!("valkey audit log: stream reply: {e}"))?,
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
                ferriskey::from_owned_value(id).map_err(|e| format!("valkey audit log: stream entry id: {e}"))?;
            let mut flat = Vec::new();
            flatten(fields, &mut flat)?;
            Ok((id, flat))
        })
        .collect()
}

/// An attempt from its stream entry's flat `field, value, …` list.
fn stream_entry(id: &str, fields: &[String]) -> Result<AuditEntry, String> {
    let get = |name: &str| {
        fields
            .chunks_exact(2)
            .find(|kv| kv[0] == name)
            .map(|kv| kv[1].clone())
            .ok_or_else(|| format!("valkey audit log: entry {id} lacks field {name}"))
    };
    Ok(AuditEntry {
        id: id.to_owned(),
        at_ms: get("at_ms")?
            .parse()
            .map_err(|e| format!("valkey audit log: entry {id} has a bad at_ms: {e}"))?,
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
fn set_outcome(entry: &mut AuditEntry, raw: Option<&str>) -> Result<(), String> {
    let Some(raw) = raw else { return Ok(()) };
    let (at, text) = raw
        .split_once(' ')
        .ok_or_else(|| format!("valkey audit log: malformed outcome of {}: {raw:?}", entry.id))?;
    entry.outcome_at_ms =
        Some(at.parse().map_err(|e| format!("valkey audit log: bad outcome time of {}: {e}", entry.id))?);
    entry.outcome = Some(text.to_owned());
    Ok(())
}
