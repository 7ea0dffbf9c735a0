//! What a flow's joins and an execution's waitpoints are doing: the state
//! of an edge group (the join in front of a downstream node) and of a
//! pending waitpoint, as the flow page and the approvals show them. Read
//! from the engine's own names; a name this board does not know is
//! `Unknown`, never another state.
use serde::{Deserialize, Serialize};

/// An edge group's state (ff-core's `EdgeGroupState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupState {
    Pending,
    Satisfied,
    Impossible,
    Cancelled,
    Unknown,
}

impl GroupState {
    const KNOWN: [GroupState; 4] = [GroupState::Pending, GroupState::Satisfied, GroupState::Impossible, GroupState::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Pending => "pending",
            GroupState::Satisfied => "satisfied",
            GroupState::Impossible => "impossible",
            GroupState::Cancelled => "cancelled",
            GroupState::Unknown => "unknown",
        }
    }

    /// From the engine's name of the state.
    pub fn parse(s: &str) -> GroupState {
        Self::KNOWN.into_iter().find(|x| x.as_str() == s).unwrap_or(GroupState::Unknown)
    }
}

/// A waitpoint's state (`pending` until its suspension is active, then
/// `active`; `closed` once it resolved).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitpointState {
    Pending,
    Active,
    Closed,
    Unknown,
}

impl WaitpointState {
    const KNOWN: [WaitpointState; 3] = [WaitpointState::Pending, WaitpointState::Active, WaitpointState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitpointState::Pending => "pending",
            WaitpointState::Active => "active",
            WaitpointState::Closed => "closed",
            WaitpointState::Unknown => "unknown",
        }
    }

    /// From the stored name of the state.
    pub fn parse(s: &str) -> WaitpointState {
        Self::KNOWN.into_iter().find(|x| x.as_str() == s).unwrap_or(WaitpointState::Unknown)
    }
}

impl std::fmt::Display for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for s in GroupState::KNOWN {
            assert_eq!(GroupState::parse(s.as_str()), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        for s in WaitpointState::KNOWN {
            assert_eq!(WaitpointState::parse(s.as_str()), s);
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(GroupState::parse("half_open"), GroupState::Unknown);
        assert_eq!(WaitpointState::parse(""), WaitpointState::Unknown);
    }
}
