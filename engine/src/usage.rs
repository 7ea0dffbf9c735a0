//! Budget usage over time, sampled by the board (the engine keeps only the
//! current usage: `get_budget_status`). Every read of a budget's status the
//! board makes is recorded, and [`sample_every_minute`] reads the budget
//! list once a minute so the series has no holes while nobody watches
//! (one `budget_ids` read and at most [`MAX_BUDGETS`] status reads a
//! minute). One value per dimension per minute (the last), [`MINUTES`]
//! minutes, at most [`MAX_BUDGETS`] budgets: bounded memory.
//!
//! Several replicas sample once between them: each minute one replica
//! takes the minute's shared allowance (`crate::allowance`, "usage-sample",
//! one a minute), reads the engine and keeps the minute's samples in the
//! store (`SideStore::put_usage`: a hash per minute on Valkey, the table
//! `ff_board_usage` on SQL, an hour kept); every replica records the
//! previous minute's samples from the store into its own series, so every
//! replica's charts have every minute (the newest one a minute late on the
//! replicas that did not sample it).
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

/// Minutes kept per budget.
pub const MINUTES: usize = 60;
/// Budgets sampled at most (the board lists at most this many).
pub const MAX_BUDGETS: usize = 200;
/// How long the store keeps a minute's samples (an hour and a minute).
pub const KEPT_MS: i64 = (MINUTES as i64 + 1) * 60_000;
/// The shared allowance one replica takes to sample a minute.
const SAMPLER: &str = "usage-sample";

/// One sample: minute start (ms) and usage per dimension.
pub type Sample = (i64, BTreeMap<String, u64>);

#[derive(Default)]
pub struct Usage {
    budgets: Mutex<HashMap<String, VecDeque<Sample>>>,
}

/// The process-wide samples.
pub fn global() -> &'static Usage {
    static U: OnceLock<Usage> = OnceLock::new();
    U.get_or_init(Usage::default)
}

impl Usage {
    /// Record `usage` of `budget` read at `at` (ms). The newest minute
    /// takes the last value; an earlier minute is only filled where it
    /// has none (a late answer does not rewrite it; another replica's
    /// sample fills a hole).
    pub fn record(&self, budget: &str, at: i64, usage: &BTreeMap<String, u64>) {
        let minute = minute_of(at);
        let mut all = self.budgets.lock().expect("usage lock");
        if !all.contains_key(budget) && all.len() >= MAX_BUDGETS {
            return;
        }
        let series = all.entry(budget.to_owned()).or_default();
        match series.back_mut() {
            Some((m, u)) if *m == minute => *u = usage.clone(),
            Some((m, _)) if *m > minute => {
                if let Err(at) = series.binary_search_by_key(&minute, |(m, _)| *m) {
                    series.insert(at, (minute, usage.clone()));
                }
            }
            _ => series.push_back((minute, usage.clone())),
        }
        let newest = series.back().map_or(minute, |(m, _)| *m);
        while series.front().is_some_and(|(m, _)| *m <= newest - MINUTES as i64 * 60_000) {
            series.pop_front();
        }
    }

    /// The samples of `budget` in the hour up to `now`, oldest first.
    pub fn last_hour(&self, budget: &str, now: i64) -> Vec<Sample> {
        let from = now - now.rem_euclid(60_000) - (MINUTES as i64 - 1) * 60_000;
        let all = self.budgets.lock().expect("usage lock");
        all.get(budget).map(|s| s.iter().filter(|(m, _)| *m >= from).cloned().collect()).unwrap_or_default()
    }
}

/// What one replica's minute of sampling did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sampled {
    /// This replica read the engine: the budgets sampled, kept in the store.
    Here(usize),
    /// Another replica holds this minute.
    Elsewhere,
}

/// The minute `at` falls in.
fn minute_of(at: i64) -> i64 {
    at - at.rem_euclid(60_000)
}

/// Sample the minute of `now` when this replica takes its allowance (or
/// the store cannot say: better twice than never): every budget's status,
/// recorded here and kept in the store for the other replicas.
pub async fn sample_once(c: &crate::connect::Connected, now: i64) -> Result<Sampled, crate::store_error::StoreError> {
    use crate::allowance::{take, Allowance};
    let deadline = std::time::Duration::from_secs(20);
    match tokio::time::timeout(deadline, take(&c.side, SAMPLER, 1, 1, 60_000, now)).await {
        Ok(Ok(Allowance::Refused { .. })) => return Ok(Sampled::Elsewhere),
        Ok(Ok(Allowance::Taken { .. })) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "usage sampling: shared allowance unreadable; sampling here"),
        Err(_) => tracing::warn!("usage sampling: shared allowance did not answer; sampling here"),
    }
    let ids = match tokio::time::timeout(deadline, c.reads.budget_ids()).await {
        Ok(Ok(ids)) => ids,
        _ => return Ok(Sampled::Here(0)),
    };
    let mut rows = Vec::new();
    for id in ids.into_iter().take(MAX_BUDGETS) {
        if let Ok(Ok(s)) = tokio::time::timeout(deadline, c.backend.get_budget_status(&id)).await {
            let usage: BTreeMap<String, u64> = s.usage.into_iter().collect();
            global().record(&s.budget_id, now, &usage);
            rows.push((s.budget_id, serde_json::to_string(&usage).unwrap_or_default()));
        }
    }
    let n = rows.len();
    tokio::time::timeout(deadline, c.side.put_usage(minute_of(now), &rows))
        .await
        .map_err(|_| crate::store_error::StoreError::timeout(crate::store_error::Store::Usage, "write", deadline))??;
    Ok(Sampled::Here(n))
}

/// The samples the store keeps for the minute of `at` (any replica's).
pub async fn shared(c: &crate::connect::Connected, at: i64) -> Result<Vec<(String, BTreeMap<String, u64>)>, crate::store_error::StoreError> {
    let rows = c.side.usage_at(minute_of(at)).await?;
    Ok(rows.into_iter().filter_map(|(b, u)| Some((b, serde_json::from_str(&u).ok()?))).collect())
}

/// Once a minute, forever: record the previous minute's samples from the
/// store (whichever replica took them), then sample this minute if this
/// replica takes it ([`sample_once`]).
pub fn sample_every_minute(c: crate::connect::Connected) {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs(60);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = ff_core::types::TimestampMs::now().0;
            let before = minute_of(now) - 60_000;
            match tokio::time::timeout(std::time::Duration::from_secs(20), shared(&c, before)).await {
                Ok(Ok(rows)) => rows.iter().for_each(|(b, u)| global().record(b, before, u)),
                Ok(Err(e)) => tracing::warn!(error = %e, "usage sampling: the store's samples unreadable"),
                Err(_) => tracing::warn!("usage sampling: the store's samples did not answer"),
            }
            if let Err(e) = sample_once(&c, now).await {
                tracing::warn!(error = %e, "usage sampling: samples not kept in the store");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: u64) -> BTreeMap<String, u64> {
        BTreeMap::from([("tokens".to_owned(), n)])
    }

    #[test]
    fn one_sample_per_minute_for_an_hour() {
        let usage = Usage::default();
        let base = 1_800_000_000_000 - 1_800_000_000_000 % 60_000;
        usage.record("b", base + 1_000, &u(1));
        usage.record("b", base + 50_000, &u(2));
        usage.record("b", base + 61_000, &u(5));
        // A late answer for an earlier minute does not rewrite it.
        usage.record("b", base + 30_000, &u(9));
        assert_eq!(usage.last_hour("b", base + 70_000), vec![(base, u(2)), (base + 60_000, u(5))]);
        // Another replica's sample fills a minute this one missed, in order.
        usage.record("b", base + 180_000, &u(6));
        usage.record("b", base + 120_000, &u(4));
        assert_eq!(usage.last_hour("b", base + 190_000).iter().map(|(m, _)| (m - base) / 60_000).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert!(usage.last_hour("other", base).is_empty());
        usage.record("b", base + 3_700_000, &u(7));
        assert_eq!(usage.last_hour("b", base + 3_700_000), vec![(base + 120_000, u(4)), (base + 180_000, u(6)), (base + 3_660_000, u(7))], "an hour kept");
    }

    #[test]
    fn bounded_number_of_budgets() {
        let usage = Usage::default();
        for i in 0..MAX_BUDGETS + 10 {
            usage.record(&format!("b{i}"), 60_000, &u(1));
        }
        assert_eq!(usage.budgets.lock().unwrap().len(), MAX_BUDGETS);
        assert!(usage.last_hour(&format!("b{}", MAX_BUDGETS + 1), 60_000).is_empty());
    }
}
