//! The one error type of every server function, shared with the browser.
//!
//! It carries the HTTP status a page shows (400 malformed id, 404 unknown
//! id, 501 not supported by this backend, 503 backend down, 502 engine call
//! failed; a failure of one of the board's own stores 503, 504 or 500 by
//! its [`StoreFault`]) and a message naming the failing call.
use serde::{Deserialize, Serialize};
use crate::api::codec::JsonText;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Not signed in (or the session expired).
    #[error("sign in required: {0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow it, or the CSRF token is wrong.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Malformed input (an id that cannot be parsed, a bad filter).
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed id the engine does not know.
    #[error("{what} {id} not found")]
    NotFound { what: String, id: String },
    /// The engine refused because of the target's current state (it moved on).
    #[error("{op} refused in the execution's current state: {error}")]
    Conflict { op: String, error: String },
    /// The engine took the call but nothing happened (an ignored signal, a
    /// satisfier that had already counted): shown and audited as a failure.
    #[error("nothing happened: {0}")]
    NoEffect(String),
    /// The backend answers `Unavailable` for this call.
    #[error("not supported by this backend: {op}")]
    Unsupported { op: String },
    /// The backend is not reachable.
    #[error("backend {backend} is unavailable: {error}")]
    BackendDown { backend: String, error: String },
    /// An engine call failed.
    #[error("engine call {op} failed: {error}")]
    Engine { op: String, error: String },
    /// One of the board's own stores failed (audit log, session
    /// generations, stored suspensions, …): which, doing what, and how.
    #[error("{store}: {op} failed: {error}")]
    Store { store: String, op: String, fault: StoreFault, error: String },
    /// The backend did not answer within the board's deadline.
    #[error("{op}: the backend did not answer within {ms} ms; try again, or narrow the filter")]
    Timeout { op: String, ms: u64 },
    /// Too many attempts (sign-ins): wait and try again.
    #[error("{0}")]
    TooMany(String),
    /// The request itself failed (network, encoding).
    #[error("request failed: {0}")]
    Transport(String),
}

/// How one of the board's own stores failed, as the browser sees it (the
/// engine layer's `Fault`, converted in one place below).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreFault {
    /// Not reachable: 503.
    Unreachable,
    /// No answer in time: 504.
    Timeout,
    /// It answered with an error or data the board cannot use: 500.
    Failed,
}

impl AppError {
    /// The HTTP status a page showing this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } | AppError::NoEffect(_) => 409,
            AppError::TooMany(_) => 429,
            AppError::Unsupported { .. } => 501,
            AppError::BackendDown { .. } => 503,
            AppError::Engine { .. } | AppError::Transport(_) => 502,
            AppError::Timeout { .. } => 504,
            AppError::Store { fault, .. } => match fault {
                StoreFault::Unreachable => 503,
                StoreFault::Timeout => 504,
                StoreFault::Failed => 500,
            },
        }
    }

    pub fn not_found(what: &str, id: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into(), id: id.into() }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonText;

    /// A request the server could not decode (missing or malformed
    /// fields, a body that is no form) is the client's error: 400, not the
    /// 502 that tells a proxy the board's upstream failed.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // An answer of another build, read by an older tab (the client side).
            ServerFnErrorErr::Deserialization(m) if m.contains(crate::api::codec::UPGRADED) => AppError::Transport(m),
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) | ServerFnErrorErr::Deserialization(m) => {
                AppError::BadRequest(format!("malformed request: {}", clip(&m)))
            }
            ServerFnErrorErr::UnsupportedRequestMethod(m) => AppError::BadRequest(format!("unsupported request method: {}", clip(&m))),
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// At most 200 characters of a decoder's message (it may echo the input).
fn clip(m: &str) -> String {
    if m.chars().count() <= 200 { m.to_owned() } else { format!("{}…", m.chars().take(200).collect::<String>()) }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Map an engine error of call `op`.
    pub fn engine(op: &str, e: ff_core::engine_error::EngineError) -> Self {
        Self::engine_ref(op, &e)
    }

    fn engine_ref(op: &str, e: &ff_core::engine_error::EngineError) -> Self {
        use ff_core::engine_error::EngineError as E;
        // Classified by the innermost error; the message keeps the context.
        let mut root = e;
        while let E::Contextual { source, .. } = root {
            root = source;
        }
        match root {
            E::Unavailable { op } => AppError::Unsupported { op: (*op).into() },
            E::NotFound { entity } => AppError::not_found(entity, ""),
            E::Contention(_) | E::Conflict(_) | E::State(_) => AppError::Conflict { op: op.into(), error: e.to_string() },
            E::Transport { source, .. } if state_changed(source.as_ref()) => AppError::Conflict { op: op.into(), error: e.to_string() },
            _ => AppError::Engine { op: op.into(), error: e.to_string() },
        }
    }

    /// Map a failed board read (the one place its statuses are decided).
    pub fn read(e: &ff_board_engine::backend::ReadError) -> Self {
        use ff_board_engine::backend::ReadError as R;
        match e {
            R::Engine { op, source } => Self::engine_ref(op, source),
            R::Store(s) => AppError::Engine { op: s.op.into(), error: s.cause.clone() },
            R::BadCursor(_) => AppError::BadRequest(e.to_string()),
            R::Unanswered { field } => AppError::Unsupported { op: format!("search by {field}:") },
            R::Timeout { op, after } => AppError::Timeout { op: (*op).into(), ms: after.as_millis() as u64 },
            R::Shared(inner) => Self::read(inner),
        }
    }
}

/// Whether a Valkey transport error is the engine's script saying the
/// execution is no longer in the state the action needs (it moved on
/// between the page and the click): a 409 to retry on fresh data, not a
/// 502. 0.15's Valkey backend sends these as `Transport` (ff-core cannot
/// name `ScriptError`); the SQL backends send `State` / `Conflict`.
#[cfg(feature = "ssr")]
fn state_changed(source: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    use ff_script::error::ScriptError as S;
    matches!(
        source.downcast_ref::<S>(),
        Some(
            S::ExecutionNotEligible
                | S::ExecutionNotInEligibleSet
                | S::ExecutionNotActive { .. }
                | S::ExecutionNotReclaimable
                | S::ExecutionNotLeaseable
                | S::ExecutionNotEligibleForAttempt
                | S::NoActiveLease
                | S::LeaseConflict
                | S::StaleGraphRevision
        )
    )
}

/// A failure of the board's own store, with the status of its fault.
#[cfg(feature = "ssr")]
impl From<ff_board_engine::StoreError> for AppError {
    fn from(e: ff_board_engine::StoreError) -> Self {
        use ff_board_engine::Fault;
        let fault = match e.fault {
            Fault::Unreachable => StoreFault::Unreachable,
            Fault::Timeout => StoreFault::Timeout,
            Fault::Failed => StoreFault::Failed,
        };
        AppError::Store { store: e.store.name().into(), op: e.op.into(), fault, error: e.cause }
    }
}

#[cfg(feature = "ssr")]
impl From<ff_board_engine::backend::ReadError> for AppError {
    fn from(e: ff_board_engine::backend::ReadError) -> Self {
        AppError::read(&e)
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::AppError;
    use ff_core::engine_error::EngineError as E;
    use ff_script::error::ScriptError;

    #[test]
    fn a_valkey_script_saying_the_state_changed_is_a_conflict_under_any_context() {
        let moved = E::Transport { backend: "valkey", source: Box::new(ScriptError::ExecutionNotEligible) };
        let wrapped = E::Contextual { source: Box::new(moved), context: "FCALL ff_change_priority".into() };
        match AppError::engine("change_priority", wrapped) {
            AppError::Conflict { error, .. } => assert!(error.contains("FCALL ff_change_priority"), "{error}"),
            other => panic!("{other:?}"),
        }
        // Another transport failure stays an upstream error.
        let down = E::Transport { backend: "valkey", source: "connection refused".into() };
        assert!(matches!(AppError::engine("change_priority", down), AppError::Engine { .. }));
    }

    #[test]
    fn a_store_failure_answers_by_its_fault_and_names_store_and_op() {
        use ff_board_engine::{Store, StoreError};
        let refused = StoreError::new(Store::Audit, "open", "error communicating with database: Connection refused (os error 111)");
        let slow = StoreError::timeout(Store::Sessions, "bump", std::time::Duration::from_millis(250));
        let broken = StoreError::invalid(Store::Suspensions, "read", "condition is not JSON");
        let statuses: Vec<u16> = [refused, slow, broken.clone()].into_iter().map(|e| AppError::from(e).status()).collect();
        assert_eq!(statuses, [503, 504, 500]);
        assert_eq!(AppError::from(broken).to_string(), "suspension store: read failed: condition is not JSON");
    }
}
