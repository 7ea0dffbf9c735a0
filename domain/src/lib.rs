//! ff-board's domain values, defined once and used from the store to the
//! badge (states, blocking reasons, actions, audit outcomes, reader states,
//! joins and waitpoints): the engine layer (`ff-board-engine`) reads stores into them, the
//! server functions carry them, and the browser (wasm) shows them. No
//! `ff-*` dependency, so the crate builds for wasm; conversions from
//! ff-core's types live in the engine layer (`backend::exec_state`).
//!
//! Each value's wire name (serde, URL filters, audit action names) is its
//! `as_str`, and every `match` on them is exhaustive.
mod action;
mod audit;
mod blocking;
pub mod diagnosis;
mod state;
mod stream;
pub mod query;
mod wait;

pub use action::ExecAction;
pub use audit::{AuditOutcome, REFUSAL_PREFIX};
pub use blocking::{BlockedFamily, BlockingReason};
pub use state::{ExecState, FlowState};
pub use stream::StreamState;
pub use wait::{GroupState, WaitpointState};
