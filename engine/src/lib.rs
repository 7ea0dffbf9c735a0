//! ff-board's engine access layer, server side only (never built for wasm).
//!
//! Everything the board knows about FlowFabric goes through here:
//! - [`connect`]: parse `FF_BOARD_BACKEND`, dial the backend, keep one
//!   `Arc<dyn EngineBackend>` and reconnect when it goes away;
//! - [`sqlite_reads`]: an `EngineBackend` wrapper that fills the reads the
//!   0.15 SQLite backend answers `Unavailable` for, from its own tables;
//! - [`board`]: board-wide listings merged over every partition;
//! - [`side`]: reads the trait lacks (budgets, flow members, active leases);
//! - [`demo`]: the embedded demo workload.
pub mod actions;
pub mod audit;
pub mod board;
pub mod side;
pub mod connect;
pub mod demo;
pub mod sqlite_reads;

pub use connect::{BackendKind, BackendSpec, Engine, EngineStatus};
