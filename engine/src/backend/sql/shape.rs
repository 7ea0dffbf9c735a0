//! The shape of a page of executions where one query cannot bound it:
//! a rare tag value found by its own index first ([`tag_probe`],
//! [`Order::Sorted`]), and a recomputed terminal state read within a
//! window of finished rows ([`done_only`], [`done_window`]). Measured at
//! 1M executions on Postgres in `docs/BENCHMARKS.md`.
use super::{keyset, search, where_clause, Bind, Dialect, Query, DONE};
use crate::backend::{ExecQuery, ReadError};

/// Rows a `tag:key=value` may match for [`Order::Sorted`] to pay.
pub const RARE: i64 = 1000;

/// Postgres, a query with a positive `tag:key=value` term: how many rows
/// hold its exact tags (at most [`RARE`] + 1), read from the GIN index
/// alone. Postgres cannot tell a rare tag value (an order id: a handful of
/// rows) from a common one (a region: a quarter of the store), so it walks
/// the newest-first index and tests each row's tags: for an order id that
/// is every row, 880 ms at 1M executions. The probe tells which, for 5–10 ms.
pub fn tag_probe(d: Dialect, q: &ExecQuery) -> Option<Query> {
    if d != Dialect::Postgres {
        return None;
    }
    let mut query = Query::default();
    let tags = search::exact_tags(q.search.as_ref()?.query(), &mut query)?;
    let n = query.bind(Bind::Int(RARE + 1));
    query.sql = format!("SELECT CAST(count(*) AS BIGINT) FROM (SELECT 1 FROM ff_exec_core ec WHERE {tags} LIMIT ${n}) hits");
    Some(query.spanning())
}

/// How a page of executions is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Along the newest-first index, filtering as it goes: a page costs
    /// about as many rows as its terms skip.
    Index,
    /// The matching rows found by their own index (a rare tag's, see
    /// [`tag_probe`]), then sorted: a page costs the matches (≤ [`RARE`]).
    Sorted,
}

/// Finished rows one page of a recomputed terminal state looks at, at
/// most (as Valkey's scans: [`crate::backend::MAX_SCAN`]).
pub const DONE_WINDOW: usize = crate::backend::MAX_SCAN;

/// Whether every row `q` can match is a finished one whose state is
/// recomputed (`?state=failed`, `state:failed,expired`): no index holds
/// that state (`docs/READS.md`), so such a page reads finished rows newest
/// first until it fills, which for a state no row has is every finished
/// row (1.6 s at 1M executions on Postgres). Such a page is bounded by a
/// window of [`DONE_WINDOW`] finished rows ([`done_window`]).
pub fn done_only(q: &ExecQuery) -> bool {
    use ff_board_domain::query::Term;
    let terminal = |s: &ff_board_domain::ExecState| crate::backend::public_state(*s).is_some_and(crate::backend::is_terminal);
    q.state.is_some_and(crate::backend::is_terminal)
        || q.search.as_ref().is_some_and(|s| {
            s.query().clauses.iter().any(|c| !c.negated && matches!(&c.term, Term::State(v) if !v.is_empty() && v.iter().all(terminal)))
        })
}

/// The last row of the window a [`done_only`] page reads: the
/// [`DONE_WINDOW`]-th finished row after `after`, newest first, as a
/// cursor (`time.partition.uuid`); no row when fewer are left.
pub fn done_window(d: Dialect, after: Option<&str>) -> Result<Query, ReadError> {
    let mut query = Query::default();
    let mut terms = vec![DONE.to_owned()];
    if let Some(raw) = after {
        keyset(d, ["ec.created_at_ms", "ec.partition_key", "ec.execution_id"], "<", raw, &mut query, &mut terms)?;
    }
    let n = query.bind(Bind::Int(DONE_WINDOW as i64 - 1));
    query.sql = d.finish(format!(
        "SELECT ec.created_at_ms, CAST(ec.partition_key AS BIGINT) AS part, {eid} AS eid FROM ff_exec_core ec {} \
         ORDER BY ec.created_at_ms DESC, ec.partition_key DESC, ec.execution_id DESC LIMIT 1 OFFSET ${n}",
        where_clause(&terms),
        eid = d.id("ec.execution_id"),
    ));
    Ok(query.spanning())
}

#[cfg(test)]
mod tests {
    use super::super::executions;
    use super::*;
    use ff_core::state::PublicState;

    fn searching(q: &str) -> ExecQuery {
        use ff_board_domain::query::{Query as Parsed, Scope};
        let parsed = Parsed::parse(q, Scope::Executions).expect("query");
        ExecQuery { search: Some(crate::backend::search::Search::new(parsed)), ..Default::default() }
    }

    #[test]
    fn only_positive_exact_tags_are_probed_and_only_on_postgres() {
        let probe = tag_probe(Dialect::Postgres, &searching("state:waiting tag:shop.order_id=A-1 tag:shop.region=eu")).expect("probe");
        assert_eq!(probe.sql.matches("@>").count(), 2, "{}", probe.sql);
        assert!(probe.sql.contains("LIMIT $5"), "{}", probe.sql);
        assert!(tag_probe(Dialect::Postgres, &searching("-tag:shop.order_id=A-1")).is_none());
        assert!(tag_probe(Dialect::Postgres, &searching("tag:shop.order_id")).is_none());
        assert!(tag_probe(Dialect::Sqlite, &searching("tag:shop.order_id=A-1")).is_none());
        let sorted = executions(Dialect::Postgres, &searching("tag:shop.order_id=A-1"), None, 5, Order::Sorted, None).unwrap().sql;
        assert!(sorted.contains("ORDER BY ec.created_at_ms + 0 DESC"), "{sorted}");
    }

    #[test]
    fn only_pages_of_finished_rows_are_windowed() {
        assert!(done_only(&ExecQuery { state: Some(PublicState::Failed), ..Default::default() }));
        assert!(done_only(&searching("state:failed,expired lane:x")));
        assert!(!done_only(&searching("state:failed,waiting")), "a live state: not only finished rows");
        assert!(!done_only(&searching("-state:completed")), "a negated state matches live rows too");
        assert!(!done_only(&searching("lane:x")));
        let w = done_window(Dialect::Postgres, Some(&format!("5.3.{}", uuid::Uuid::nil()))).unwrap();
        assert!(w.sql.contains(DONE) && w.sql.ends_with("LIMIT 1 OFFSET $4"), "{}", w.sql);
        let floor = format!("2.1.{}", uuid::Uuid::nil());
        let page = executions(Dialect::Postgres, &searching("state:failed"), None, 5, Order::Index, Some(&floor)).unwrap().sql;
        assert!(page.contains(">= ($1, $2::smallint, $3::uuid)"), "{page}");
    }
}
