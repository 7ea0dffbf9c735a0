//! `GET /ws`: one WebSocket session per browser.
//!
//! The socket is split in two tasks: a reader that parses client frames
//! (the first must be `subscribe`, within [`SUBSCRIBE_TIMEOUT`]) and a
//! writer that `select!`s between bus frames and the reader's commands.
//! [`session`] is generic over `Sink<String>` / `Stream<Item = String>` so a
//! unit test drives it with channels; [`handler`] adapts axum's socket.
//!
//! Limits: client messages of at most [`MAX_MESSAGE`] bytes, at most
//! [`MAX_TOPICS`] topics; a browser's `Origin` must be the board's own (or
//! listed in `FF_BOARD_ALLOWED_ORIGINS`); at most [`WsState::max_connections`]
//! sockets (`FF_BOARD_MAX_WS`, default [`DEFAULT_MAX_CONNECTIONS`]), the
//! next one gets 503 with the reason; one signed-in user holds at most
//! [`WsState::max_per_user`] (`FF_BOARD_MAX_WS_PER_USER`, default
//! [`DEFAULT_MAX_PER_USER`]) and one client address at most
//! [`WsState::max_per_address`] (`FF_BOARD_MAX_WS_PER_ADDRESS`, default
//! [`DEFAULT_MAX_PER_ADDRESS`]; the address behind a trusted proxy as for
//! sign-in), the next one gets 429 — no one client holds the board's cap; a ping every [`PING_EVERY`] and the
//! socket closed after [`IDLE_TIMEOUT`] without any client frame (pongs
//! count); the session re-checked every [`RECHECK_EVERY`] (a signed-out,
//! expired or removed user's socket is closed).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use ff_board_app::live::{valid_topic, ClientMsg, Frame, LiveEvent};
use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::{broadcast, mpsc};

use super::bus::{Bus, Published};

pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest client message (a subscribe with 32 long topics fits).
pub const MAX_MESSAGE: usize = 16 * 1024;
/// Most topics one subscribe may name.
pub const MAX_TOPICS: usize = 32;
/// Sockets open at once unless `FF_BOARD_MAX_WS` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_000;
/// Sockets one signed-in user may hold (tabs) unless configured.
pub const DEFAULT_MAX_PER_USER: usize = 20;
/// Sockets one client address may hold unless configured.
pub const DEFAULT_MAX_PER_ADDRESS: usize = 200;
/// How often the server pings.
pub const PING_EVERY: Duration = Duration::from_secs(25);
/// A socket with no client frame (pongs included) this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// How often the socket's session is checked again.
pub const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// How often a session pings and re-checks its client's right to watch.
#[derive(Clone, Copy, Debug)]
pub struct Cadence {
    pub ping: Duration,
    pub recheck: Duration,
}

impl Cadence {
    /// [`PING_EVERY`] and [`RECHECK_EVERY`].
    pub const DEFAULT: Cadence = Cadence { ping: PING_EVERY, recheck: RECHECK_EVERY };
}
/// What the writer sends to have the adapter ping (never a JSON frame).
const PING: &str = "\u{0}ping";
/// What [`session`] sends last when the board shuts down; the socket
/// adapter turns it into a close frame with code 1012 ("service restart").
pub const RESTARTING: &str = "\u{0}restarting";

/// What `/ws` needs: the bus, the authenticator (viewers may watch;
/// anonymous visitors only where the board allows anonymous reads) and
/// the limits.
#[derive(Clone)]
pub struct WsState {
    pub bus: Arc<Bus>,
    pub auth: Arc<dyn ff_board_app::auth::Authenticator>,
    pub max_connections: usize,
    /// Origins allowed besides the board's own (`scheme://host[:port]`).
    pub allowed_origins: Arc<Vec<String>>,
    pub max_per_user: usize,
    pub max_per_address: usize,
    open: Arc<AtomicUsize>,
    /// Sockets held per client (`user:<name>`, `addr:<ip>`).
    held: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl WsState {
    /// Limits from `FF_BOARD_MAX_WS` and `FF_BOARD_ALLOWED_ORIGINS`.
    pub fn new(bus: Arc<Bus>, auth: Arc<dyn ff_board_app::auth::Authenticator>) -> WsState {
        let max = std::env::var("FF_BOARD_MAX_WS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_MAX_CONNECTIONS);
        let origins = allowed_origins_from_env();
        let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(d);
        WsState {
            bus,
            auth,
            max_connections: max,
            allowed_origins: Arc::new(origins),
            max_per_user: env("FF_BOARD_MAX_WS_PER_USER", DEFAULT_MAX_PER_USER),
            max_per_address: env("FF_BOARD_MAX_WS_PER_ADDRESS", DEFAULT_MAX_PER_ADDRESS),
            open: Arc::default(),
            held: Arc::default(),
        }
    }

    /// The same with another connection cap (tests).
    pub fn with_max_connections(mut self, max: usize) -> WsState {
        self.max_connections = max;
        self
    }

    /// The same with other per-client caps (tests).
    pub fn with_client_caps(mut self, per_user: usize, per_address: usize) -> WsState {
        self.max_per_user = per_user;
        self.max_per_address = per_address;
        self
    }

    /// Take a place for each of `keys` under its cap, all or none.
    fn hold(&self, keys: &[(String, usize)]) -> Result<Held, String> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, cap)) = keys.iter().find(|(k, cap)| held.get(k).copied().unwrap_or(0) >= *cap) {
            return Err(format!("too many live connections for {} (at most {cap}): close other tabs of the board", k.split_once(':').map_or(k.as_str(), |(_, v)| v)));
        }
        for (k, _) in keys {
            *held.entry(k.clone()).or_default() += 1;
        }
        Ok(Held { keys: keys.iter().map(|(k, _)| k.clone()).collect(), held: self.held.clone() })
    }
}

/// A client's places, given back when the socket ends.
struct Held {
    keys: Vec<String>,
    held: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for k in &self.keys {
            if let Some(n) = held.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    held.remove(k);
                }
            }
        }
    }
}

/// `FF_BOARD_ALLOWED_ORIGINS`: origins (`scheme://host[:port]`, comma
/// separated) allowed besides the board's own, lowercase.
pub fn allowed_origins_from_env() -> Vec<String> {
    std::env::var("FF_BOARD_ALLOWED_ORIGINS")
        .unwrap_or_default()
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
        .filter(|o| !o.is_empty())
        .collect()
}

/// Whether a browser's `Origin` may open the socket: the board's own host
/// (the request's `Host`), or an allowed origin. Non-browser clients send
/// no `Origin` and cannot be driven by another site: allowed.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin.map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase()) else { return true };
    if allowed.iter().any(|a| *a == origin) {
        return true;
    }
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    matches!((authority, host), (Some(a), Some(h)) if a == h.trim().to_ascii_lowercase())
}

/// Releases a connection slot when the socket ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
        ff_board_engine::metrics::global().ws_disconnected();
    }
}

/// axum handler: check the session, the origin and the connection cap,
/// upgrade and run a [`session`].
pub async fn handler(ws: WebSocketUpgrade, parts: axum::http::request::Parts, State(state): State<WsState>) -> Response {
    let headers = parts.headers.clone();
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let header = |name: axum::http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if !origin_allowed(header(axum::http::header::ORIGIN), header(axum::http::header::HOST), &state.allowed_origins) {
        tracing::warn!(target: "ff_board::security", origin = ?header(axum::http::header::ORIGIN), "live socket refused: foreign origin");
        return (StatusCode::FORBIDDEN, "this origin may not open the board's live socket").into_response();
    }
    let allowed = {
        let auth = state.auth.clone();
        let headers = headers.clone();
        move || auth.anonymous_read() || auth.actor(&headers).is_some()
    };
    if !allowed() {
        return (StatusCode::UNAUTHORIZED, "sign in to watch live events").into_response();
    }
    // Per client first: one client never holds the board's whole cap.
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let forwarded: Vec<&str> = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    let mut keys = Vec::new();
    if let Some(ip) = ff_board_app::proxy::client_ip(peer, &forwarded.join(","), ff_board_app::proxy::trusted()) {
        keys.push((format!("addr:{ip}"), state.max_per_address));
    }
    if let Some(a) = state.auth.actor(&headers) {
        keys.push((format!("user:{}", a.user), state.max_per_user));
    }
    let held = match state.hold(&keys) {
        Ok(h) => h,
        Err(msg) => {
            tracing::warn!(target: "ff_board::security", "live socket refused: {msg}");
            return (StatusCode::TOO_MANY_REQUESTS, msg).into_response();
        }
    };
    if state.open.fetch_add(1, Ordering::SeqCst) >= state.max_connections {
        state.open.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!(max = state.max_connections, "live socket refused: connection cap reached");
        let msg = format!("too many live connections (at most {}): the page still works, refresh later", state.max_connections);
        return (StatusCode::SERVICE_UNAVAILABLE, msg).into_response();
    }
    ff_board_engine::metrics::global().ws_connected();
    let slot = Slot(state.open.clone());
    let bus = state.bus;
    ws.max_message_size(MAX_MESSAGE).max_frame_size(MAX_MESSAGE).on_upgrade(move |socket: WebSocket| async move {
        let _slot = slot;
        let _held = held;
        let (sink, stream) = socket.split();
        let sink = sink.with(|text: String| async move {
            Ok::<_, axum::Error>(match text.as_str() {
                PING => Message::Ping(Default::default()),
                RESTARTING => Message::Close(Some(axum::extract::ws::CloseFrame { code: 1012, reason: "the board is restarting".into() })),
                _ => Message::Text(text.into()),
            })
        });
        // Any client frame (pongs included) keeps the socket; none for
        // IDLE_TIMEOUT, a close, or an error ends it.
        let stream = futures::stream::unfold(stream, |mut s| async move {
            loop {
                return match tokio::time::timeout(IDLE_TIMEOUT, s.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => Some((t.to_string(), s)),
                    Ok(Some(Ok(Message::Close(_) | Message::Binary(_))) | Some(Err(_)) | None) | Err(_) => Some((String::new(), s)),
                    Ok(Some(Ok(_))) => continue,
                };
            }
        });
        session_with(Box::pin(sink), Box::pin(stream), bus, Box::new(allowed), Cadence::DEFAULT).await;
    })
}

/// What the reader task tells the writer.
enum Command {
    Subscribe { topics: Vec<String>, after: Option<u64>, epoch: Option<String> },
    Invalid(String),
}

/// Run one client session until either side closes. An empty string from
/// `stream` means the client closed.
pub async fn session<Si, St>(sink: Si, stream: St, bus: Arc<Bus>)
where
    Si: Sink<String> + Unpin + Send + 'static,
    St: Stream<Item = String> + Unpin + Send + 'static,
{
    session_with(sink, stream, bus, Box::new(|| true), Cadence::DEFAULT).await
}

/// [`session`] with a check of the client's right to watch, made again
/// every `cadence.recheck`; the writer also asks for a ping every
/// `cadence.ping`.
pub async fn session_with<Si, St>(
    mut sink: Si,
    stream: St,
    bus: Arc<Bus>,
    allowed: Box<dyn Fn() -> bool + Send>,
    cadence: Cadence,
)
where
    Si: Sink<String> + Unpin + Send + 'static,
    St: Stream<Item = String> + Unpin + Send + 'static,
{
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(8);
    let reader = tokio::spawn(read_commands(stream, cmd_tx));
    if let Some((topics, rx)) = first_subscribe(&mut sink, &mut cmd_rx, &bus).await {
        write(&mut sink, cmd_rx, Watch { topics, rx, bus, allowed, cadence }).await;
    }
    reader.abort();
}

/// The reader task: parse each client frame into a [`Command`] for the
/// writer, until the client closes (an empty string) or the writer is gone.
async fn read_commands<St: Stream<Item = String> + Unpin>(mut stream: St, cmd_tx: mpsc::Sender<Command>) {
    while let Some(text) = stream.next().await {
        if text.is_empty() {
            break;
        }
        if cmd_tx.send(command(&text)).await.is_err() {
            break;
        }
    }
}

/// One client frame, checked against the limits.
fn command(text: &str) -> Command {
    match serde_json::from_str::<ClientMsg>(text) {
        Ok(ClientMsg::Subscribe { topics, .. }) if topics.len() > MAX_TOPICS => {
            Command::Invalid(format!("at most {MAX_TOPICS} topics per subscribe ({} sent)", topics.len()))
        }
        Ok(ClientMsg::Subscribe { topics, after, epoch }) => match topics.iter().find(|t| !valid_topic(t)) {
            Some(bad) => Command::Invalid(format!("unknown topic {:?}", bad.chars().take(80).collect::<String>())),
            None if topics.is_empty() => Command::Invalid("subscribe needs at least one topic".into()),
            None => Command::Subscribe { topics, after, epoch },
        },
        Err(e) => Command::Invalid(format!("bad client frame: {e}")),
    }
}

/// The session's first command, within [`SUBSCRIBE_TIMEOUT`]: a subscribe
/// is answered ([`start`]) and gives the topics and the bus receiver to
/// write from; anything else ends the session, with an error frame where
/// the client is still there to read it.
async fn first_subscribe<Si: Sink<String> + Unpin>(
    sink: &mut Si,
    cmd_rx: &mut mpsc::Receiver<Command>,
    bus: &Bus,
) -> Option<(Vec<String>, broadcast::Receiver<Arc<Published>>)> {
    match tokio::time::timeout(SUBSCRIBE_TIMEOUT, cmd_rx.recv()).await {
        Ok(Some(Command::Subscribe { topics, after, epoch })) => {
            let rx = start(sink, bus, &topics, bus.subscribe(after, epoch.as_deref())).await.ok()?;
            Some((topics, rx))
        }
        Ok(Some(Command::Invalid(e))) => {
            let _ = sink.send(serde_json::json!({ "error": e }).to_string()).await;
            None
        }
        // The client went away (or broke a limit) before subscribing.
        Ok(None) => None,
        Err(_) => {
            let _ = sink.send(serde_json::json!({ "error": "expected a subscribe frame" }).to_string()).await;
            None
        }
    }
}

/// Answer a subscription: a resync when its resume point cannot be served,
/// its position, then the backlog it asked for. `Err` when the client is gone.
async fn start<Si: Sink<String> + Unpin>(
    sink: &mut Si,
    bus: &Bus,
    topics: &[String],
    sub: super::bus::Subscription,
) -> Result<broadcast::Receiver<Arc<Published>>, ()> {
    if let Some(reason) = sub.resync {
        send(sink, &resync(bus, reason, None)).await?;
    }
    // The current reader states, stamped with this subscription's
    // position (a client without one resumes from there). Sent even
    // before the readers have reported (no states yet): a client that
    // loses this socket must know where it stood, or a restart in
    // between would not be reported to it as a resync.
    let mut f = match bus.streams() {
        Some(status) => status.frame.clone(),
        None => Frame { seq: 0, epoch: bus.epoch().to_owned(), at: now_ms(), event: LiveEvent::Streams { streams: vec![], last_seq: 0 } },
    };
    if let LiveEvent::Streams { last_seq, .. } = &mut f.event {
        *last_seq = sub.last_seq;
    }
    send(sink, &f).await?;
    for f in sub.backlog.iter().filter(|f| wanted(topics, f)) {
        sink.send(f.json.clone()).await.map_err(|_| ())?;
    }
    Ok(sub.rx)
}

/// What a subscribed session writes from.
struct Watch {
    topics: Vec<String>,
    rx: broadcast::Receiver<Arc<Published>>,
    bus: Arc<Bus>,
    allowed: Box<dyn Fn() -> bool + Send>,
    cadence: Cadence,
}

/// The writer of a subscribed session: bus frames of its topics, pings,
/// the session re-check, the reader's commands, until either side closes
/// or the board shuts down.
async fn write<Si: Sink<String> + Unpin>(sink: &mut Si, mut cmd_rx: mpsc::Receiver<Command>, w: Watch) {
    let Watch { mut topics, mut rx, bus, allowed, cadence } = w;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + cadence.ping, cadence.ping);
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + cadence.recheck, cadence.recheck);
    let mut closing = bus.closing();
    loop {
        if *closing.borrow_and_update() {
            let _ = sink.send(RESTARTING.to_owned()).await;
            break;
        }
        tokio::select! {
            _ = closing.changed() => {}
            _ = ping.tick() => {
                if sink.send(PING.to_owned()).await.is_err() { break; }
            }
            _ = recheck.tick() => {
                if !allowed() {
                    let _ = sink.send(serde_json::json!({ "error": "your session ended: sign in again" }).to_string()).await;
                    break;
                }
            }
            cmd = cmd_rx.recv() => match cmd {
                None => break,
                Some(Command::Invalid(e)) => {
                    if sink.send(serde_json::json!({ "error": e }).to_string()).await.is_err() { break; }
                }
                Some(Command::Subscribe { topics: t, .. }) => topics = t,
            },
            frame = rx.recv() => match frame {
                Ok(f) => {
                    if wanted(&topics, &f) {
                        if sink.send(f.json.clone()).await.is_err() { break; }
                        ff_board_engine::metrics::global().frame_sent();
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    ff_board_engine::metrics::global().frames_dropped(n);
                    let f = resync(&bus, "this client fell behind the live buffer".into(), Some(n));
                    if send(sink, &f).await.is_err() { break; }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
}

fn wanted(topics: &[String], f: &Published) -> bool {
    topics.iter().any(|t| f.event.matches(t))
}

/// A resync frame carries the bus's last seq: the point to resume from
/// after the client refetched.
fn resync(bus: &Bus, reason: String, missed: Option<u64>) -> Frame {
    Frame { seq: bus.last_seq(), epoch: bus.epoch().to_owned(), at: now_ms(), event: LiveEvent::Resync { reason, missed } }
}

async fn send<Si: Sink<String> + Unpin>(sink: &mut Si, f: &Frame) -> Result<(), ()> {
    let text = serde_json::to_string(f).map_err(|_| ())?;
    sink.send(text).await.map_err(|_| ())
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc as fmpsc;

    fn ev(id: &str, flow: &str) -> LiveEvent {
        LiveEvent::Completion { execution_id: id.into(), flow_id: Some(flow.into()), outcome: "success".into() }
    }

    async fn next(rx: &mut fmpsc::UnboundedReceiver<String>) -> serde_json::Value {
        let text = tokio::time::timeout(Duration::from_secs(2), rx.next()).await.expect("frame in time").expect("open");
        serde_json::from_str(&text).unwrap()
    }

    #[tokio::test]
    async fn filters_by_topic_and_resumes() {
        let bus = Bus::with_epoch("ep".into());
        bus.publish(1, ev("a", "f1"));
        bus.publish(2, ev("b", "f2"));
        let (out_tx, mut out_rx) = fmpsc::unbounded::<String>();
        let (in_tx, in_rx) = fmpsc::unbounded::<String>();
        tokio::spawn(session(out_tx.sink_map_err(|_| ()), in_rx, bus.clone()));
        in_tx.unbounded_send(r#"{"type":"subscribe","topics":["flow:f1"],"after":0,"epoch":"ep"}"#.into()).unwrap();
        // The position first, though no reader has reported its state yet.
        let f = next(&mut out_rx).await;
        assert_eq!((f["kind"].as_str(), f["epoch"].as_str(), f["streams"].as_array().map(Vec::len)), (Some("streams"), Some("ep"), Some(0)), "{f}");
        let f = next(&mut out_rx).await;
        assert_eq!((f["seq"].as_u64(), f["execution_id"].as_str()), (Some(1), Some("a")));
        bus.publish(3, ev("c", "f2"));
        bus.publish(4, ev("d", "f1"));
        let f = next(&mut out_rx).await;
        assert_eq!((f["seq"].as_u64(), f["execution_id"].as_str()), (Some(4), Some("d")));
    }

    #[tokio::test]
    async fn rejects_bad_first_frame_and_resyncs_other_epoch() {
        let bus = Bus::with_epoch("ep".into());
        let (out_tx, mut out_rx) = fmpsc::unbounded::<String>();
        let (in_tx, in_rx) = fmpsc::unbounded::<String>();
        tokio::spawn(session(out_tx.sink_map_err(|_| ()), in_rx, bus.clone()));
        in_tx.unbounded_send(r#"{"type":"subscribe","topics":["nope"]}"#.into()).unwrap();
        assert!(next(&mut out_rx).await["error"].as_str().unwrap().contains("unknown topic"));

        let (out_tx, mut out_rx) = fmpsc::unbounded::<String>();
        let (in_tx, in_rx) = fmpsc::unbounded::<String>();
        tokio::spawn(session(out_tx.sink_map_err(|_| ()), in_rx, bus.clone()));
        in_tx.unbounded_send(r#"{"type":"subscribe","topics":["all"],"after":5,"epoch":"old"}"#.into()).unwrap();
        assert_eq!(next(&mut out_rx).await["kind"], "resync");
    }

    #[tokio::test]
    async fn a_stalled_client_gets_resync() {
        let bus = Bus::with_epoch("ep".into());
        // A sink that accepts nothing until released.
        let (out_tx, mut out_rx) = fmpsc::channel::<String>(0);
        let (in_tx, in_rx) = fmpsc::unbounded::<String>();
        tokio::spawn(session(out_tx.sink_map_err(|_| ()), in_rx, bus.clone()));
        in_tx.unbounded_send(r#"{"type":"subscribe","topics":["all"]}"#.into()).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        for i in 0..(super::super::bus::FANOUT as u64 * 2) {
            bus.publish(0, ev(&format!("e{i}"), "f"));
        }
        let mut saw_resync = false;
        for _ in 0..10 {
            let text = tokio::time::timeout(Duration::from_secs(2), out_rx.next()).await.unwrap().unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            if v["kind"] == "resync" {
                assert!(v["missed"].as_u64().unwrap() > 0);
                saw_resync = true;
                break;
            }
        }
        assert!(saw_resync);
    }

    /// A subscribed session over channels, with `allowed` as its session
    /// check, past its position frame.
    async fn subscribed(bus: &Arc<Bus>, allowed: Arc<std::sync::atomic::AtomicBool>) -> (fmpsc::UnboundedReceiver<String>, fmpsc::UnboundedSender<String>) {
        let (out_tx, out_rx) = fmpsc::unbounded::<String>();
        let (in_tx, in_rx) = fmpsc::unbounded::<String>();
        let check = Box::new(move || allowed.load(Ordering::SeqCst));
        let cadence = Cadence { ping: Duration::from_millis(100), recheck: Duration::from_millis(450) };
        tokio::spawn(session_with(out_tx.sink_map_err(|_| ()), in_rx, bus.clone(), check, cadence));
        in_tx.unbounded_send(r#"{"type":"subscribe","topics":["all"]}"#.into()).unwrap();
        let mut out_rx = out_rx;
        assert_eq!(next(&mut out_rx).await["kind"], "streams", "a subscription starts with its position");
        (out_rx, in_tx)
    }

    #[tokio::test]
    async fn pings_every_interval_and_closes_when_the_session_ends() {
        let bus = Bus::with_epoch("ep".into());
        let allowed = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let start = tokio::time::Instant::now();
        let (mut out, _in) = subscribed(&bus, allowed.clone()).await;
        let first = tokio::time::timeout(Duration::from_secs(2), out.next()).await.expect("a ping");
        assert_eq!(first.as_deref(), Some(PING));
        assert!(start.elapsed() >= Duration::from_millis(100), "not before its interval: {:?}", start.elapsed());
        // Signed out meanwhile: pings go on until the re-check (450 ms)
        // ends the socket with a reason.
        allowed.store(false, Ordering::SeqCst);
        let mut rest = vec![];
        while let Some(text) = tokio::time::timeout(Duration::from_secs(3), out.next()).await.expect("ended in time") {
            rest.push(text);
        }
        assert!(start.elapsed() >= Duration::from_millis(450), "{:?}", start.elapsed());
        let (last, pings) = rest.split_last().expect("frames after the first ping");
        assert!(last.contains("your session ended"), "{last}");
        assert!(!pings.is_empty() && pings.iter().all(|p| p == PING), "{pings:?}");
    }

    #[tokio::test]
    async fn shutdown_closes_every_socket_with_restarting() {
        let bus = Bus::with_epoch("ep".into());
        let allowed = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (mut a, _ia) = subscribed(&bus, allowed.clone()).await;
        let (mut b, _ib) = subscribed(&bus, allowed).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        bus.close();
        for out in [&mut a, &mut b] {
            let last = tokio::time::timeout(Duration::from_secs(2), out.next()).await.expect("in time");
            assert_eq!(last.as_deref(), Some(RESTARTING));
            assert_eq!(tokio::time::timeout(Duration::from_secs(2), out.next()).await.expect("ended"), None);
        }
    }
}
