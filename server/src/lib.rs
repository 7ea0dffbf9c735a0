//! The ff-board server as a library: the axum router (Leptos SSR pages,
//! server functions, static files, `/healthz`) over one [`Engine`], so the
//! binary and the integration tests build exactly the same app.
use std::future::IntoFuture;
use std::sync::Arc;

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use ff_board_app::{auth::Authenticator, error::AppError, shell, state::AppState, App};
use ff_board_engine::Engine;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub mod auth;
pub mod authn;
pub mod cli;
pub mod export;
pub mod hosts;
pub mod limiter;
pub mod origin;
pub mod revoke;
pub mod oidc;
pub mod trusted;
pub mod live;

/// The largest request body accepted (413 beyond): a bulk action of the
/// most ids allowed (1,000 execution ids, URL-encoded) is about 70 KiB;
/// every other form is a few hundred bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// The whole board: a live bus fed by the engine readers (started once
/// the backend is dialed) and the router.
pub fn app(engine: Arc<Engine>, leptos_options: LeptosOptions, auth: Arc<dyn Authenticator>) -> Router {
    app_on(engine, leptos_options, auth, live::bus::Bus::new())
}

/// How long a shutdown waits for requests in flight (an action and its
/// audit outcome) before it stops anyway: under the 30 s a Kubernetes pod
/// gets by default between SIGTERM and SIGKILL.
pub const DRAIN: std::time::Duration = std::time::Duration::from_secs(20);

/// Serve the whole board on `listener` until `signal` completes; then stop
/// accepting, close every live socket (code 1012: browsers reconnect to
/// the next replica), let requests in flight finish for at most [`DRAIN`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    leptos_options: LeptosOptions,
    auth: Arc<dyn Authenticator>,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bus = live::bus::Bus::new();
    let app = app_on(engine, leptos_options, auth, bus.clone());
    let (fired, on_fire) = tokio::sync::oneshot::channel::<()>();
    let graceful = async move {
        signal.await;
        tracing::info!("shutting down: live sockets closed, finishing requests in flight");
        bus.close();
        let _ = fired.send(());
    };
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(graceful)
        .into_future();
    let deadline = async {
        match on_fire.await {
            Ok(()) => tokio::time::sleep(DRAIN).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        r = server => r,
        _ = deadline => {
            tracing::warn!("shutdown: requests still open after {} s; stopping anyway", DRAIN.as_secs());
            Ok(())
        }
    }
}

/// [`app`] on a given bus.
fn app_on(engine: Arc<Engine>, leptos_options: LeptosOptions, auth: Arc<dyn Authenticator>, bus: Arc<live::bus::Bus>) -> Router {
    live::pump::spawn(engine.clone(), bus.clone());
    auth.start(engine.clone());
    let days = std::env::var("FF_BOARD_AUDIT_RETENTION_DAYS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(ff_board_engine::audit::DEFAULT_RETENTION_DAYS);
    let dialed = engine.clone();
    tokio::spawn(async move {
        loop {
            if let Ok(c) = dialed.connected() {
                c.side.discover_lanes(c.partitions);
                return ff_board_engine::audit::retain(c.side.clone(), days);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    });
    router(engine, leptos_options, auth, bus)
}

/// The router over an engine, an authenticator and a bus.
pub fn router(
    engine: Arc<Engine>,
    leptos_options: LeptosOptions,
    auth: Arc<dyn Authenticator>,
    bus: Arc<live::bus::Bus>,
) -> Router {
    let ws = live::ws::WsState::new(bus, auth.clone());
    router_with(engine, leptos_options, auth, ws)
}

/// The router with the live socket's state (and limits) given.
pub fn router_with(engine: Arc<Engine>, leptos_options: LeptosOptions, auth: Arc<dyn Authenticator>, ws: live::ws::WsState) -> Router {
    let routes = route_list();
    let ws = Router::new().route("/ws", get(live::ws::handler)).with_state(ws).merge(auth.routes());
    let pkg = assets(&leptos_options);
    let state = AppState { leptos_options, engine, auth, audit: Default::default(), views: Default::default(), requests: Default::default(), refusals: Default::default() };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/executions/export.csv", get(export::csv))
        .route("/executions/export.ndjson", get(export::ndjson))
        .route("/flows/export.csv", get(export::flows_csv))
        .route("/flows/export.ndjson", get(export::flows_ndjson))
        .nest_service(&format!("/{}", state.leptos_options.site_pkg_dir), pkg)
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        // Every request body (forms, server-function calls) is small.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .merge(ws)
        .layer(axum::middleware::map_response(error_status))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(measure))
        // Requests from a trusted proxy marked (its user headers believed): `trusted`.
        .layer(axum::middleware::from_fn(trusted::mark))
        // Posts from another site (login CSRF, sign-out): `origin`.
        .layer(axum::middleware::from_fn_with_state(origin::Origins::from_env(), origin::check))
        // DNS rebinding: only Host names the board knows (`hosts`).
        .layer(axum::middleware::from_fn_with_state(hosts::Hosts::from_env(), hosts::check))
        // Access log: one line per request at info (target ff_board::access).
        .layer(axum::middleware::from_fn(access_log))
        // Pages and server-function answers compressed on the fly; the
        // assets above are sent from their precompressed copies.
        .layer(tower_http::compression::CompressionLayer::new().br(true).gzip(true))
}

/// The app's routes, generated once per process. Generating them runs the
/// app with resource loading suppressed through a process-global flag
/// (`leptos_server`'s `SuppressResourceLoad`); a resource first polled by
/// a page rendering meanwhile on another board of the same process waits
/// forever (leptos-rs/leptos#4773). Seen as a /flows request that never
/// answered in the test suite, where boards start while others serve.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The generated JS / WASM / CSS: the `.br` / `.gz` copies cargo-leptos
/// wrote (`--precompress`) when the browser takes them, and with hashed
/// names (`hash-files`) a one-year immutable `Cache-Control` — a new build
/// has new names. Unhashed (debug) builds are revalidated every time.
fn assets(options: &LeptosOptions) -> axum::routing::MethodRouter {
    use axum::http::header::{HeaderValue, CACHE_CONTROL};
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let cache = if options.hash_files { "public, max-age=31536000, immutable" } else { "no-cache" };
    let files = tower_http::services::ServeDir::new(dir).precompressed_br().precompressed_gzip();
    let service = tower::ServiceBuilder::new()
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static(cache)))
        .service(files);
    axum::routing::get_service(service)
}

/// Server functions answer errors with 500; give an [`AppError`] its own
/// status (401, 403, 400, 404, 501, 502, 503) so HTTP clients and proxies
/// see what happened. The JSON body is kept as it is.
async fn error_status(res: axum::response::Response) -> axum::response::Response {
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Headers on every answer: no framing (clickjacking of action buttons),
/// no MIME sniffing, no referrer outside the board, HSTS, and a CSP that
/// forbids framing, plugins, foreign form targets and `<base>` rewrites.
/// Pages carry their own stricter CSP (`ff_board_app::page_csp`: scripts
/// only with the response's nonce), which this keeps.
async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{HeaderValue, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
    let h = res.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // Browsers honour it over HTTPS only, so plain-HTTP development is unaffected.
    h.insert(axum::http::header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    h.entry(CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    ));
    res
}

/// One line per answered request: method, path (no query: it may hold
/// ids a log need not keep), status, time.
async fn access_log(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    if status == 403 {
        tracing::warn!(target: "ff_board::access", %method, path, status, ms, "refused");
    } else {
        tracing::info!(target: "ff_board::access", %method, path, status, ms);
    }
    res
}

/// Time every request under its matched route (`other` when none matched:
/// the label set stays bounded whatever paths clients send).
async fn measure(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let route = req.extensions().get::<axum::extract::MatchedPath>().map_or("other", |p| p.as_str()).to_owned();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    ff_board_engine::metrics::global().http(&route, res.status().as_u16(), started.elapsed());
    res
}

/// Environment variable holding the bearer token `/metrics` asks for.
pub const METRICS_TOKEN_ENV: &str = "FF_BOARD_METRICS_TOKEN";

/// Prometheus metrics of this board process (`ff_board_engine::metrics`).
/// With `FF_BOARD_METRICS_TOKEN` set, a scraper sends
/// `Authorization: Bearer <token>`; without it, only visitors who may read
/// the board (signed in, or anonymous reads on) get them. Otherwise 401.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> axum::response::Response {
    let token = std::env::var(METRICS_TOKEN_ENV).ok().filter(|t| !t.is_empty());
    let bearer = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let allowed = match (&token, bearer) {
        (Some(token), Some(given)) => metrics_token_matches(token, given),
        _ => state.auth.anonymous_read() || state.auth.actor(&headers).is_some(),
    };
    if !allowed {
        let why = if token.is_some() {
            "metrics need the bearer token of FF_BOARD_METRICS_TOKEN (Authorization: Bearer …) or a signed-in session"
        } else {
            "metrics need a signed-in session, or a scraper token: set FF_BOARD_METRICS_TOKEN and send Authorization: Bearer …"
        };
        return (StatusCode::UNAUTHORIZED, [(axum::http::header::WWW_AUTHENTICATE, "Bearer")], why).into_response();
    }
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        ff_board_engine::metrics::global().render(),
    )
        .into_response()
}

/// Whether an `Authorization` header value is `Bearer <token>` (constant time).
pub fn metrics_token_matches(token: &str, header: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some(given) = header.strip_prefix("Bearer ") else { return false };
    given.trim().as_bytes().ct_eq(token.as_bytes()).into()
}

/// 200 whenever the board runs; the body says whether the backend answers.
/// Where the backend is and its raw errors only for visitors who may read
/// the board (signed in, or anonymous reads on).
async fn healthz(State(state): State<AppState>, headers: axum::http::HeaderMap) -> impl IntoResponse {
    let status = state.engine.status();
    if !state.auth.anonymous_read() && state.auth.actor(&headers).is_none() {
        return (StatusCode::OK, Json(serde_json::json!({ "board": "ok", "backend_ok": status.connected })));
    }
    // The live readers: a crashed one shows here while it restarts.
    let states = ff_board_engine::live::states().unwrap_or_default();
    let live_ok = !states.is_empty() && states.values().all(|s| s.is_up());
    let streams: serde_json::Map<String, serde_json::Value> =
        states.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.describe()))).collect();
    let body = serde_json::json!({
        "board": "ok",
        "backend": status.backend,
        "kind": status.kind,
        "backend_ok": status.connected,
        "error": status.error,
        "live_ok": live_ok,
        "streams": streams,
    });
    (StatusCode::OK, Json(body))
}

/// Leptos options for a server started outside cargo-leptos (tests):
/// site root and package name as in the workspace metadata.
pub fn default_options(site_root: &str) -> LeptosOptions {
    LeptosOptions::builder().output_name("ff-board").site_root(site_root).site_pkg_dir("pkg").build()
}

#[cfg(test)]
mod tests {
    use super::metrics_token_matches;

    #[test]
    fn metrics_token_is_a_bearer_token_compared_whole() {
        assert!(metrics_token_matches("s3cret-token", "Bearer s3cret-token"));
        assert!(!metrics_token_matches("s3cret-token", "Bearer s3cret-toke"));
        assert!(!metrics_token_matches("s3cret-token", "Bearer s3cret-token-and-more"));
        assert!(!metrics_token_matches("s3cret-token", "s3cret-token"));
        assert!(!metrics_token_matches("s3cret-token", "Basic s3cret-token"));
        assert!(!metrics_token_matches("s3cret-token", "Bearer "));
    }
}
