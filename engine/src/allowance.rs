//! Allowances every replica shares: "at most `cap` per `window`" counted in
//! the deployment's store, not in one process, so two or three boards
//! behind a balancer hold one limit together (issue 22, several replicas).
//! Used for one person's bulk actions (`FF_BOARD_BULK_APPROVAL` executions
//! per 5 minutes) and for the refusals written to the audit log
//! (30 a minute per class).
//!
//! The window slides in [`SLICES`] steps: the store keeps one counter per
//! slice of the window (`window / SLICES`), and a take adds the slices of
//! the last window. On Valkey one script reads and adds atomically
//! (`ff_board:{allowance}:<name>:<slice>`, expiring after a window); on
//! Postgres and SQLite one statement inserts or adds to the current slice
//! only when the sum stays under the cap (`ff_board_allowance`, created on
//! first use, old slices of the name deleted as it goes); on Postgres it
//! runs in a transaction holding an advisory lock on the name, so two
//! replicas' takes at the same instant are counted one after the other.
use crate::backend::side::SideStore;
use crate::store_error::StoreError;

/// Steps the window slides in.
pub const SLICES: i64 = 5;

/// What a take got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowance {
    /// Taken: the window's use, this take included.
    Taken { used: u64 },
    /// Refused: the window's use before it (this take would pass the cap).
    Refused { used: u64 },
}

/// The slice `now_ms` falls in.
pub fn slice_of(now_ms: i64, window_ms: i64) -> i64 {
    now_ms.div_euclid((window_ms / SLICES).max(1))
}

/// Take `n` from the allowance `name` (at most `cap` per `window_ms`), at `now_ms`.
pub async fn take(side: &SideStore, name: &str, n: u64, cap: u64, window_ms: i64, now_ms: i64) -> Result<Allowance, StoreError> {
    if n > cap {
        return Ok(Allowance::Refused { used: 0 });
    }
    side.take_allowance(name, n, cap, window_ms, slice_of(now_ms, window_ms)).await
}
