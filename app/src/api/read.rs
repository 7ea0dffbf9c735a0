//! The read pipeline, beside the action pipeline (`actions::run::act`): a
//! server function that reads is decode → validate → [`read`] → typed
//! error.
//!
//! [`read`] gates the reader and reaches the backend (`state::conn()`: 401
//! for a visitor who may not read, 503 while the backend is down), then
//! runs the body with the connection. Inside it an engine call names itself
//! with [`Call::timed`] (under the board's deadline: 504 past it) or
//! [`Call::named`] (no deadline), the board's reads (`ReadError`) and its
//! own stores (`StoreError`) convert with `?`, and a read a backend may not
//! offer becomes a [`Field`] with [`field`]. Every status is decided in
//! `crate::error`, nowhere else.
use std::future::Future;

use ff_board_engine::connect::Connected;
use ff_core::engine_error::EngineError;

use crate::api::executions::Field;
use crate::error::AppError;

/// Gate the reader, reach the backend, run `body` on the connection.
pub async fn read<T, F, Fut>(body: F) -> Result<T, AppError>
where
    F: FnOnce(Connected) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    body(crate::state::conn()?).await
}

/// What this backend supports (`capabilities()`), for a request allowed to read.
pub fn supports() -> Result<ff_core::capability::Supports, AppError> {
    Ok(crate::state::conn()?.backend.capabilities().supports)
}

/// An engine call (a future of `Result<_, EngineError>`) named for its error.
pub trait Call<T>: Future<Output = Result<T, EngineError>> + Sized {
    /// The call `op` under the board's deadline (`FF_BOARD_DEADLINE_MS`):
    /// past it, a 504 naming the call instead of a page that hangs.
    /// Actions are not cut off this way (an engine call dropped half-way
    /// would leave its audit entry without an outcome): they use [`Call::named`].
    fn timed(self, op: &'static str) -> impl Future<Output = Result<T, AppError>> {
        async move {
            let after = ff_board_engine::backend::deadline_setting();
            match tokio::time::timeout(after, self).await {
                Ok(r) => r.map_err(|e| AppError::engine(op, e)),
                Err(_) => Err(AppError::Timeout { op: op.into(), ms: after.as_millis() as u64 }),
            }
        }
    }

    /// The call `op`, without a deadline.
    fn named(self, op: &'static str) -> impl Future<Output = Result<T, AppError>> {
        async move { self.await.map_err(|e| AppError::engine(op, e)) }
    }
}

impl<T, F: Future<Output = Result<T, EngineError>>> Call<T> for F {}

/// A read a backend may not offer, as a [`Field`]: its value (through
/// `f`), "not supported by this backend", or why it failed. Never a page error.
pub fn field<T, U>(r: Result<T, EngineError>, f: impl FnOnce(T) -> U) -> Field<U> {
    match r {
        Ok(v) => Field::Value(f(v)),
        Err(EngineError::Unavailable { op }) => Field::Unsupported(op.to_owned()),
        Err(e) => Field::Failed(e.to_string()),
    }
}
