//! The one error type of the board's own stores: what the board keeps beside
//! the engine's trait in the deployment's store (audit log, session
//! generations, stored suspensions and waitpoint owners, live event
//! sources, the lane registry, schema migrations) and the connection that
//! reaches them.
//!
//! A [`StoreError`] names which store, which operation and the cause, and
//! whether the store could not be reached ([`Fault::Unreachable`]), did not
//! answer in time ([`Fault::Timeout`]) or answered something the board could
//! not use ([`Fault::Failed`]). The app turns it into its `AppError` with a
//! status in one place (`app/src/error.rs`): 503, 504 and 500.
use std::fmt;

/// Which of the board's own stores failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Store {
    /// The audit log (`ff_board_audit`, the Valkey audit stream).
    Audit,
    /// Session generations (sign-out everywhere).
    Sessions,
    /// Saved views (`crate::views`).
    Views,
    /// Stored suspensions and waitpoint owners read beside the trait.
    Suspensions,
    /// The live event sources (completions, lease history, signals).
    Live,
    /// The lane registry.
    Lanes,
    /// Tables, indexes and keys created by `--migrate`.
    Schema,
    /// The connection to the deployment's store itself (dial, ping).
    Connection,
    /// The embedded demo workload.
    Demo,
    /// The engine's tables and keys as the board's list pages read them.
    Reads,
    /// Two-person requests (`crate::requests`).
    Requests,
    /// Allowances every replica shares (`crate::allowance`).
    Allowances,
    /// Budget usage samples every replica shares (`crate::usage`).
    Usage,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::Audit => "audit log",
            Store::Sessions => "session store",
            Store::Views => "saved views",
            Store::Suspensions => "suspension store",
            Store::Live => "live event source",
            Store::Lanes => "lane registry",
            Store::Schema => "schema",
            Store::Connection => "connection",
            Store::Demo => "demo workload",
            Store::Reads => "list reads",
            Store::Requests => "two-person requests",
            Store::Allowances => "shared allowances",
            Store::Usage => "budget usage samples",
        }
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a store failed, which decides the status a page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The store could not be reached (connection refused, closed, reset).
    Unreachable,
    /// No answer within the board's deadline.
    Timeout,
    /// The store answered, but with an error or data the board cannot use.
    Failed,
}

/// A failure of one of the board's own stores.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{store}: {op} failed: {cause}")]
pub struct StoreError {
    pub store: Store,
    pub op: &'static str,
    pub fault: Fault,
    pub cause: String,
}

impl StoreError {
    /// A failure whose cause is `e`, judged unreachable when its text says
    /// the connection is gone (`sqlx` and `ferriskey` both say so only in
    /// their text across the kinds the board sees).
    pub fn new(store: Store, op: &'static str, e: impl fmt::Display) -> Self {
        let cause = e.to_string();
        let fault = if looks_unreachable(&cause) { Fault::Unreachable } else { Fault::Failed };
        StoreError { store, op, fault, cause }
    }

    /// A store that could not be reached, whatever the cause says (a dial).
    pub fn unreachable(store: Store, op: &'static str, e: impl fmt::Display) -> Self {
        StoreError { store, op, fault: Fault::Unreachable, cause: e.to_string() }
    }

    /// Data the store returned that the board cannot decode.
    pub fn invalid(store: Store, op: &'static str, what: impl Into<String>) -> Self {
        StoreError { store, op, fault: Fault::Failed, cause: what.into() }
    }

    /// No answer within `after`.
    pub fn timeout(store: Store, op: &'static str, after: std::time::Duration) -> Self {
        StoreError { store, op, fault: Fault::Timeout, cause: format!("no answer within {} ms", after.as_millis()) }
    }

    /// A closure for `map_err`: `.map_err(StoreError::at(Store::Audit, "trim"))`.
    pub fn at<E: fmt::Display>(store: Store, op: &'static str) -> impl Fn(E) -> StoreError {
        move |e| StoreError::new(store, op, e)
    }
}

fn looks_unreachable(cause: &str) -> bool {
    let c = cause.to_ascii_lowercase();
    ["connection refused", "connection reset", "broken pipe", "pool timed out", "connection closed", "not connected", "io error"]
        .iter()
        .any(|s| c.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_store_op_and_cause() {
        let e = StoreError::new(Store::Audit, "trim", "syntax error at or near");
        assert_eq!(e.to_string(), "audit log: trim failed: syntax error at or near");
        assert_eq!(e.fault, Fault::Failed);
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        let e = StoreError::new(Store::Sessions, "bump", "error communicating with database: Connection refused (os error 111)");
        assert_eq!(e.fault, Fault::Unreachable);
        let t = StoreError::timeout(Store::Live, "read", std::time::Duration::from_millis(250));
        assert_eq!(t.fault, Fault::Timeout);
        assert!(t.to_string().contains("250 ms"));
    }
}
