//! A query of the board's language (`ff_board_domain::query`,
//! `docs/SEARCH.md`) as the list reads carry it, and its meaning on one row.
//!
//! The SQL backends translate a query into their page statement
//! (`sql::search`); Valkey, which keeps no index for most terms, reads the
//! rows of its state indexes page by page and keeps those [`matches`]
//! accepts, within the bounded window of a filtered read
//! ([`super::MAX_SCAN`], the page then says it was cut short). [`matches`]
//! is therefore the reference meaning of every term, and the integration
//! tests hold each backend to it.
use std::sync::Arc;

use ff_board_domain::query::{Clause, Field, Pattern, Query, Term, TimeTerm};
use ff_board_domain::BlockingReason;

use super::{exec_state, ExecLine, FlowLine};

/// A parsed query with its canonical text (what the read cache keys on).
#[derive(Clone, Debug)]
pub struct Search {
    text: Arc<str>,
    query: Arc<Query>,
}

impl Search {
    pub fn new(query: Query) -> Search {
        Search { text: query.to_string().into(), query: Arc::new(query) }
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first field of this query outside `answered`, if any.
    pub fn unanswered(&self, answered: &[Field]) -> Option<Field> {
        self.query.clauses.iter().filter_map(|c| field_of(&c.term)).find(|f| !answered.contains(f))
    }
}

impl PartialEq for Search {
    fn eq(&self, other: &Search) -> bool {
        self.text == other.text
    }
}

impl Eq for Search {}

impl std::hash::Hash for Search {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

/// The field of a term (`None` for a bare id).
pub fn field_of(t: &Term) -> Option<Field> {
    Some(match t {
        Term::State(_) | Term::FlowState(_) => Field::State,
        Term::Kind(_) => Field::Kind,
        Term::FlowKind(_) => Field::FlowKind,
        Term::Lane(_) => Field::Lane,
        Term::Ns(_) => Field::Ns,
        Term::Flow(_) => Field::Flow,
        Term::Worker(_) => Field::Worker,
        Term::Tag { .. } => Field::Tag,
        Term::Created(_) => Field::Created,
        Term::Finished(_) => Field::Finished,
        Term::Attempts(..) => Field::Attempts,
        Term::Blocked(_) => Field::Blocked,
        Term::Id(_) => return None,
    })
}

/// Whether `line` satisfies every clause of `q` at `now_ms`. Terms a row
/// cannot answer (`flowkind`, `worker`) are refused before a read starts
/// ([`Search::unanswered`]); here they hold.
pub fn matches(q: &Query, line: &ExecLine, now_ms: i64) -> bool {
    q.clauses.iter().all(|c| clause(c, line, now_ms))
}

fn clause(c: &Clause, line: &ExecLine, now_ms: i64) -> bool {
    term(&c.term, line, now_ms) != c.negated
}

fn pattern(p: &Pattern, s: &str) -> bool {
    match p {
        Pattern::Exact(x) => s == x,
        Pattern::Prefix(x) => s.starts_with(x.as_str()),
    }
}

fn within(t: &TimeTerm, at: Option<i64>, now_ms: i64) -> bool {
    let Some(at) = at else { return false };
    let (from, until) = t.range(now_ms);
    from.is_none_or(|f| at >= f) && until.is_none_or(|u| at < u)
}

/// A bare word against an id: the whole id or the uuid after the
/// partition, from their start, case folded, dashes optional.
pub fn id_prefix(word: &str, id: &str) -> bool {
    let fold = |s: &str| s.to_ascii_lowercase().replace('-', "");
    let (w, full) = (fold(word), fold(id));
    let uuid = id.split_once("}:").map_or(full.clone(), |(_, u)| fold(u));
    !w.is_empty() && (full.starts_with(&w) || uuid.starts_with(&w))
}

fn term(t: &Term, l: &ExecLine, now_ms: i64) -> bool {
    match t {
        Term::State(states) => states.contains(&exec_state(l.state)),
        Term::FlowState(_) => true,
        // Answered by the store's statement where the row does not carry it.
        Term::FlowKind(ps) => l.flow_kind.as_ref().is_none_or(|k| ps.iter().any(|p| pattern(p, k))),
        Term::Worker(v) => l.workers.as_ref().is_none_or(|ws| ws.iter().any(|w| v.contains(w))),
        Term::Kind(ps) => ps.iter().any(|p| pattern(p, &l.kind)),
        Term::Lane(v) => v.contains(&l.lane),
        Term::Ns(v) => v.contains(&l.namespace),
        Term::Flow(v) => l.flow_id.as_ref().is_some_and(|f| v.iter().any(|x| id_prefix(x, f))),
        Term::Tag { key, value } => l.tags.iter().any(|(k, v)| k == key && value.as_ref().is_none_or(|want| want == v)),
        Term::Created(tt) => within(tt, Some(l.created_at), now_ms),
        Term::Finished(tt) => within(tt, l.finished_at, now_ms),
        Term::Attempts(cmp, n) => cmp.holds(l.attempts, *n),
        Term::Blocked(fams) => {
            l.blocking_reason.as_deref().and_then(BlockingReason::parse).and_then(|r| r.family()).is_some_and(|f| fams.contains(&f))
        }
        Term::Id(w) => id_prefix(w, l.id.as_str()),
    }
}

/// Whether a flow row satisfies every clause of `q` (a query of
/// `Scope::Flows`: state, flowkind, ns, created and an id; `finished:` is
/// refused before a read where the row has no finish time).
pub fn flow_matches(q: &Query, line: &FlowLine, now_ms: i64) -> bool {
    q.clauses.iter().all(|c| flow_term(&c.term, line, now_ms) != c.negated)
}

fn flow_term(t: &Term, l: &FlowLine, now_ms: i64) -> bool {
    match t {
        Term::FlowState(picks) => picks.iter().any(|p| p.stored().contains(&l.status.as_str())),
        Term::FlowKind(ps) => ps.iter().any(|p| pattern(p, &l.kind)),
        Term::Ns(v) => v.contains(&l.namespace),
        Term::Created(tt) => within(tt, Some(l.created_at), now_ms),
        Term::Id(w) => id_prefix(w, &l.id.to_string()),
        // Not a flow field (the reader refuses them on flows) or refused
        // before the read (`finished:` on a store without the time).
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_board_domain::query::Scope;
    use ff_core::state::PublicState;
    use ff_core::types::ExecutionId;

    fn line() -> ExecLine {
        ExecLine {
            id: ExecutionId::parse("{fp:7}:0b6e3c2a-1111-4222-8333-444455556666").unwrap(),
            flow_id: Some("9a0c1d2e-0000-4000-8000-000000000001".into()),
            lane: "deploy".into(),
            namespace: "payments".into(),
            state: PublicState::Failed,
            attempts: 3,
            created_at: 1_000_000,
            last_mutation_at: 1_500_000,
            finished_at: Some(1_600_000),
            blocking_reason: Some("waiting_for_budget".into()),
            kind: "render-pdfs".into(),
            tags: vec![("shop.order_id".into(), "A-1234".into())],
            flow_kind: Some("billing.invoice-run".into()),
            workers: Some(vec!["w-1".into(), "w-2".into()]),
        }
    }

    fn holds(text: &str) -> bool {
        matches(&Query::parse(text, Scope::Executions).unwrap(), &line(), 1_700_000)
    }

    #[test]
    fn each_term_means_what_the_docs_say() {
        for yes in [
            "state:failed,cancelled", "kind:render*", "kind:render-pdfs", "lane:deploy", "ns:payments", "flow:9a0c1d2e",
            "tag:shop.order_id", "tag:shop.order_id=A-1234", "created:<1000s", "finished:<2m", "attempts:>2", "attempts:3",
            "blocked:budget", "0b6e3c2a", "{fp:7}:0b6e", "0B6E3C2A-1111", "-state:completed", "-tag:shop.region",
            "flowkind:billing.invoice-run", "flowkind:billing*", "worker:w-2", "worker:w-9,w-1", "-worker:w-3", "-flowkind:deploy",
        ] {
            assert!(holds(yes), "{yes} should hold");
        }
        for no in [
            "state:completed", "kind:render", "kind:x*", "lane:batch", "ns:shop", "flow:ffff", "tag:shop.order_id=A-9",
            "tag:shop.region", "created:>1000s", "finished:>2m", "attempts:<3", "blocked:quota", "0b6f", "-kind:render*",
            "flowkind:deploy", "worker:w-3", "-worker:w-1", "-flowkind:billing*",
        ] {
            assert!(!holds(no), "{no} should not hold");
        }
        // A row read without them (the SQL statements answer these terms) is not refused by them.
        let bare = ExecLine { flow_kind: None, workers: None, ..line() };
        assert!(matches(&Query::parse("worker:w-3 flowkind:x", Scope::Executions).unwrap(), &bare, 1_700_000));
    }

    #[test]
    fn unanswered_fields_are_named() {
        let s = Search::new(Query::parse("lane:a worker:w1", Scope::Executions).unwrap());
        assert_eq!(s.unanswered(&[Field::Lane]), Some(Field::Worker));
        assert_eq!(s.unanswered(&[Field::Lane, Field::Worker]), None);
        assert_eq!(s, Search::new(Query::parse("lane:a  worker:w1", Scope::Executions).unwrap()));
    }
}
