//! A query of the board's language as WHERE terms of the execution page
//! statement, the same for Postgres and SQLite but for [`Dialect`]
//! spellings. Its meaning is [`crate::backend::search::matches`]; every
//! value is a bound parameter (tag keys, validated by the reader, are bound
//! too, as JSON paths on SQLite).
//!
//! A negated term is `NOT COALESCE(term, FALSE)`, so a row without the
//! field (no tag, not finished) is kept by `-tag:…` and `-finished:…`.
use ff_board_domain::query::{Clause, Pattern, Query as Search, Term, TimeTerm};

use super::{done_state, Bind, Dialect, Query, DONE, LIVE};
use crate::backend::public_state;

/// The WHERE terms of `search` at `now_ms`, binding into `query`.
pub fn terms(d: Dialect, search: &Search, now_ms: i64, query: &mut Query) -> Vec<String> {
    search.clauses.iter().map(|c| clause(d, c, now_ms, query)).collect()
}

fn clause(d: Dialect, c: &Clause, now_ms: i64, query: &mut Query) -> String {
    let t = term(d, &c.term, now_ms, query);
    if c.negated { format!("NOT COALESCE(({t}), FALSE)") } else { format!("({t})") }
}

fn any(parts: Vec<String>) -> String {
    if parts.is_empty() { "FALSE".to_owned() } else { parts.join(" OR ") }
}

fn text(query: &mut Query, s: &str) -> usize {
    query.bind(Bind::Text(s.to_owned()))
}

/// `LIKE` text for a prefix: `%`, `_` and `\` escaped (`ESCAPE '\'`).
fn like_prefix(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn names(col: &str, v: &[String], query: &mut Query) -> String {
    any(v.iter().map(|x| format!("{col} = ${}", text(query, x))).collect())
}

fn patterns(col: &str, ps: &[Pattern], query: &mut Query) -> String {
    any(ps
        .iter()
        .map(|p| match p {
            Pattern::Exact(x) => format!("{col} = ${}", text(query, x)),
            Pattern::Prefix(x) => {
                query.pin();
                format!("{col} LIKE ${} ESCAPE '\\'", text(query, &like_prefix(x)))
            }
        })
        .collect())
}

fn time(col: &str, t: &TimeTerm, now_ms: i64, query: &mut Query) -> String {
    let (from, until) = t.range(now_ms);
    let mut parts = vec![format!("{col} IS NOT NULL")];
    if let Some(f) = from {
        parts.push(format!("{col} >= ${}", query.bind(Bind::Int(f))));
    }
    if let Some(u) = until {
        parts.push(format!("{col} < ${}", query.bind(Bind::Int(u))));
    }
    parts.join(" AND ")
}

/// One state as the page statement decides it (terminal states recomputed,
/// see the parent module).
fn state(s: ff_core::state::PublicState) -> String {
    use ff_core::state::PublicState as P;
    match s {
        s if crate::backend::is_terminal(s) => format!("{DONE} AND ({}) = '{}'", done_state(), s.as_str()),
        P::Active => format!("{LIVE} AND ec.public_state IN ('active', 'running')"),
        s => format!("{LIVE} AND ec.public_state = '{}'", s.as_str()),
    }
}

/// Postgres: the positive `tag:key=value` terms of `search`, ANDed, as
/// the WHERE of a probe ([`super::tag_probe`]); `None` without any.
pub fn exact_tags(search: &Search, query: &mut Query) -> Option<String> {
    let terms: Vec<String> = search
        .clauses
        .iter()
        .filter(|c| !c.negated)
        .filter_map(|c| match &c.term {
            Term::Tag { key, value: Some(v) } => Some(tag(Dialect::Postgres, key, Some(v), query)),
            _ => None,
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// `tag:key` (`value: None`) or `tag:key=value`: containment on Postgres
/// (served by the GIN index `ff_board_exec_tags`), the JSON path on SQLite.
fn tag(d: Dialect, key: &str, value: Option<&str>, query: &mut Query) -> String {
    match (d, value) {
        (Dialect::Postgres, None) => format!("ec.raw_fields->'tags' ? ${}", text(query, key)),
        (Dialect::Postgres, Some(v)) => {
            let (k, v) = (text(query, key), text(query, v));
            format!("ec.raw_fields->'tags' @> jsonb_build_object(${k}::text, ${v}::text)")
        }
        (Dialect::Sqlite, value) => {
            let col = format!("json_extract(ec.raw_fields, ${})", text(query, &format!("$.tags.\"{key}\"")));
            match value {
                None => format!("{col} IS NOT NULL"),
                Some(v) => format!("{col} = ${}", text(query, v)),
            }
        }
    }
}

/// A bare word: the execution id's uuid from its start (`{fp:N}:` narrows
/// to that partition).
fn id(d: Dialect, word: &str, query: &mut Query) -> String {
    let (part, rest) = match word.strip_prefix("{fp:").and_then(|w| w.split_once("}:")) {
        Some((p, rest)) => match p.parse::<i64>() {
            Ok(p) => (Some(p), rest),
            Err(_) => return "FALSE".to_owned(),
        },
        None => (None, word),
    };
    let mut parts = Vec::new();
    if let Some(p) = part {
        query.pin();
        parts.push(format!("ec.partition_key = {}", d.part(query.bind(Bind::Int(p)))));
    }
    parts.push(uuid_prefix(d, "ec.execution_id", rest, query));
    parts.join(" AND ")
}

/// A uuid column from its start, case folded, dashes optional; `FALSE`
/// for a word that no uuid starts with.
fn uuid_prefix(d: Dialect, col: &str, word: &str, query: &mut Query) -> String {
    let folded = word.to_ascii_lowercase();
    if !folded.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return "FALSE".to_owned();
    }
    let hex: String = folded.chars().filter(|c| *c != '-').collect();
    // Postgres prints a uuid with dashes, SQLite's hex has none.
    let text_col = match d {
        Dialect::Postgres => format!("replace({col}::text, '-', '')"),
        Dialect::Sqlite => d.id(col),
    };
    query.pin();
    format!("{col} IS NOT NULL AND {text_col} LIKE ${} ESCAPE '\\'", text(query, &like_prefix(&hex)))
}

fn term(d: Dialect, t: &Term, now_ms: i64, query: &mut Query) -> String {
    match t {
        Term::State(states) => any(states.iter().filter_map(|s| public_state(*s)).map(|s| format!("({})", state(s))).collect()),
        // Flow states are no execution field: the reader refuses them here.
        Term::FlowState(_) => "TRUE".to_owned(),
        Term::Kind(ps) => patterns("ec.raw_fields->>'execution_kind'", ps, query),
        Term::FlowKind(ps) => format!(
            "EXISTS (SELECT 1 FROM ff_flow_core fc WHERE fc.partition_key = ec.partition_key AND fc.flow_id = ec.flow_id AND ({}))",
            patterns("CAST(fc.raw_fields->>'flow_kind' AS TEXT)", ps, query)
        ),
        Term::Lane(v) => names("ec.lane_id", v, query),
        Term::Ns(v) => names("CAST(ec.raw_fields->>'namespace' AS TEXT)", v, query),
        Term::Flow(v) => any(v.iter().map(|f| uuid_prefix(d, "ec.flow_id", f, query)).collect()),
        Term::Worker(v) => format!(
            "EXISTS (SELECT 1 FROM ff_attempt a WHERE a.partition_key = ec.partition_key AND a.execution_id = ec.execution_id AND ({}))",
            names("CAST(a.worker_instance_id AS TEXT)", v, query)
        ),
        Term::Tag { key, value } => tag(d, key, value.as_deref(), query),
        Term::Created(tt) => time("ec.created_at_ms", tt, now_ms, query),
        Term::Finished(tt) => time("ec.terminal_at_ms", tt, now_ms, query),
        Term::Attempts(cmp, n) => format!(
            "(SELECT COUNT(*) FROM ff_attempt a WHERE a.partition_key = ec.partition_key AND a.execution_id = ec.execution_id) {} ${}",
            if cmp.as_str().is_empty() { "=" } else { cmp.as_str() },
            query.bind(Bind::Int(i64::from(*n)))
        ),
        Term::Blocked(fams) => {
            let mut reasons: Vec<&str> = fams.iter().flat_map(|f| f.stored()).collect();
            reasons.sort_unstable();
            reasons.dedup();
            names("ec.blocking_reason", &reasons.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>(), query)
        }
        Term::Id(w) => id(d, w, query),
    }
}

/// The WHERE terms of a query on flows (`Scope::Flows`) at `now_ms`.
pub fn flow_terms(d: Dialect, search: &Search, now_ms: i64, query: &mut Query) -> Vec<String> {
    search
        .clauses
        .iter()
        .map(|c| {
            let t = flow_term(d, &c.term, now_ms, query);
            if c.negated { format!("NOT COALESCE(({t}), FALSE)") } else { format!("({t})") }
        })
        .collect()
}

fn flow_term(d: Dialect, t: &Term, now_ms: i64, query: &mut Query) -> String {
    match t {
        // Stored literals of a typed pick: constants, not input.
        Term::FlowState(picks) => {
            any(picks.iter().flat_map(|p| p.stored()).map(|s| format!("fc.public_flow_state = '{s}'")).collect())
        }
        Term::FlowKind(ps) => patterns("fc.raw_fields->>'flow_kind'", ps, query),
        Term::Ns(v) => names("fc.raw_fields->>'namespace'", v, query),
        Term::Created(tt) => time("fc.created_at_ms", tt, now_ms, query),
        Term::Finished(tt) => time("fc.terminal_at_ms", tt, now_ms, query),
        Term::Id(w) => uuid_prefix(d, "fc.flow_id", w, query),
        // The reader refuses every other field on flows.
        _ => "TRUE".to_owned(),
    }
}
