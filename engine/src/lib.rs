//! ff-board's engine access layer, server side only (never built for wasm).
//!
//! Everything the board knows about FlowFabric goes through here:
//! - [`connect`]: parse `FF_BOARD_BACKEND`, dial the backend, keep one
//!   `Arc<dyn EngineBackend>` and reconnect when it goes away;
//! - [`sqlite_reads`]: an `EngineBackend` wrapper that fills the reads the
//!   0.15 SQLite backend answers `Unavailable` for, from its own tables;
//! - [`pg_reads`]: the same wrapper over Postgres, whose 0.15
//!   `describe_execution` fails on flow members;
//! - [`state_fix`]: the true state of finished executions, which the 0.15
//!   SQL backends leave `running` (to delete once the engine fixes it);
//! - [`backend`]: the board's list reads, one folder per backend, each
//!   page bounded by its size (no SCAN, no per-row round trip);
//! - [`gate`]: approval gates read from the stored suspension (condition,
//!   progress, deadline) and the effects `deliver_signal` answers;
//! - [`demo`]: the embedded demo workload.
pub mod actions;
pub mod backend;
pub mod audit;
pub mod gate;
pub mod connect;
pub mod demo;
pub mod live;
pub mod lookup;
pub mod metrics;
pub mod sessions;
pub mod throughput;
pub mod usage;

pub use connect::{BackendKind, BackendSpec, Engine, EngineStatus};
