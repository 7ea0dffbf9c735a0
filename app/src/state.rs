//! The axum state (server only): Leptos options plus the one engine seam.
//! Server functions read it with [`conn`] (provided as context by
//! `leptos_routes_with_context`).
use std::sync::Arc;

use axum::extract::FromRef;
use ff_board_engine::connect::Connected;
use ff_board_engine::Engine;
use leptos::prelude::*;

use crate::error::AppError;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Arc<Engine>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<Engine> {
    fn from_ref(s: &AppState) -> Self {
        s.engine.clone()
    }
}

/// The engine of this request.
pub fn engine() -> Result<Arc<Engine>, AppError> {
    use_context::<AppState>()
        .map(|s| s.engine)
        .ok_or_else(|| AppError::Transport("board state missing from request context".into()))
}

/// The dialed backend, or a `BackendDown` error naming it.
pub fn conn() -> Result<Connected, AppError> {
    engine()?.connected().map_err(|d| AppError::BackendDown {
        backend: d.backend,
        error: d.error.unwrap_or_else(|| "not connected".into()),
    })
}
