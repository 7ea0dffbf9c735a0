//! Completions per minute by outcome over the last hour, counted by this
//! board process from its live completion stream (the engine keeps no such
//! series and the trait has no count: counting from the store would cost
//! a read of every terminal execution). So the series starts when the board
//! started ([`Throughput::since`]); completions of standalone executions on
//! Valkey are not published by 0.15 (flow members only) and are not
//! counted there. Memory: 60 minute slots of a few counters.
use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

/// Minutes kept.
pub const MINUTES: usize = 60;

/// The outcomes counted, in chart order; anything else is `other`.
pub const OUTCOMES: [&str; 5] = ["completed", "failed", "cancelled", "expired", "other"];

/// One minute: its start (ms) and a count per [`OUTCOMES`] entry.
pub type Minute = (i64, [u32; OUTCOMES.len()]);

pub struct Throughput {
    since: i64,
    slots: Mutex<VecDeque<Minute>>,
}

/// The process-wide series.
pub fn global() -> &'static Throughput {
    static T: OnceLock<Throughput> = OnceLock::new();
    T.get_or_init(|| Throughput::new(ff_core::types::TimestampMs::now().0))
}

/// The chart slot of an engine completion outcome; `None` for what is not
/// an end (the SQL backends' `resumable`).
pub fn slot_of(outcome: &str) -> Option<usize> {
    match outcome {
        "success" | "completed" => Some(0),
        "failed" => Some(1),
        "cancelled" => Some(2),
        "expired" => Some(3),
        "resumable" => None,
        _ => Some(4),
    }
}

impl Throughput {
    pub fn new(since: i64) -> Self {
        Throughput { since, slots: Mutex::new(VecDeque::with_capacity(MINUTES + 1)) }
    }

    /// When counting started (ms).
    pub fn since(&self) -> i64 {
        self.since
    }

    /// One completion with `outcome` at `at` (ms).
    pub fn record(&self, outcome: &str, at: i64) {
        let Some(slot) = slot_of(outcome) else { return };
        let minute = at - at.rem_euclid(60_000);
        let mut slots = self.slots.lock().expect("throughput lock");
        match slots.iter_mut().find(|(m, _)| *m == minute) {
            Some((_, counts)) => counts[slot] += 1,
            None => {
                let mut counts = [0; OUTCOMES.len()];
                counts[slot] = 1;
                let at = slots.iter().position(|(m, _)| *m > minute).unwrap_or(slots.len());
                slots.insert(at, (minute, counts));
                while slots.len() > MINUTES + 1 {
                    slots.pop_front();
                }
            }
        }
    }

    /// The last [`MINUTES`] minutes up to `now` (ms), oldest first, with
    /// empty minutes filled in.
    pub fn last_hour(&self, now: i64) -> Vec<Minute> {
        let current = now - now.rem_euclid(60_000);
        let slots = self.slots.lock().expect("throughput lock");
        (0..MINUTES as i64)
            .rev()
            .map(|back| {
                let minute = current - back * 60_000;
                slots.iter().find(|(m, _)| *m == minute).copied().unwrap_or((minute, [0; OUTCOMES.len()]))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_minute_and_outcome() {
        let t = Throughput::new(0);
        let base = 1_800_000_000_000 - 1_800_000_000_000 % 60_000;
        t.record("success", base + 1_000);
        t.record("success", base + 59_000);
        t.record("failed", base + 61_000);
        t.record("resumable", base + 2_000);
        t.record("skipped", base + 3_000);
        let hour = t.last_hour(base + 90_000);
        assert_eq!(hour.len(), MINUTES);
        assert_eq!(hour[MINUTES - 1], (base + 60_000, [0, 1, 0, 0, 0]));
        assert_eq!(hour[MINUTES - 2], (base, [2, 0, 0, 0, 1]));
        assert_eq!(hour[0].1, [0; 5]);
        // An hour later the old minutes are gone.
        t.record("cancelled", base + 3_700_000);
        let later = t.last_hour(base + 3_700_000);
        assert!(later.iter().all(|(m, _)| *m > base + 60_000));
        assert_eq!(later[MINUTES - 1].1, [0, 0, 1, 0, 0]);
    }
}
