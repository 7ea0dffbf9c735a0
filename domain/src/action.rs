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
    /// Back to eligible from a budget, quota or route block (`unblock_execution`).
    Unblock,
    /// Resume a suspension without a signal (`resume_execution`).
    Resume,
    /// Time out a suspension past its deadline (`expire_suspension`).
    ExpireSuspension,
}

impl ExecAction {
    pub const ALL: [ExecAction; 7] = [
        ExecAction::Cancel,
        ExecAction::RevokeLease,
        ExecAction::Replay,
        ExecAction::ChangePriority,
        ExecAction::Unblock,
        ExecAction::Resume,
        ExecAction::ExpireSuspension,
    ];

    /// The form value and audit action name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecAction::Cancel => "cancel",
            ExecAction::RevokeLease => "revoke_lease",
            ExecAction::Replay => "replay",
            ExecAction::ChangePriority => "change_priority",
            ExecAction::Unblock => "unblock",
            ExecAction::Resume => "resume",
            ExecAction::ExpireSuspension => "expire_suspension",
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
            ExecAction::Unblock => "unblock_execution",
            ExecAction::Resume => "resume_execution",
            ExecAction::ExpireSuspension => "expire_suspension",
        }
    }

    /// What a bulk run does to executions in `state`: finished ones are
    /// replayed, the others cancelled.
    pub fn bulk_for(state: ExecState) -> ExecAction {
        if state.is_terminal() { ExecAction::Replay } else { ExecAction::Cancel }
    }

    /// The label of its button and confirmation.
    pub fn label(self) -> &'static str {
        match self {
            ExecAction::Cancel => "Cancel execution",
            ExecAction::RevokeLease => "Revoke lease",
            ExecAction::Replay => "Replay",
            ExecAction::ChangePriority => "Change priority",
            ExecAction::Unblock => "Unblock",
            ExecAction::Resume => "Resume without a signal",
            ExecAction::ExpireSuspension => "Expire suspension",
        }
    }

    /// It ends or interrupts work: its button and confirmation are red.
    pub fn danger(self) -> bool {
        matches!(self, ExecAction::Cancel | ExecAction::RevokeLease | ExecAction::Replay | ExecAction::ExpireSuspension)
    }

    /// The verb on a button.
    pub fn verb(self) -> &'static str {
        match self {
            ExecAction::Cancel => "Cancel",
            ExecAction::RevokeLease => "Revoke",
            ExecAction::Replay => "Replay",
            ExecAction::ChangePriority => "Change priority",
            ExecAction::Unblock => "Unblock",
            ExecAction::Resume => "Resume",
            ExecAction::ExpireSuspension => "Expire suspension",
        }
    }
}
