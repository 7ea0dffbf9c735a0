//! Operator actions on one execution: form values, audit action names,
//! the engine call each makes.
use serde::{Deserialize, Serialize};

use crate::ExecState;

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
