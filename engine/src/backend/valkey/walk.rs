//! The k-way merge of Valkey's per-(partition, lane) state zsets: which
//! zsets hold which public state, the bounded `ZRANGE` each key gets, the
//! merge, and the cursor `family.score.id` that resumes it.
use ff_core::keys::IndexKeys;
use ff_core::state::PublicState;
use ff_core::types::{ExecutionId, LaneId};

use crate::backend::ReadError;

/// Entries fetched past a page per key, so that ties on the cursor's
/// score (executions indexed in the same millisecond) are skipped
/// without losing the rows after them.
const TIE_SLACK: usize = 16;

/// A per-lane state index of ff-backend-valkey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Active,
    Suspended,
    Eligible,
    Delayed,
    /// `blocked:route` and `blocked:operator` (public state `waiting`).
    BlockedWaiting,
    /// `blocked:budget` and `blocked:quota` (public state `rate_limited`).
    BlockedRate,
    /// `blocked:dependencies` (public state `waiting_children`).
    BlockedDeps,
    /// Finished executions, newest first.
    Terminal,
    /// One of the board's own index zsets (`super::index`), newest first;
    /// its keys come from the index, not from lanes.
    Indexed,
}

impl Family {
    /// The zsets that may hold executions in `state` (a superset: rows are
    /// checked against their stored state); all of them, live ones first,
    /// without a state.
    pub fn for_state(state: Option<PublicState>) -> Vec<Family> {
        use Family::*;
        match state {
            None => vec![Active, Suspended, Eligible, Delayed, BlockedWaiting, BlockedRate, BlockedDeps, Terminal],
            Some(PublicState::Active) => vec![Active],
            Some(PublicState::Suspended) => vec![Suspended],
            Some(PublicState::Waiting) => vec![Eligible, BlockedWaiting],
            Some(PublicState::Resumable) => vec![Eligible, Suspended],
            Some(PublicState::Delayed) => vec![Delayed],
            Some(PublicState::RateLimited) => vec![BlockedRate],
            Some(PublicState::WaitingChildren) => vec![BlockedDeps],
            Some(_) => vec![Terminal],
        }
    }

    /// Its keys in one partition for `lanes`.
    pub fn keys(self, idx: &IndexKeys, lanes: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for l in lanes {
            let lane = LaneId::new(l.as_str());
            match self {
                Family::Active => out.push(idx.lane_active(&lane)),
                Family::Suspended => out.push(idx.lane_suspended(&lane)),
                Family::Eligible => out.push(idx.lane_eligible(&lane)),
                Family::Delayed => out.push(idx.lane_delayed(&lane)),
                Family::Terminal => out.push(idx.lane_terminal(&lane)),
                Family::BlockedWaiting => out.extend([idx.lane_blocked_route(&lane), idx.lane_blocked_operator(&lane)]),
                Family::BlockedRate => out.extend([idx.lane_blocked_budget(&lane), idx.lane_blocked_quota(&lane)]),
                Family::BlockedDeps => out.push(idx.lane_blocked_dependencies(&lane)),
                Family::Indexed => {}
            }
        }
        out
    }

    fn descending(self) -> bool {
        matches!(self, Family::Terminal | Family::Indexed)
    }
}

/// An index entry: where it sits in the walk.
#[derive(Clone, Debug, PartialEq)]
pub struct Cand {
    /// Position of its family in the walk's family list.
    pub family: usize,
    pub score: f64,
    pub id: ExecutionId,
}

/// Queue `ZRANGE key <from> <end> BYSCORE [REV] LIMIT 0 n WITHSCORES`.
pub fn zrange(
    pipe: &mut ferriskey::TypedPipeline,
    family: Family,
    key: String,
    from: Option<&Cand>,
    n: usize,
) -> ferriskey::PipeSlot<Vec<(String, f64)>> {
    let start = from.map_or_else(|| if family.descending() { "+inf".into() } else { "-inf".into() }, |c| c.score.to_string());
    let end = if family.descending() { "-inf" } else { "+inf" };
    let mut cmd = pipe.cmd::<Vec<(String, f64)>>("ZRANGE").arg(key).arg(start).arg(end).arg("BYSCORE");
    if family.descending() {
        cmd = cmd.arg("REV");
    }
    cmd.arg("LIMIT").arg("0").arg((n + TIE_SLACK).to_string()).arg("WITHSCORES").finish()
}

/// Whether `(score, id)` comes after `from` in `family`'s order.
fn after(family: Family, score: f64, id: &str, from: &Cand) -> bool {
    let by_score = if family.descending() { from.score.total_cmp(&score) } else { score.total_cmp(&from.score) };
    by_score.then_with(|| id.cmp(from.id.as_str())).is_gt()
}

/// Merge the per-key answers: entries after `from`, in order, the first `n`.
pub fn merge(family: Family, all: Vec<(String, f64)>, from: Option<&Cand>, n: usize) -> Vec<Cand> {
    let mut out: Vec<Cand> = all
        .into_iter()
        .filter(|(id, score)| from.is_none_or(|f| after(family, *score, id, f)))
        .filter_map(|(id, score)| Some(Cand { family: 0, score, id: ExecutionId::parse(&id).ok()? }))
        .collect();
    out.sort_by(|a, b| {
        let s = if family.descending() { b.score.total_cmp(&a.score) } else { a.score.total_cmp(&b.score) };
        s.then_with(|| a.id.as_str().cmp(b.id.as_str()))
    });
    out.dedup_by(|a, b| a.id == b.id);
    out.truncate(n);
    out
}

/// How many entries each of `keys` zsets is first asked for, for a page of
/// `n`: twice its even share, at least one.
pub fn share(n: usize, keys: usize) -> usize {
    (2 * n).div_ceil(keys.max(1)).max(1)
}

/// The keys (indexes into `first`) that may hold entries of the page the
/// first read missed: a key that returned all it was asked (`share` plus
/// the tie slack) and whose last entry comes before the page's `n`-th
/// entry (or the page is not full).
pub fn short_keys(family: Family, first: &[Vec<(String, f64)>], share: usize, merged: &[Cand], n: usize) -> Vec<usize> {
    let bound = merged.get(n.saturating_sub(1)).filter(|_| merged.len() >= n);
    first
        .iter()
        .enumerate()
        .filter(|(_, got)| got.len() >= share + TIE_SLACK)
        .filter(|(_, got)| {
            let Some((id, score)) = got.last() else { return false };
            bound.is_none_or(|b| after(family, b.score, b.id.as_str(), &Cand { family: 0, score: *score, id: ExecutionId::parse(id).unwrap_or_else(|_| b.id.clone()) }))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The cursor of an entry: `family.scorebits.id` (score as its f64 bits in hex).
pub fn cursor(c: &Cand) -> String {
    format!("{}.{:x}.{}", c.family, c.score.to_bits(), c.id)
}

pub fn parse_cursor(raw: &str) -> Result<Cand, ReadError> {
    let bad = || ReadError::BadCursor(raw.to_owned());
    let [f, s, id] = crate::backend::parts::<3>(raw)?;
    Ok(Cand {
        family: f.parse().map_err(|_| bad())?,
        score: f64::from_bits(u64::from_str_radix(s, 16).map_err(|_| bad())?),
        id: ExecutionId::parse(id).map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> String {
        format!("{{fp:{n}}}:{}", uuid::Uuid::from_bytes([n; 16]))
    }

    #[test]
    fn merge_orders_and_resumes_after_ties() {
        let all = vec![(id(3), 5.0), (id(1), 5.0), (id(2), 1.0), (id(4), 9.0)];
        let first = merge(Family::Active, all.clone(), None, 2);
        assert_eq!(first.iter().map(|c| c.id.to_string()).collect::<Vec<_>>(), [id(2), id(1)]);
        let resumed = merge(Family::Active, all, Some(&first[1]), 5);
        assert_eq!(resumed.iter().map(|c| c.id.to_string()).collect::<Vec<_>>(), [id(3), id(4)]);
    }

    #[test]
    fn only_keys_that_ran_out_early_are_read_again() {
        let share = 1;
        let full = |ids: &[(u8, f64)]| ids.iter().map(|(i, s)| (id(*i), *s)).collect::<Vec<_>>();
        // Key 0 returned all it was asked and its last entry (score 2) is
        // before the page's last (score 9): it may hide more. Key 1's last
        // entry is past the page's end; key 2 returned less than asked.
        let first = vec![
            full(&[(1, 1.0), (2, 1.5), (3, 1.6), (4, 1.7), (5, 1.8), (6, 1.9), (7, 1.95), (8, 1.96), (9, 1.97), (10, 1.98), (11, 1.99), (12, 1.991), (13, 1.992), (14, 1.993), (15, 1.994), (16, 1.995), (17, 2.0)]),
            full(&[(20, 3.0), (21, 9.0), (22, 9.5), (23, 9.6), (24, 9.7), (25, 9.8), (26, 9.9), (27, 10.0), (28, 11.0), (29, 12.0), (30, 13.0), (31, 14.0), (32, 15.0), (33, 16.0), (34, 17.0), (35, 18.0), (36, 19.0)]),
            full(&[(40, 9.0)]),
        ];
        let all: Vec<(String, f64)> = first.iter().flatten().cloned().collect();
        let merged = merge(Family::Active, all, None, 20);
        assert_eq!(short_keys(Family::Active, &first, share, &merged, 20), vec![0]);
    }

    #[test]
    fn terminal_is_newest_first() {
        let all = vec![(id(1), 1.0), (id(2), 3.0), (id(3), 2.0)];
        let page = merge(Family::Terminal, all, None, 3);
        assert_eq!(page.iter().map(|c| c.score).collect::<Vec<_>>(), [3.0, 2.0, 1.0]);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cand { family: 2, score: 9999999999999.0, id: ExecutionId::parse(&id(7)).unwrap() };
        assert_eq!(parse_cursor(&cursor(&c)).unwrap(), c);
        assert!(parse_cursor("x.y.z").is_err());
        assert!(parse_cursor("1.zz").is_err());
    }
}
