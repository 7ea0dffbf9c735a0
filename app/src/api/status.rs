//! Backend identity, health and the `Supports` table (header badge, /status).
//! Visitors who may not read (anonymous, when anonymous reads are off)
//! see only whether the backend is up.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the header shows on every page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardInfo {
    /// `sqlite`, `postgres`, `valkey`.
    pub kind: String,
    /// Backend location without credentials.
    pub backend: String,
    /// The engine's own family and version (`capabilities().identity`).
    pub version: Option<String>,
    pub dev_backend: bool,
    pub embedded_demo: bool,
    pub connected: bool,
    pub error: Option<String>,
}

/// /status: identity plus every `Supports` flag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    pub info: BoardInfo,
    pub partitions: u16,
    pub supports: Vec<(String, bool)>,
    /// Lanes the board found outside the engine's registry (Valkey).
    pub lanes_outside: Vec<String>,
    /// `(per cent of the current pass, passes done)` of the lane walk.
    pub lane_discovery: Option<(u8, u64)>,
}

#[server(prefix = "/api", endpoint = "get_board_info", output = crate::api::codec::PostcardAnswer)]
pub async fn get_board_info() -> Result<BoardInfo, AppError> {
    use ff_board_engine::connect::BackendSpec;
    let engine = crate::state::engine()?;
    let status = engine.status();
    let version = engine.connected().ok().map(|c| {
        let id = c.backend.capabilities().identity;
        format!("{} {}.{}.{}", id.family, id.version.major, id.version.minor, id.version.patch)
    });
    let embedded_demo = matches!(engine.spec(), BackendSpec::Sqlite { embedded_demo: true, .. });
    // A visitor who may not read the board learns only whether it is up:
    // not where the backend is, which engine it runs, or its raw errors.
    if crate::state::reader().is_err() {
        return Ok(BoardInfo {
            kind: status.kind.as_str().to_owned(),
            backend: String::new(),
            version: None,
            dev_backend: false,
            embedded_demo: false,
            connected: status.connected,
            error: (!status.connected).then(|| "backend unavailable".to_owned()),
        });
    }
    Ok(BoardInfo {
        kind: status.kind.as_str().to_owned(),
        backend: status.backend,
        version,
        dev_backend: status.kind == ff_board_engine::BackendKind::Sqlite,
        embedded_demo,
        connected: status.connected,
        error: status.error,
    })
}

#[server(prefix = "/api", endpoint = "get_status", output = crate::api::codec::PostcardAnswer)]
pub async fn get_status() -> Result<StatusView, AppError> {
    let info = get_board_info().await?;
    super::read::read(|c| async move {
        let found = c.side.lanes_found(&c.partitions).await?;
        Ok(StatusView {
            info,
            partitions: c.partitions.num_flow_partitions,
            supports: supports_table(&c.backend.capabilities().supports),
            lane_discovery: found.as_ref().map(|f| (f.percent, f.passes)),
            lanes_outside: found.map(|f| f.outside).unwrap_or_default(),
        })
    })
    .await
}

/// `Supports` has only flat bools and no serde: read them off its Debug
/// form so every flag the engine adds shows up without a board change.
#[cfg(feature = "ssr")]
pub fn supports_table(s: &ff_core::capability::Supports) -> Vec<(String, bool)> {
    let text = format!("{s:?}");
    let inner = text.split_once('{').map(|(_, r)| r.trim_end_matches('}')).unwrap_or("");
    inner
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.split_once(':')?;
            Some((k.trim().to_owned(), v.trim() == "true"))
        })
        .collect()
}
