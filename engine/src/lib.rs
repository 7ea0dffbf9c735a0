//! ff-board's engine access layer, server side only (never built for wasm).
//!
//! Everything the board knows about FlowFabric goes through here:
//! - [`connect`]: parse `FF_BOARD_BACKEND`, dial the backend, keep one
//!   `Arc<dyn EngineBackend>` and reconnect when it goes away;
//! - [`backend`]: everything that differs per backend, one folder each
//!   (dial, list reads bounded by their page size, audit store, live
//!   source, side-store reads), the wrappers that fill 0.15's gaps in the
//!   trait (`backend::filled`, `backend::state_fix`), and `SideStore`, the
//!   one place that picks a backend beside the trait
//!   (`docs/ARCHITECTURE.md`);
//! - [`gate`]: approval gates read from the stored suspension (condition,
//!   progress, deadline) and the effects `deliver_signal` answers;
//! - [`demo`]: the embedded demo workload.
pub mod actions;
pub mod allowance;
pub mod backend;
pub mod audit;
pub mod gate;
pub mod connect;
pub mod demo;
pub mod diagnose;
pub mod live;
pub mod lookup;
pub mod maintenance;
pub mod metrics;
pub mod repair;
pub mod requests;
pub mod sessions;
pub mod store_error;
pub mod throughput;
pub mod usage;
pub mod views;

pub use connect::{BackendKind, BackendSpec, Engine, EngineStatus};
pub use store_error::{Fault, Store, StoreError};
