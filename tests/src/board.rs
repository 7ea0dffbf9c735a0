//! A board served on a free port over a dialed backend, and an HTTP client
//! that signs in as the demo users and keeps every response body.
use std::sync::Arc;

use ff_board::authn::BoardAuth;
use ff_board_engine::connect::Connected;
use ff_board_engine::{BackendSpec, Engine};

/// A signed-in user: the session cookie and the CSRF token of the session.
pub struct Op {
    pub cookie: String,
    pub csrf: String,
}

pub struct Board {
    pub base: String,
    pub auth: Arc<BoardAuth>,
    pub http: reqwest::Client,
    /// Every response body, to scan for secrets.
    pub bodies: std::sync::Mutex<Vec<String>>,
}

impl Board {
    pub async fn start(url: &str, c: &Connected) -> Board {
        Self::serve(url, c, true).await
    }

    /// The board without its live pump: the store sees only what views ask
    /// for (to count what one view costs).
    pub async fn start_quiet(url: &str, c: &Connected) -> Board {
        Self::serve(url, c, false).await
    }

    async fn serve(url: &str, c: &Connected, live: bool) -> Board {
        Self::serve_with(url, c, live, demo_auth(), None).await
    }

    /// A board with its own authenticator (shared secrets, users files)
    /// and, when given, a cap on live sockets.
    pub async fn start_with(url: &str, c: &Connected, auth: Arc<BoardAuth>, ws_cap: Option<usize>) -> Board {
        Self::serve_with(url, c, true, auth, ws_cap).await
    }

    /// A board whose live socket has per-user and per-address caps.
    pub async fn start_with_client_caps(url: &str, c: &Connected, auth: Arc<BoardAuth>, per_user: usize, per_address: usize) -> Board {
        let engine = Engine::from_connected(BackendSpec::parse(Some(url)).unwrap(), c.clone());
        let bus = ff_board::live::bus::Bus::new();
        let dyn_auth: Arc<dyn ff_board_app::auth::Authenticator> = auth.clone();
        let ws = ff_board::live::ws::WsState::new(bus, dyn_auth.clone()).with_client_caps(per_user, per_address);
        let app = ff_board::router_with(engine, ff_board::default_options("target/site"), dyn_auth, ws);
        Board { base: listen(app).await, auth, http: reqwest::Client::new(), bodies: Default::default() }
    }

    async fn serve_with(url: &str, c: &Connected, live: bool, auth: Arc<BoardAuth>, ws_cap: Option<usize>) -> Board {
        let engine = Engine::from_connected(BackendSpec::parse(Some(url)).unwrap(), c.clone());
        let options = ff_board::default_options("target/site");
        let app = if live && ws_cap.is_none() {
            ff_board::app(engine, options, auth.clone())
        } else {
            let bus = ff_board::live::bus::Bus::new();
            let dyn_auth: Arc<dyn ff_board_app::auth::Authenticator> = auth.clone();
            if live {
                ff_board::live::pump::spawn(engine.clone(), bus.clone());
                dyn_auth.start(engine.clone());
            }
            let ws = ff_board::live::ws::WsState::new(bus, dyn_auth.clone()).with_max_connections(ws_cap.unwrap_or(ff_board::live::ws::DEFAULT_MAX_CONNECTIONS));
            ff_board::router_with(engine, options, dyn_auth, ws)
        };
        Board { base: listen(app).await, auth, http: reqwest::Client::new(), bodies: Default::default() }
    }

    /// A signed-in demo user.
    pub async fn op(&self, user: &str) -> Op {
        let (cookie, csrf) = self.sign_in(user).await;
        Op { cookie, csrf }
    }

    /// `(cookie, csrf)` of a signed-in demo user.
    pub async fn sign_in(&self, user: &str) -> (String, String) {
        let cookie = self.auth.session_cookie(user).expect("demo user");
        let me: serde_json::Value = self
            .http
            .post(format!("{}/api/me", self.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (cookie, me["actor"]["csrf"].as_str().expect("csrf").to_owned())
    }

    /// POST a server function as a form; returns (status, body), a
    /// postcard answer turned into JSON ([`crate::wire::answer`]), an error
    /// as the board sent it (JSON).
    pub async fn post(&self, endpoint: &str, cookie: Option<&str>, form: &[(&str, String)]) -> (u16, String) {
        let mut req = self.http.post(format!("{}/api/{endpoint}", self.base)).form(form);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let postcard = r.headers().get("content-type").is_some_and(|v| v.as_bytes() == b"application/x-postcard");
        let bytes = r.bytes().await.unwrap();
        let body = if postcard { crate::wire::answer(endpoint, &bytes) } else { String::from_utf8_lossy(&bytes).into_owned() };
        self.bodies.lock().unwrap().push(body.clone());
        (status, body)
    }

    /// Status and body of a page.
    pub async fn get_status(&self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// A page's HTML; kept with the strings of its hydration data.
    pub async fn get(&self, path: &str) -> String {
        let body = self.http.get(format!("{}{path}", self.base)).send().await.unwrap().text().await.unwrap();
        let data = crate::wire::hydration_strings(&body);
        self.bodies.lock().unwrap().push(format!("{body}\n{data}"));
        body
    }
}

/// The demo accounts' authenticator, signing with a fresh secret.
pub fn demo_auth() -> Arc<BoardAuth> {
    let secret = std::env::temp_dir().join(format!("ffb-secret-{}", uuid::Uuid::new_v4()));
    let auth = Arc::new(BoardAuth::demo(secret.to_str().unwrap()).unwrap());
    let _ = std::fs::remove_file(&secret);
    auth
}

/// Serve `app` on a free port of loopback as `ff_board::serve` does (each
/// request knows its peer's address); its base URL.
pub async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    format!("http://{addr}")
}

/// The board over `engine` with its live pump, or over `bus` (fed by the
/// test) when given; the URL of its `/ws`.
pub async fn serve_ws(engine: Arc<Engine>, bus: Option<Arc<ff_board::live::bus::Bus>>) -> String {
    let options = ff_board::default_options("target/site");
    let app = match bus {
        Some(bus) => ff_board::router(engine, options, demo_auth(), bus),
        None => ff_board::app(engine, options, demo_auth()),
    };
    format!("{}/ws", listen(app).await.replacen("http", "ws", 1))
}

pub fn form(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (Box::leak(k.to_string().into_boxed_str()) as &'static str, v.to_string())).collect()
}


/// Percent-encode an id for a page path.
pub fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
