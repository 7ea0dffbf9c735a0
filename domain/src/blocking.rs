//! The engine's blocking reason (ff-core's `BlockingReason`, seventeen and
//! `none`), read from the stored snake_case text and said in plain words,
//! and grouped into the families an operator searches by (`blocked:budget`)
//! and the overview counts.
use serde::{Deserialize, Serialize};

/// Why an execution is not moving, as the engine stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockingReason {
    WaitingForWorker,
    WaitingForRetryBackoff,
    WaitingForResumeDelay,
    WaitingForDelay,
    WaitingForSignal,
    WaitingForApproval,
    WaitingForCallback,
    WaitingForToolResult,
    WaitingForChildren,
    WaitingForBudget,
    WaitingForQuota,
    WaitingForCapableWorker,
    WaitingForLocalityMatch,
    PausedByOperator,
    PausedByPolicy,
    PausedByFlowCancel,
    /// A reason this board does not know (a newer engine's), shown as itself.
    Unknown(String),
}

/// Every known reason with its stored name and its words.
const KNOWN: [(BlockingReason, &str, &str); 16] = [
    (BlockingReason::WaitingForWorker, "waiting_for_worker", "eligible, waiting for a worker to claim it"),
    (BlockingReason::WaitingForRetryBackoff, "waiting_for_retry_backoff", "waiting out its retry backoff"),
    (BlockingReason::WaitingForResumeDelay, "waiting_for_resume_delay", "waiting out its delay after a resume"),
    (BlockingReason::WaitingForDelay, "waiting_for_delay", "delayed by its worker"),
    (BlockingReason::WaitingForSignal, "waiting_for_signal", "suspended, waiting for a signal"),
    (BlockingReason::WaitingForApproval, "waiting_for_approval", "suspended, waiting for an approval"),
    (BlockingReason::WaitingForCallback, "waiting_for_callback", "suspended, waiting for an external callback"),
    (BlockingReason::WaitingForToolResult, "waiting_for_tool_result", "suspended, waiting for a tool's result"),
    (BlockingReason::WaitingForChildren, "waiting_for_children", "waiting for upstream members to finish"),
    (BlockingReason::WaitingForBudget, "waiting_for_budget", "its budget is exhausted"),
    (BlockingReason::WaitingForQuota, "waiting_for_quota", "its quota or rate-limit window is full"),
    (BlockingReason::WaitingForCapableWorker, "waiting_for_capable_worker", "no worker with the required capabilities"),
    (BlockingReason::WaitingForLocalityMatch, "waiting_for_locality_match", "no worker in the required region"),
    (BlockingReason::PausedByOperator, "paused_by_operator", "paused by an operator"),
    (BlockingReason::PausedByPolicy, "paused_by_policy", "paused by a policy (e.g. its lane is paused)"),
    (BlockingReason::PausedByFlowCancel, "paused_by_flow_cancel", "held by its flow's cancellation"),
];

impl BlockingReason {
    /// From the stored text; `None` for an empty text or `none` (not blocked).
    pub fn parse(raw: &str) -> Option<BlockingReason> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "none" {
            return None;
        }
        Some(KNOWN.iter().find(|(_, name, _)| *name == raw).map_or_else(|| BlockingReason::Unknown(raw.to_owned()), |(r, _, _)| r.clone()))
    }

    /// The stored snake_case name.
    pub fn as_str(&self) -> &str {
        match self {
            BlockingReason::Unknown(raw) => raw,
            known => KNOWN.iter().find(|(r, _, _)| r == known).map_or("", |(_, name, _)| name),
        }
    }

    /// In plain words.
    pub fn words(&self) -> &str {
        match self {
            BlockingReason::Unknown(raw) => raw,
            known => KNOWN.iter().find(|(r, _, _)| r == known).map_or("", |(_, _, words)| words),
        }
    }
}

/// What holds an execution, as an operator asks for it: the families of
/// `blocked:` in the query language (`docs/SEARCH.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockedFamily {
    Budget,
    Quota,
    Children,
    Worker,
    Delay,
    Signal,
    Approval,
    Operator,
    Lane,
}

impl BlockedFamily {
    pub const ALL: [BlockedFamily; 9] = [
        BlockedFamily::Budget,
        BlockedFamily::Quota,
        BlockedFamily::Children,
        BlockedFamily::Worker,
        BlockedFamily::Delay,
        BlockedFamily::Signal,
        BlockedFamily::Approval,
        BlockedFamily::Operator,
        BlockedFamily::Lane,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BlockedFamily::Budget => "budget",
            BlockedFamily::Quota => "quota",
            BlockedFamily::Children => "children",
            BlockedFamily::Worker => "worker",
            BlockedFamily::Delay => "delay",
            BlockedFamily::Signal => "signal",
            BlockedFamily::Approval => "approval",
            BlockedFamily::Operator => "operator",
            BlockedFamily::Lane => "lane",
        }
    }

    pub fn parse(raw: &str) -> Option<BlockedFamily> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// The known reasons of this family (what a store query matches).
    pub fn reasons(self) -> impl Iterator<Item = &'static BlockingReason> {
        KNOWN.iter().map(|(r, _, _)| r).filter(move |r| r.family() == Some(self))
    }

    /// The stored names of [`BlockedFamily::reasons`].
    pub fn stored(self) -> Vec<&'static str> {
        KNOWN.iter().filter(|(r, _, _)| r.family() == Some(self)).map(|(_, name, _)| *name).collect()
    }
}

impl BlockingReason {
    /// Its family; `None` for a reason this board does not know.
    pub fn family(&self) -> Option<BlockedFamily> {
        use BlockedFamily as F;
        use BlockingReason as R;
        Some(match self {
            R::WaitingForBudget => F::Budget,
            R::WaitingForQuota => F::Quota,
            R::WaitingForChildren => F::Children,
            R::WaitingForWorker | R::WaitingForCapableWorker | R::WaitingForLocalityMatch => F::Worker,
            R::WaitingForRetryBackoff | R::WaitingForResumeDelay | R::WaitingForDelay => F::Delay,
            R::WaitingForSignal | R::WaitingForCallback | R::WaitingForToolResult => F::Signal,
            R::WaitingForApproval => F::Approval,
            R::PausedByOperator | R::PausedByFlowCancel => F::Operator,
            R::PausedByPolicy => F::Lane,
            R::Unknown(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_stays_itself() {
        for (r, name, words) in KNOWN {
            assert_eq!(BlockingReason::parse(name), Some(r.clone()));
            assert_eq!((r.as_str(), r.words()), (name, words));
        }
        assert_eq!(BlockingReason::parse("none"), None);
        assert_eq!(BlockingReason::parse(""), None);
        let odd = BlockingReason::parse("waiting_for_moon").unwrap();
        assert_eq!((odd.as_str(), odd.words()), ("waiting_for_moon", "waiting_for_moon"));
        assert_eq!(odd.family(), None);
    }

    #[test]
    fn every_known_reason_has_exactly_one_family() {
        let mut seen = 0;
        for f in BlockedFamily::ALL {
            assert_eq!(BlockedFamily::parse(f.as_str()), Some(f));
            let n = f.reasons().count();
            assert!(n >= 1, "{f:?} has no reason");
            assert_eq!(f.stored().len(), n);
            seen += n;
        }
        assert_eq!(seen, KNOWN.len());
        assert_eq!(BlockedFamily::Delay.stored(), ["waiting_for_retry_backoff", "waiting_for_resume_delay", "waiting_for_delay"]);
    }
}
