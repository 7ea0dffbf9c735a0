//! Completions and retries per minute by outcome over the last hour, in
//! total and per lane and namespace, counted by this board process from its
//! live streams (the engine keeps no such series and the trait has no
//! count: counting from the store would cost a read of every terminal
//! execution). So the series starts when the board started
//! ([`Throughput::since`]); completions of standalone executions on Valkey
//! are not published by 0.15 (flow members only) and are not counted there.
//!
//! A *retry* is a new lease on an execution whose earlier lease this board
//! saw (an attempt after a failure, an expired or a revoked lease): the
//! lease history has no attempt number, so retries of executions whose
//! first attempt ran before the board started are not counted.
//!
//! Memory: 61 minute slots, each with at most [`MAX_KEYS`] lanes and
//! [`MAX_KEYS`] namespaces (the rest counted under [`OTHER`]).
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, OnceLock};

/// Minutes kept.
pub const MINUTES: usize = 60;

/// The series, in chart order; `other` is any end the board does not name.
pub const OUTCOMES: [&str; 6] = ["completed", "failed", "retried", "cancelled", "expired", "other"];
/// The index of `retried` in [`OUTCOMES`].
pub const RETRIED: usize = 2;
/// Distinct lanes (and namespaces) kept per minute, [`OTHER`] included.
pub const MAX_KEYS: usize = 64;
/// Where the lanes or namespaces past [`MAX_KEYS`] are counted.
pub const OTHER: &str = "(other)";

/// A count per [`OUTCOMES`] entry.
pub type Counts = [u32; OUTCOMES.len()];

/// One minute: its start (ms) and a count per [`OUTCOMES`] entry.
pub type Minute = (i64, Counts);

/// One lane's (or namespace's) last hour: totals per outcome and the sum
/// of all series per minute, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyHour {
    pub key: String,
    pub totals: Counts,
    pub per_minute: Vec<u32>,
}

#[derive(Default)]
struct Slot {
    minute: i64,
    total: Counts,
    lanes: BTreeMap<String, Counts>,
    namespaces: BTreeMap<String, Counts>,
}

pub struct Throughput {
    since: i64,
    slots: Mutex<VecDeque<Slot>>,
}

/// The process-wide series.
pub fn global() -> &'static Throughput {
    static T: OnceLock<Throughput> = OnceLock::new();
    T.get_or_init(|| Throughput::new(ff_core::types::TimestampMs::now().0))
}

/// The chart series of an engine completion outcome; `None` for what is
/// not an end (the SQL backends' `resumable`).
pub fn slot_of(outcome: &str) -> Option<usize> {
    match outcome {
        "success" | "completed" => Some(0),
        "failed" => Some(1),
        "cancelled" => Some(3),
        "expired" => Some(4),
        "resumable" => None,
        _ => Some(5),
    }
}

fn bump(map: &mut BTreeMap<String, Counts>, key: &str, series: usize) {
    // Named keys take MAX_KEYS - 1 places; OTHER takes the last.
    let key = if map.contains_key(key) || map.len() < MAX_KEYS - 1 { key } else { OTHER };
    map.entry(key.to_owned()).or_default()[series] += 1;
}

impl Throughput {
    pub fn new(since: i64) -> Self {
        Throughput { since, slots: Mutex::new(VecDeque::with_capacity(MINUTES + 1)) }
    }

    /// When counting started (ms).
    pub fn since(&self) -> i64 {
        self.since
    }

    /// One completion with `outcome` at `at` (ms) of an execution on
    /// `lane` in `namespace` (when known).
    pub fn record(&self, outcome: &str, at: i64, lane: Option<&str>, namespace: Option<&str>) {
        if let Some(series) = slot_of(outcome) {
            self.count(series, at, lane, namespace);
        }
    }

    /// One retry (a new attempt) at `at` (ms).
    pub fn record_retry(&self, at: i64, lane: Option<&str>, namespace: Option<&str>) {
        self.count(RETRIED, at, lane, namespace);
    }

    fn count(&self, series: usize, at: i64, lane: Option<&str>, namespace: Option<&str>) {
        let minute = at - at.rem_euclid(60_000);
        let mut slots = self.slots.lock().expect("throughput lock");
        let i = match slots.iter().position(|s| s.minute == minute) {
            Some(i) => i,
            None => {
                let at = slots.iter().position(|s| s.minute > minute).unwrap_or(slots.len());
                slots.insert(at, Slot { minute, ..Default::default() });
                if slots.len() > MINUTES + 1 {
                    slots.pop_front();
                    at.saturating_sub(1)
                } else {
                    at
                }
            }
        };
        let slot = &mut slots[i];
        slot.total[series] += 1;
        if let Some(lane) = lane {
            bump(&mut slot.lanes, lane, series);
        }
        if let Some(ns) = namespace {
            bump(&mut slot.namespaces, ns, series);
        }
    }

    /// The minute starts of the last hour up to `now` (ms), oldest first.
    fn hour(now: i64) -> impl Iterator<Item = i64> {
        let current = now - now.rem_euclid(60_000);
        (0..MINUTES as i64).rev().map(move |back| current - back * 60_000)
    }

    /// The last [`MINUTES`] minutes up to `now` (ms), oldest first, with
    /// empty minutes filled in.
    pub fn last_hour(&self, now: i64) -> Vec<Minute> {
        let slots = self.slots.lock().expect("throughput lock");
        Self::hour(now)
            .map(|minute| (minute, slots.iter().find(|s| s.minute == minute).map_or([0; OUTCOMES.len()], |s| s.total)))
            .collect()
    }

    /// The last hour per lane, busiest first, at most `limit` lanes.
    pub fn by_lane(&self, now: i64, limit: usize) -> Vec<KeyHour> {
        self.by_key(now, limit, |s| &s.lanes)
    }

    /// The last hour per namespace, busiest first, at most `limit`.
    pub fn by_namespace(&self, now: i64, limit: usize) -> Vec<KeyHour> {
        self.by_key(now, limit, |s| &s.namespaces)
    }

    fn by_key(&self, now: i64, limit: usize, keys: impl Fn(&Slot) -> &BTreeMap<String, Counts>) -> Vec<KeyHour> {
        let slots = self.slots.lock().expect("throughput lock");
        let minutes: Vec<i64> = Self::hour(now).collect();
        let mut out: BTreeMap<&str, KeyHour> = BTreeMap::new();
        for slot in slots.iter() {
            let Some(i) = minutes.iter().position(|m| *m == slot.minute) else { continue };
            for (key, counts) in keys(slot) {
                let e = out.entry(key).or_insert_with(|| KeyHour {
                    key: key.clone(),
                    totals: [0; OUTCOMES.len()],
                    per_minute: vec![0; MINUTES],
                });
                for (t, c) in e.totals.iter_mut().zip(counts) {
                    *t += c;
                }
                e.per_minute[i] += counts.iter().sum::<u32>();
            }
        }
        let mut rows: Vec<KeyHour> = out.into_values().collect();
        rows.sort_by_key(|r| (std::cmp::Reverse(r.totals.iter().sum::<u32>()), r.key.clone()));
        rows.truncate(limit);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_minute_and_outcome() {
        let t = Throughput::new(0);
        let base = 1_800_000_000_000 - 1_800_000_000_000 % 60_000;
        t.record("success", base + 1_000, None, None);
        t.record("success", base + 59_000, None, None);
        t.record("failed", base + 61_000, None, None);
        t.record("resumable", base + 2_000, None, None);
        t.record("skipped", base + 3_000, None, None);
        t.record_retry(base + 4_000, None, None);
        let hour = t.last_hour(base + 90_000);
        assert_eq!(hour.len(), MINUTES);
        assert_eq!(hour[MINUTES - 1], (base + 60_000, [0, 1, 0, 0, 0, 0]));
        assert_eq!(hour[MINUTES - 2], (base, [2, 0, 1, 0, 0, 1]));
        assert_eq!(hour[0].1, [0; 6]);
        // An hour later the old minutes are gone.
        t.record("cancelled", base + 3_700_000, None, None);
        let later = t.last_hour(base + 3_700_000);
        assert!(later.iter().all(|(m, _)| *m > base + 60_000));
        assert_eq!(later[MINUTES - 1].1, [0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn per_lane_and_namespace_busiest_first_and_bounded() {
        let t = Throughput::new(0);
        let base = 1_800_000_000_000 - 1_800_000_000_000 % 60_000;
        for _ in 0..3 {
            t.record("success", base + 1_000, Some("billing"), Some("prod"));
        }
        t.record("failed", base + 61_000, Some("billing"), Some("prod"));
        t.record_retry(base + 62_000, Some("search"), Some("prod"));
        t.record("success", base + 63_000, Some("search"), None);
        let lanes = t.by_lane(base + 90_000, 10);
        assert_eq!(lanes.len(), 2);
        assert_eq!(lanes[0].key, "billing");
        assert_eq!(lanes[0].totals, [3, 1, 0, 0, 0, 0]);
        assert_eq!(lanes[0].per_minute[MINUTES - 2..], [3, 1]);
        assert_eq!(lanes[1].key, "search");
        assert_eq!(lanes[1].totals, [1, 0, 1, 0, 0, 0]);
        let ns = t.by_namespace(base + 90_000, 10);
        assert_eq!(ns.len(), 1);
        assert_eq!(ns[0].totals, [3, 1, 1, 0, 0, 0]);
        assert_eq!(t.by_lane(base + 90_000, 1).len(), 1);
        // Past MAX_KEYS distinct lanes in a minute, the rest go to OTHER.
        for i in 0..MAX_KEYS + 5 {
            t.record("success", base + 120_000, Some(&format!("lane-{i}")), None);
        }
        let lanes = t.by_lane(base + 150_000, 1000);
        assert_eq!(lanes.len(), MAX_KEYS + 2, "63 named lanes and other in that minute, billing, search");
        let other = lanes.iter().find(|l| l.key == OTHER).expect("other lanes");
        assert_eq!(other.totals[0], 6);
    }
}
