//! Why an unfinished execution is not moving, and what fixes it: one typed
//! [`Cause`] per blocking reason, ownership and eligibility (the state
//! vector of ff-core's `src/state.rs`, plus the lease), each naming its
//! blocker with its numbers, and the [`Fix`]es that resolve it.
//!
//! The engine layer reads a [`Diagnosis`] (`ff_board_engine::diagnose`);
//! the engine's own words about a block (`blocking_detail`) are read here,
//! in one place, by [`Detail`] (FlowFabric 0.15's scheduler writes
//! `budget ff:budget:<id>:usage: <dim> <used>/<limit>` and
//! `quota <id>: rate limit …` / `quota <id>: concurrency cap <n>`; its Lua
//! writes `delayed until <ms>` and `retry backoff until <ms> (…)`).
use serde::{Deserialize, Serialize};

use crate::{BlockedFamily, BlockingReason, ExecState};

/// An upstream member a flow member waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    pub id: String,
    pub state: ExecState,
}

/// A registered worker, as a diagnosis names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSeen {
    pub instance: String,
    /// Its last heartbeat is within its liveness TTL.
    pub alive: bool,
}

/// What holds an execution, with the blocker's numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// Eligible and unclaimed: any worker of its lane may take it.
    Queued { lane: String, workers_alive: Option<usize> },
    /// Held by a worker whose lease is current.
    Running { holder: String, expires_at: i64, last_heartbeat: Option<i64> },
    /// Its lease ran out: the holder stopped heartbeating.
    LeaseExpired { holder: String, expired_at: i64, last_heartbeat: Option<i64>, reclaimable: bool },
    /// Its budget is exhausted on one dimension.
    Budget { budget: Option<String>, dimension: Option<String>, used: Option<u64>, limit: Option<u64>, resets_at: Option<String> },
    /// Its quota policy's window or concurrency cap is full.
    Quota {
        policy: Option<String>,
        window_secs: Option<u64>,
        rate: Option<u64>,
        concurrency: Option<u64>,
        /// Admitted now and admitted within the window (the policy's use).
        active: Option<u64>,
        in_window: Option<u64>,
    },
    /// Upstream members of its flow have not finished (the first few; `more` beyond).
    Children { pending: Vec<Upstream>, more: usize },
    /// No registered worker has its required capabilities (or locality).
    Worker { locality: bool, required: Option<String>, workers: Vec<WorkerSeen> },
    /// Delayed by its worker, a retry backoff or a resume delay, until a time.
    Delayed { reason: BlockingReason, until: Option<i64> },
    /// Paused by an operator, a policy (its lane), or its flow's cancellation.
    Paused { reason: BlockingReason },
    /// Suspended on a waitpoint (the gate is shown beside it).
    Suspended { reason: BlockingReason, waitpoint: Option<String> },
    /// Resumed, waiting to be claimed again.
    Resumable,
    /// A reason this board does not know (a newer engine's), as stored.
    Other { reason: String },
}

impl Cause {
    /// The family `blocked:` searches by, where the cause has one.
    pub fn family(&self) -> Option<BlockedFamily> {
        match self {
            Cause::Budget { .. } => Some(BlockedFamily::Budget),
            Cause::Quota { .. } => Some(BlockedFamily::Quota),
            Cause::Children { .. } => Some(BlockedFamily::Children),
            Cause::Worker { .. } | Cause::Queued { .. } => Some(BlockedFamily::Worker),
            Cause::Delayed { .. } => Some(BlockedFamily::Delay),
            Cause::Paused { reason } | Cause::Suspended { reason, .. } => reason.family(),
            Cause::Running { .. } | Cause::LeaseExpired { .. } | Cause::Resumable | Cause::Other { .. } => None,
        }
    }

    /// The cause in one line of plain words, with its numbers (`now` in
    /// epoch ms, for "in 3 min").
    pub fn headline(&self, now: i64) -> String {
        match self {
            Cause::Queued { lane, workers_alive: Some(0) } => format!("Waiting for a worker on lane {lane}: no registered worker is alive."),
            Cause::Queued { lane, workers_alive } => format!(
                "Eligible, waiting for a worker on lane {lane} to claim it{}.",
                workers_alive.map(|n| format!(" ({n} worker{} alive)", if n == 1 { "" } else { "s" })).unwrap_or_default()
            ),
            Cause::Running { holder, expires_at, .. } => format!("Running on {holder}; its lease ends {}.", when(*expires_at, now)),
            Cause::LeaseExpired { holder, expired_at, reclaimable, .. } => format!(
                "Its lease expired {}: worker {holder} stopped heartbeating{}.",
                when(*expired_at, now),
                if *reclaimable { "; the engine has marked it for reclaim" } else { "; no reclaim has happened yet" }
            ),
            Cause::Budget { budget, dimension, used, limit, resets_at } => format!(
                "Waiting for budget {}: {} at {} of {}{}.",
                budget.as_deref().unwrap_or("(not named by the engine)"),
                dimension.as_deref().unwrap_or("a hard limit"),
                used.map_or("?".into(), |u| u.to_string()),
                limit.map_or("?".into(), |l| l.to_string()),
                resets_at.as_ref().map(|r| format!("; it resets at {r}")).unwrap_or_else(|| "; it has no scheduled reset".into())
            ),
            Cause::Quota { policy, window_secs, rate, concurrency, active, in_window } => {
                let mut caps = Vec::new();
                if let (Some(r), Some(w)) = (rate, window_secs) {
                    caps.push(match in_window {
                        Some(n) => format!("{n} of {r} admitted in its {w} s window"),
                        None => format!("{r} per {w} s"),
                    });
                }
                if let Some(c) = concurrency.filter(|c| *c > 0) {
                    caps.push(match active {
                        Some(n) => format!("{n} of {c} running at once"),
                        None => format!("{c} at once"),
                    });
                }
                format!(
                    "Waiting for quota {}: its window is full{}.",
                    policy.as_deref().unwrap_or("(not named by the engine)"),
                    if caps.is_empty() { String::new() } else { format!(" (cap {})", caps.join(", ")) }
                )
            }
            Cause::Children { pending, more } if pending.is_empty() && *more == 0 => {
                "Waiting for upstream members, but none is unfinished: the engine has not resolved its dependencies yet.".into()
            }
            Cause::Children { pending, more } => format!("Waiting for {} upstream member{} to finish.", pending.len() + more, if pending.len() + more == 1 { "" } else { "s" }),
            Cause::Worker { locality, required, workers } => {
                let alive = workers.iter().filter(|w| w.alive).count();
                format!(
                    "No worker {} alive: {}; {alive} of {} registered workers alive.",
                    if *locality { "in its required locality is" } else { "with its required capabilities is" },
                    required.as_deref().unwrap_or("requirements not named by the engine"),
                    workers.len()
                )
            }
            Cause::Delayed { reason, until } => format!(
                "{}{}.",
                match reason {
                    BlockingReason::WaitingForRetryBackoff => "Waiting out its retry backoff",
                    BlockingReason::WaitingForResumeDelay => "Waiting out its delay after a resume",
                    _ => "Delayed by its worker",
                },
                until.map(|u| format!(": eligible again {}", when(u, now))).unwrap_or_default()
            ),
            Cause::Paused { reason } => match reason {
                BlockingReason::PausedByPolicy => "Paused by a policy (its lane is paused).".into(),
                BlockingReason::PausedByFlowCancel => "Held by its flow's cancellation.".into(),
                _ => "Paused by an operator.".into(),
            },
            Cause::Suspended { reason, .. } => format!("{}.", capital(reason.words())),
            Cause::Resumable => "Resumed, waiting to be claimed again.".into(),
            Cause::Other { reason } => format!("Blocked: {reason} (a reason this board does not know)."),
        }
    }
}

/// "in 3 min" / "4 min ago" from epoch milliseconds.
fn when(t: i64, now: i64) -> String {
    let d = (t - now) / 1000;
    let span = |s: i64| match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    };
    if d >= 0 { format!("in {}", span(d)) } else { format!("{} ago", span(-d)) }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// An action that resolves a cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fix {
    /// Reset the budget's usage (admin).
    ResetBudget { budget: String },
    /// Move it back to eligible (`unblock_execution`, fenced on its reason).
    Unblock,
    /// Resume its suspension without a signal (`resume_execution`, trigger `operator`).
    Resume,
    /// Time out a suspension past its deadline now (`expire_suspension`).
    ExpireSuspension,
    /// Revoke the lapsed lease so another worker may take it.
    RevokeLease,
    /// Mark the silent worker dead (admin).
    MarkWorkerDead { worker: String },
    /// Decide its approval gate (approve / reject).
    Decide,
    /// Open an upstream member (its own diagnosis).
    OpenUpstream { id: String },
    /// Raise its priority among the queued.
    ChangePriority,
    /// Give up on it.
    Cancel,
}

/// A fix, and why it cannot be run here when it cannot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub fix: Fix,
    /// `Some(reason)`: shown disabled with the reason (e.g. "not supported
    /// by this backend: unblock_execution").
    pub disabled: Option<String>,
}

/// A diagnosis of one execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub cause: Cause,
    /// The engine's own words about the block, as stored.
    pub detail: Option<String>,
    pub fixes: Vec<Offer>,
}

/// What the engine's `blocking_detail` names (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detail {
    pub budget: Option<String>,
    pub dimension: Option<String>,
    pub used: Option<u64>,
    pub limit: Option<u64>,
    pub quota: Option<String>,
    pub until: Option<i64>,
}

impl Detail {
    pub fn read(raw: &str) -> Detail {
        let mut d = Detail::default();
        if let Some(rest) = raw.strip_prefix("budget ff:budget:") {
            if let Some((id, usage)) = rest.split_once(":usage: ") {
                d.budget = Some(id.to_owned());
                let mut parts = usage.split_whitespace();
                d.dimension = parts.next().map(str::to_owned);
                if let Some((u, l)) = parts.next().and_then(|p| p.split_once('/')) {
                    d.used = u.parse().ok();
                    d.limit = l.parse().ok();
                }
            }
        } else if let Some(rest) = raw.strip_prefix("quota ") {
            d.quota = rest.split_once(':').map(|(id, _)| id.trim().to_owned()).filter(|id| !id.is_empty());
        }
        if let Some((_, after)) = raw.split_once("until ") {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            d.until = digits.parse().ok();
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_engines_words() {
        let b = Detail::read("budget ff:budget:b-1:usage: tokens 120/100");
        assert_eq!((b.budget.as_deref(), b.dimension.as_deref(), b.used, b.limit), (Some("b-1"), Some("tokens"), Some(120), Some(100)));
        let q = Detail::read("quota q-9: rate limit 5/5 per 60s window");
        assert_eq!(q.quota.as_deref(), Some("q-9"));
        assert_eq!(Detail::read("quota q-9: concurrency cap 3").quota.as_deref(), Some("q-9"));
        assert_eq!(Detail::read("delayed until 1700000000000").until, Some(1_700_000_000_000));
        assert_eq!(Detail::read("retry backoff until 17 (attempt 0 failed: boom)").until, Some(17));
        assert_eq!(Detail::read("waiting for child executions to complete"), Detail::default());
        assert_eq!(Detail::read("budget ff:budget:"), Detail::default());
    }

    #[test]
    fn headlines_name_the_blocker_and_its_numbers() {
        let now = 1_000_000;
        let b = Cause::Budget { budget: Some("b-1".into()), dimension: Some("tokens".into()), used: Some(120), limit: Some(100), resets_at: None };
        assert_eq!(b.headline(now), "Waiting for budget b-1: tokens at 120 of 100; it has no scheduled reset.");
        let d = Cause::Delayed { reason: BlockingReason::WaitingForDelay, until: Some(now + 180_000) };
        assert_eq!(d.headline(now), "Delayed by its worker: eligible again in 3 min.");
        let l = Cause::LeaseExpired { holder: "w-1".into(), expired_at: now - 120_000, last_heartbeat: None, reclaimable: false };
        assert!(l.headline(now).contains("expired 2 min ago: worker w-1"), "{}", l.headline(now));
        let c = Cause::Children { pending: vec![Upstream { id: "x".into(), state: ExecState::Active }], more: 2 };
        assert_eq!(c.headline(now), "Waiting for 3 upstream members to finish.");
        assert_eq!(c.family(), Some(BlockedFamily::Children));
        assert_eq!(Cause::Queued { lane: "l".into(), workers_alive: Some(0) }.headline(now), "Waiting for a worker on lane l: no registered worker is alive.");
    }
}
