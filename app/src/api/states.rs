//! Execution and flow states as typed enums shared by server and browser
//! (the browser never sees ff-core, so these mirror `PublicState` and
//! `FlowStatus`). Filters parse into them (an unknown name is a 400), rows
//! carry them, and views show [`ExecState::as_str`].
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
        }
    }

    pub fn parse(s: &str) -> Option<ExecState> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Finished: the engine will not run it again unless replayed.
    pub fn is_terminal(self) -> bool {
        matches!(self, ExecState::Completed | ExecState::Failed | ExecState::Cancelled | ExecState::Expired | ExecState::Skipped)
    }

    /// A filter from the URL: empty is none, unknown is a 400.
    pub fn filter(raw: Option<&str>) -> Result<Option<ExecState>, crate::error::AppError> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => Self::parse(s).map(Some).ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|x| x.as_str()).collect();
                crate::error::AppError::BadRequest(format!("unknown state {s:?}: one of {}", all.join(", ")))
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

/// A flow's state, as the flows table shows it and its filter offers it.
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

    /// A filter from the URL: empty is none, unknown is a 400.
    pub fn filter(raw: Option<&str>) -> Result<Option<FlowState>, crate::error::AppError> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => Self::ALL.into_iter().find(|x| x.as_str() == s).map(Some).ok_or_else(|| {
                crate::error::AppError::BadRequest(format!(
                    "unknown flow state {s:?}: expected active, completed, failed or cancelled"
                ))
            }),
        }
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

/// An operator action on one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecAction {
    Cancel,
    RevokeLease,
    Replay,
    ChangePriority,
}

impl ExecAction {
    pub const ALL: [ExecAction; 4] = [ExecAction::Cancel, ExecAction::RevokeLease, ExecAction::Replay, ExecAction::ChangePriority];

    /// The form value and audit action name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecAction::Cancel => "cancel",
            ExecAction::RevokeLease => "revoke_lease",
            ExecAction::Replay => "replay",
            ExecAction::ChangePriority => "change_priority",
        }
    }

    pub fn parse(s: &str) -> Option<ExecAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The engine call it makes (and the capability that gates it).
    pub fn engine_op(self) -> &'static str {
        match self {
            ExecAction::Cancel => "cancel_execution",
            ExecAction::RevokeLease => "revoke_lease",
            ExecAction::Replay => "replay_execution",
            ExecAction::ChangePriority => "change_priority",
        }
    }

    /// What a bulk run does to executions in `state`: finished ones are
    /// replayed, the others cancelled.
    pub fn bulk_for(state: ExecState) -> ExecAction {
        if state.is_terminal() { ExecAction::Replay } else { ExecAction::Cancel }
    }

    /// The verb on a button.
    pub fn verb(self) -> &'static str {
        match self {
            ExecAction::Cancel => "Cancel",
            ExecAction::RevokeLease => "Revoke",
            ExecAction::Replay => "Replay",
            ExecAction::ChangePriority => "Change priority",
        }
    }
}

#[cfg(feature = "ssr")]
mod engine {
    //! Conversions to and from the engine's types.
    use super::{ExecState, FlowState};
    use ff_board_engine::backend::FlowState as Engine;
    use ff_core::state::PublicState;

    impl ExecState {
        pub fn from_engine(s: PublicState) -> ExecState {
            ExecState::parse(s.as_str()).unwrap_or(ExecState::Waiting)
        }

        pub fn to_engine(self) -> PublicState {
            ff_board_engine::backend::parse_state(self.as_str()).unwrap_or(PublicState::Waiting)
        }
    }

    impl FlowState {
        pub fn from_engine(s: Engine) -> FlowState {
            match s {
                Engine::Active => FlowState::Active,
                Engine::Completed => FlowState::Completed,
                Engine::Failed => FlowState::Failed,
                Engine::Cancelled => FlowState::Cancelled,
                Engine::Unknown => FlowState::Unknown,
            }
        }

        pub fn to_engine(self) -> Engine {
            match self {
                FlowState::Active => Engine::Active,
                FlowState::Completed => Engine::Completed,
                FlowState::Failed => Engine::Failed,
                FlowState::Cancelled => Engine::Cancelled,
                FlowState::Unknown => Engine::Unknown,
            }
        }
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
        assert_eq!(ExecState::filter(Some("")).unwrap(), None);
        assert!(FlowState::filter(Some("open")).is_err());
    }
}
