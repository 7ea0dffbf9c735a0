//! Live engine events, read once per board process and covering every
//! partition of every backend.
//!
//! [`spawn`] starts one reader per stream family (completions, lease
//! history, signal deliveries). Where the trait's subscription covers the
//! whole deployment it is used; where it is empty or partial (0.15: Valkey
//! lease history is never written to the aggregate stream it tails, Valkey
//! signal delivery and Postgres lease history / signal delivery read one
//! partition only) the board sources the events from the store itself.
//! Readers resubscribe from their last cursor with backoff on any error and
//! report their state on [`LiveHandle::status`]; a reader that may have lost
//! events (pubsub reconnect) emits [`SourceEvent::Resync`].
use std::collections::BTreeMap;

use ff_core::types::ExecutionId;
use tokio::sync::{mpsc, watch};

use crate::connect::Connected;

/// One event from the engine, as the board needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceEvent {
    Completion { execution_id: ExecutionId, outcome: String, at: i64 },
    Lease {
        execution_id: ExecutionId,
        /// `acquired`, `renewed`, `expired`, `reclaimed`, `revoked` (or `released` where the store records it).
        event: String,
        lease_id: Option<String>,
        holder: Option<String>,
        at: i64,
    },
    Signal {
        execution_id: ExecutionId,
        signal_id: String,
        waitpoint_id: Option<String>,
        source_identity: Option<String>,
        /// `satisfied`, `buffered`, `deduped`, … (empty when the store does not say).
        effect: String,
        at: i64,
    },
    /// Events of `stream` may have been lost: consumers must refetch.
    Resync { stream: &'static str, reason: String },
}

/// State of one reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamState {
    Live,
    Reconnecting { error: String },
}

/// The running readers: their events and their states by stream name
/// (`completion`, `lease`, `signal`).
pub struct LiveHandle {
    pub events: mpsc::Receiver<SourceEvent>,
    pub status: watch::Receiver<BTreeMap<&'static str, StreamState>>,
}
