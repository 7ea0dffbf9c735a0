//! Backend selection and connection supervision.
//!
//! `FF_BOARD_BACKEND` (or `--backend`) is a URL: unset means the embedded
//! demo on `./ff-board-demo.db`; `sqlite:PATH`, `postgres://…` and
//! `valkey://host:port` pick a real backend. [`Engine`] holds the one
//! `Arc<dyn EngineBackend>` the board uses, dials it in the background, and
//! keeps pinging it so a backend that is down at start or goes away later is
//! shown (see [`EngineStatus`]) and retried instead of crashing the board.
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ff_core::engine_backend::EngineBackend;
use ff_core::engine_error::EngineError;
use ff_core::partition::PartitionConfig;
use serde::Serialize;

use crate::backend::{self, Reads};

/// Default SQLite file of the embedded demo.
pub const DEMO_DB: &str = "./ff-board-demo.db";

/// The backend family, as shown in the header badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Sqlite,
    Postgres,
    Valkey,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::Valkey => "valkey",
        }
    }
}

/// What `FF_BOARD_BACKEND` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendSpec {
    /// A SQLite file; `embedded_demo` is true when no backend was configured.
    Sqlite { path: String, embedded_demo: bool },
    Postgres { url: String },
    /// `seeds`: one node (standalone) or the seed nodes of a cluster,
    /// whose topology is discovered from them.
    Valkey { seeds: Vec<(String, u16)>, tls: bool, cluster: bool },
}

impl BackendSpec {
    /// Parse the setting. `None` (or empty) selects the embedded demo.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(BackendSpec::Sqlite { path: DEMO_DB.to_owned(), embedded_demo: true });
        };
        if let Some(path) = v.strip_prefix("sqlite://").or_else(|| v.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err("sqlite backend needs a path: sqlite:PATH".into());
            }
            return Ok(BackendSpec::Sqlite { path: path.to_owned(), embedded_demo: false });
        }
        if v.starts_with("postgres://") || v.starts_with("postgresql://") {
            return Ok(BackendSpec::Postgres { url: v.to_owned() });
        }
        if let Some((tls, rest)) = valkey_scheme(v) {
            return parse_valkey(v, tls, rest);
        }
        Err(format!(
            "unrecognised FF_BOARD_BACKEND {v:?}: expected sqlite:PATH, postgres://…, valkey://host:port, \
             valkeys://host:port (TLS) or valkey://host:port,host:port?cluster=true"
        ))
    }

    pub fn kind(&self) -> BackendKind {
        match self {
            BackendSpec::Sqlite { .. } => BackendKind::Sqlite,
            BackendSpec::Postgres { .. } => BackendKind::Postgres,
            BackendSpec::Valkey { .. } => BackendKind::Valkey,
        }
    }

    /// A display form without credentials.
    pub fn redacted(&self) -> String {
        match self {
            BackendSpec::Sqlite { path, .. } => format!("sqlite:{path}"),
            BackendSpec::Postgres { url } => redact_postgres(url),
            BackendSpec::Valkey { seeds, tls, cluster } => {
                let nodes: Vec<String> = seeds.iter().map(|(h, p)| format!("{h}:{p}")).collect();
                let scheme = if *tls { "valkeys" } else { "valkey" };
                format!("{scheme}://{}{}", nodes.join(","), if *cluster { "?cluster=true" } else { "" })
            }
        }
    }
}

/// A Postgres URL without its secrets: user info before `@`, and the
/// values of `password`, `sslpassword` and `passfile` query parameters.
pub fn redact_postgres(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &base[..s], &base[at + 1..]),
        _ => base.to_owned(),
    };
    let Some(query) = query else { return base };
    let params: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if matches!(k.to_ascii_lowercase().as_str(), "password" | "sslpassword" | "passfile") => format!("{k}=…"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

/// `valkey://` / `redis://` (plain) or `valkeys://` / `rediss://` (TLS), and the rest.
fn valkey_scheme(v: &str) -> Option<(bool, &str)> {
    for (scheme, tls) in [("valkey://", false), ("redis://", false), ("valkeys://", true), ("rediss://", true)] {
        if let Some(rest) = v.strip_prefix(scheme) {
            return Some((tls, rest));
        }
    }
    None
}

/// `host:port[,host:port…][/][?cluster=true]`, with clear errors for the
/// forms ff-backend-valkey 0.15 cannot dial.
fn parse_valkey(v: &str, tls: bool, rest: &str) -> Result<BackendSpec, String> {
    let (nodes, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut cluster = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("cluster", "true" | "1" | "yes")) => cluster = true,
            Some(("cluster", "false" | "0" | "no")) => cluster = false,
            _ => return Err(format!("unknown valkey URL option {pair:?} in {v:?}: the only option is cluster=true")),
        }
    }
    let nodes = nodes.trim_end_matches('/');
    if nodes.contains('@') {
        return Err(format!(
            "credentials in the valkey URL are not supported: ff-backend-valkey 0.15 connects without AUTH \
             (use a network-restricted, password-less endpoint or a TLS proxy): {v:?}"
        ));
    }
    if nodes.contains('/') {
        return Err(format!("valkey URL takes no database path (FlowFabric uses database 0): {v:?}"));
    }
    let mut seeds = Vec::new();
    for node in nodes.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let (host, port) = match node.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse::<u16>().map_err(|_| format!("invalid valkey port in {v:?}"))?),
            None => (node.to_owned(), 6379),
        };
        if host.is_empty() {
            return Err(format!("valkey backend needs a host: {v:?}"));
        }
        seeds.push((host, port));
    }
    if seeds.is_empty() {
        return Err(format!("valkey backend needs a host: {v:?}"));
    }
    if seeds.len() > 1 && !cluster {
        return Err(format!("several valkey nodes are a cluster's seeds: add ?cluster=true to {v:?}"));
    }
    Ok(BackendSpec::Valkey { seeds, tls, cluster })
}

pub use crate::backend::side::SideStore;

/// A dialed backend.
#[derive(Clone)]
pub struct Connected {
    pub backend: Arc<dyn EngineBackend>,
    pub side: SideStore,
    pub partitions: PartitionConfig,
    pub kind: BackendKind,
    /// The board's list reads for this backend, each under the deadline.
    pub reads: Arc<dyn Reads>,
    /// Valkey: the node that answered the dial (keyspace notifications are
    /// subscribed per node).
    pub valkey_seed: Option<ValkeyNode>,
}

/// A Valkey node as the board dials it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValkeyNode {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

/// Dial a backend once. `migrate` applies the Postgres schema / loads the
/// Valkey library; without it a missing Postgres schema is a clear error.
pub async fn dial(spec: &BackendSpec, migrate: bool) -> Result<Connected, crate::StoreError> {
    match spec {
        BackendSpec::Sqlite { path, .. } => backend::sqlite::dial::dial(path, migrate).await,
        BackendSpec::Postgres { url } => backend::postgres::dial::dial(url, migrate).await,
        BackendSpec::Valkey { seeds, tls, cluster } => backend::valkey::dial::dial(seeds, *tls, *cluster, migrate).await,
    }
}

/// What the header banner shows about the backend.
#[derive(Clone, Debug, Serialize)]
pub struct EngineStatus {
    pub backend: String,
    pub kind: BackendKind,
    pub connected: bool,
    /// The last dial / ping error while the backend is unhealthy.
    pub error: Option<String>,
    pub failures: u32,
}

/// The board's one engine seam: the dialed backend plus its health.
pub struct Engine {
    spec: BackendSpec,
    migrate: bool,
    current: RwLock<Option<Connected>>,
    status: RwLock<EngineStatus>,
}

impl Engine {
    pub fn new(spec: BackendSpec, migrate: bool) -> Arc<Self> {
        let status = EngineStatus {
            backend: spec.redacted(),
            kind: spec.kind(),
            connected: false,
            error: Some("connecting…".into()),
            failures: 0,
        };
        Arc::new(Self { spec, migrate, current: RwLock::new(None), status: RwLock::new(status) })
    }

    /// Wrap an already-dialed backend (tests, benchmarks).
    pub fn from_connected(spec: BackendSpec, connected: Connected) -> Arc<Self> {
        let engine = Self::new(spec, false);
        engine.install(connected);
        engine
    }

    pub fn spec(&self) -> &BackendSpec {
        &self.spec
    }

    pub fn status(&self) -> EngineStatus {
        self.status.read().expect("status lock").clone()
    }

    /// The dialed backend, or the reason there is none.
    pub fn connected(&self) -> Result<Connected, EngineDown> {
        match &*self.current.read().expect("engine lock") {
            Some(c) => Ok(c.clone()),
            None => Err(EngineDown { backend: self.spec.redacted(), error: self.status().error }),
        }
    }

    fn install(&self, connected: Connected) {
        *self.current.write().expect("engine lock") = Some(connected);
        self.mark(None);
    }

    fn mark(&self, error: Option<String>) {
        let mut s = self.status.write().expect("status lock");
        s.connected = error.is_none();
        s.failures = if error.is_some() { s.failures + 1 } else { 0 };
        s.error = error;
    }

    /// Dial until it works, then ping every few seconds; errors are kept
    /// in [`EngineStatus`] and retried with capped backoff.
    pub async fn supervise(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(250);
        loop {
            let have = self.current.read().expect("engine lock").clone();
            match have {
                None => match dial(&self.spec, self.migrate).await {
                    Ok(c) => {
                        tracing::info!(backend = %self.spec.redacted(), "backend connected");
                        self.install(c);
                        backoff = Duration::from_millis(250);
                    }
                    Err(e) => {
                        tracing::warn!(backend = %self.spec.redacted(), error = %e, "backend dial failed");
                        self.mark(Some(e.to_string()));
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                        continue;
                    }
                },
                Some(c) => {
                    let ping = tokio::time::timeout(Duration::from_secs(3), c.backend.ping()).await;
                    match ping {
                        Ok(Ok(())) => self.mark(None),
                        Ok(Err(e)) => self.mark(Some(format!("ping: {e}"))),
                        Err(_) => self.mark(Some("ping: no answer within 3 s".into())),
                    }
                }
            }
            let healthy = self.status().connected;
            tokio::time::sleep(if healthy { Duration::from_secs(3) } else { Duration::from_secs(1) }).await;
        }
    }
}

/// The backend is not dialed (yet).
#[derive(Clone, Debug)]
pub struct EngineDown {
    pub backend: String,
    pub error: Option<String>,
}

/// Whether an engine error means "this backend does not do that".
pub fn is_unavailable(e: &EngineError) -> bool {
    matches!(e, EngineError::Unavailable { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_secrets_are_redacted() {
        assert_eq!(redact_postgres("postgres://u:pw@db:5432/x"), "postgres://…@db:5432/x");
        assert_eq!(
            redact_postgres("postgres://db/x?user=u&password=pw&sslmode=require&PassFile=/p"),
            "postgres://db/x?user=u&password=…&sslmode=require&PassFile=…"
        );
        assert_eq!(redact_postgres("postgres://u:p@w@db/x?sslpassword=s"), "postgres://…@db/x?sslpassword=…");
        assert_eq!(redact_postgres("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn parses_backend_urls() {
        assert!(matches!(BackendSpec::parse(None), Ok(BackendSpec::Sqlite { embedded_demo: true, .. })));
        assert_eq!(
            BackendSpec::parse(Some("sqlite:/tmp/x.db")).unwrap(),
            BackendSpec::Sqlite { path: "/tmp/x.db".into(), embedded_demo: false }
        );
        assert_eq!(
            BackendSpec::parse(Some("valkey://127.0.0.1:7001")).unwrap(),
            BackendSpec::Valkey { seeds: vec![("127.0.0.1".into(), 7001)], tls: false, cluster: false }
        );
        let c = BackendSpec::parse(Some("valkeys://a:7101,b:7102/?cluster=true")).unwrap();
        assert_eq!(c, BackendSpec::Valkey { seeds: vec![("a".into(), 7101), ("b".into(), 7102)], tls: true, cluster: true });
        assert_eq!(c.redacted(), "valkeys://a:7101,b:7102?cluster=true");
        let err = |u: &str| BackendSpec::parse(Some(u)).unwrap_err();
        assert!(err("valkey://a:1,b:2").contains("?cluster=true"));
        assert!(err("valkey://user:pw@h:1").contains("credentials"));
        assert!(err("valkey://h:1?tls=1").contains("only option"));
        assert!(err("valkey://h:1/3").contains("database"));
        assert!(BackendSpec::parse(Some("mysql://x")).is_err());
        assert!(BackendSpec::parse(Some("valkey://h:notaport")).is_err());
        let pg = BackendSpec::parse(Some("postgres://u:secret@h/db")).unwrap();
        assert_eq!(pg.redacted(), "postgres://…@h/db");
    }
}
