//! Budget usage over time, sampled by this board (the engine keeps only the
//! current usage: `get_budget_status`). Every read of a budget's status the
//! board makes is recorded, and [`sample_every_minute`] reads the budget
//! list once a minute so the series has no holes while nobody watches
//! (one `budget_ids` read and at most [`MAX_BUDGETS`] status reads a
//! minute). One value per dimension per minute (the last), [`MINUTES`]
//! minutes, at most [`MAX_BUDGETS`] budgets: bounded memory.
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

/// Minutes kept per budget.
pub const MINUTES: usize = 60;
/// Budgets sampled at most (the board lists at most this many).
pub const MAX_BUDGETS: usize = 200;

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
    /// Record `usage` of `budget` read at `at` (ms).
    pub fn record(&self, budget: &str, at: i64, usage: &BTreeMap<String, u64>) {
        let minute = at - at.rem_euclid(60_000);
        let mut all = self.budgets.lock().expect("usage lock");
        if !all.contains_key(budget) && all.len() >= MAX_BUDGETS {
            return;
        }
        let series = all.entry(budget.to_owned()).or_default();
        match series.back_mut() {
            Some((m, u)) if *m == minute => *u = usage.clone(),
            Some((m, _)) if *m > minute => {}
            _ => series.push_back((minute, usage.clone())),
        }
        while series.front().is_some_and(|(m, _)| *m <= minute - MINUTES as i64 * 60_000) {
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

/// Read every budget's status once a minute, forever, and record it.
pub fn sample_every_minute(c: crate::connect::Connected) {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs(60);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let deadline = std::time::Duration::from_secs(20);
            let ids = match tokio::time::timeout(deadline, c.reads.budget_ids()).await {
                Ok(Ok(ids)) => ids,
                _ => continue,
            };
            for id in ids.into_iter().take(MAX_BUDGETS) {
                if let Ok(Ok(s)) = tokio::time::timeout(deadline, c.backend.get_budget_status(&id)).await {
                    let usage = s.usage.into_iter().collect();
                    global().record(&s.budget_id, ff_core::types::TimestampMs::now().0, &usage);
                }
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
        // A late answer for an earlier minute does not go back in time.
        usage.record("b", base + 30_000, &u(9));
        assert_eq!(usage.last_hour("b", base + 70_000), vec![(base, u(2)), (base + 60_000, u(5))]);
        assert!(usage.last_hour("other", base).is_empty());
        usage.record("b", base + 3_700_000, &u(7));
        assert_eq!(usage.last_hour("b", base + 3_700_000), vec![(base + 3_660_000, u(7))]);
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
