//! Execution and flow states (the browser never sees ff-core, so these
//! mirror its `PublicState` and the stored `public_flow_state`). Filters
//! parse into them (an unknown name is refused with the list of names),
//! rows carry them, and views show [`ExecState::as_str`].
use serde::{Deserialize, Serialize};

/// FlowFabric's public execution state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecState {
    Waiting,
    Delayed,
    RateLimited,
    WaitingChildren,
    Active,
    Suspended,
    Resumable,
    Completed,
    Failed,
    Cancelled,
    Expired,
    Skipped,
    /// A state this board does not know (a newer engine's): shown as
    /// "unknown", never as another state, and never offered as a filter.
    Unknown,
}

impl ExecState {
    pub const ALL: [ExecState; 12] = [
        ExecState::Waiting,
        ExecState::Delayed,
        ExecState::RateLimited,
        ExecState::WaitingChildren,
        ExecState::Active,
        ExecState::Suspended,
        ExecState::Resumable,
        ExecState::Completed,
        ExecState::Failed,
        ExecState::Cancelled,
        ExecState::Expired,
        ExecState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecState::Waiting => "waiting",
            ExecState::Delayed => "delayed",
            ExecState::RateLimited => "rate_limited",
            ExecState::WaitingChildren => "waiting_children",
            ExecState::Active => "active",
            ExecState::Suspended => "suspended",
            ExecState::Resumable => "resumable",
            ExecState::Completed => "completed",
            ExecState::Failed => "failed",
            ExecState::Cancelled => "cancelled",
            ExecState::Expired => "expired",
            ExecState::Skipped => "skipped",
            ExecState::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<ExecState> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Queued, not yet running: its priority still decides when it runs.
    pub fn is_queued(self) -> bool {
        matches!(self, ExecState::Waiting | ExecState::Delayed | ExecState::RateLimited | ExecState::WaitingChildren)
    }

    /// Finished: the engine will not run it again unless replayed.
    pub fn is_terminal(self) -> bool {
        matches!(self, ExecState::Completed | ExecState::Failed | ExecState::Cancelled | ExecState::Expired | ExecState::Skipped)
    }

    /// A filter from the URL: empty is none; an unknown name is an error
    /// naming the known ones (the board answers it with a 400).
    pub fn filter(raw: Option<&str>) -> Result<Option<ExecState>, String> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => Self::parse(s).map(Some).ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|x| x.as_str()).collect();
                format!("unknown state {s:?}: one of {}", all.join(", "))
            }),
        }
    }
}

impl std::fmt::Display for ExecState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ExecState> for String {
    fn from(s: ExecState) -> String {
        s.as_str().to_owned()
    }
}

/// A flow's coarse state, as the flows table shows it and its filter
/// offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    Active,
    Completed,
    Failed,
    Cancelled,
    Unknown,
}

impl FlowState {
    /// The states a filter offers.
    pub const ALL: [FlowState; 4] = [FlowState::Active, FlowState::Completed, FlowState::Failed, FlowState::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::Active => "active",
            FlowState::Completed => "completed",
            FlowState::Failed => "failed",
            FlowState::Cancelled => "cancelled",
            FlowState::Unknown => "unknown",
        }
    }

    /// A filter from the URL: empty is none; an unknown name is an error
    /// naming the known ones (the board answers it with a 400).
    pub fn filter(raw: Option<&str>) -> Result<Option<FlowState>, String> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => Self::ALL
                .into_iter()
                .find(|x| x.as_str() == s)
                .map(Some)
                .ok_or_else(|| format!("unknown flow state {s:?}: expected active, completed, failed or cancelled")),
        }
    }

    /// The stored `public_flow_state` literals that mean this state
    /// (ff-core's `FlowStatus`: `open`, `running` and `blocked` are active).
    pub fn stored(self) -> &'static [&'static str] {
        match self {
            FlowState::Active => &["open", "running", "blocked"],
            FlowState::Completed => &["completed"],
            FlowState::Failed => &["failed"],
            FlowState::Cancelled => &["cancelled"],
            FlowState::Unknown => &[],
        }
    }

    /// From a stored `public_flow_state`.
    pub fn from_stored(raw: &str) -> FlowState {
        Self::ALL.into_iter().find(|s| s.stored().contains(&raw)).unwrap_or(FlowState::Unknown)
    }
}

impl std::fmt::Display for FlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<FlowState> for String {
    fn from(s: FlowState) -> String {
        s.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for s in ExecState::ALL {
            assert_eq!(ExecState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert!(ExecState::filter(Some("running")).is_err());
        assert!(ExecState::filter(Some("unknown")).is_err(), "never a filter");
        assert!(!ExecState::Unknown.is_terminal());
        assert_eq!(ExecState::filter(Some("")).unwrap(), None);
        assert!(FlowState::filter(Some("open")).is_err());
        for s in FlowState::ALL {
            assert!(s.stored().iter().all(|raw| FlowState::from_stored(raw) == s));
        }
        assert_eq!(FlowState::from_stored("paused_somehow"), FlowState::Unknown);
    }
}
