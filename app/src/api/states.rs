//! The board's domain values as the app uses them: defined once in
//! `ff-board-domain` (shared with the engine layer and the browser).
pub use ff_board_domain::{AuditOutcome, BlockingReason, ExecAction, ExecState, FlowState, GroupState, WaitpointState};
