//! `GET /ws`: one WebSocket session per browser.
//!
//! The socket is split in two tasks: a reader that parses client frames
//! (the first must be `subscribe`, within [`SUBSCRIBE_TIMEOUT`]) and a
//! writer that `select!`s between bus frames and the reader's commands.
//! [`session`] is generic over `Sink<String>` / `Stream<Item = String>` so a
//! unit test drives it with channels; [`handler`] adapts axum's socket.
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

/// What `/ws` needs: the bus, and the authenticator (viewers may watch;
/// anonymous visitors only where the board allows anonymous reads).
#[derive(Clone)]
pub struct WsState {
    pub bus: Arc<Bus>,
    pub auth: Arc<dyn ff_board_app::auth::Authenticator>,
}

/// axum handler: check the session, upgrade and run a [`session`].
pub async fn handler(ws: WebSocketUpgrade, headers: axum::http::HeaderMap, State(state): State<WsState>) -> Response {
    use axum::response::IntoResponse;
    if !state.auth.anonymous_read() && state.auth.actor(&headers).is_none() {
        return (axum::http::StatusCode::UNAUTHORIZED, "sign in to watch live events").into_response();
    }
    let bus = state.bus;
    ws.on_upgrade(move |socket: WebSocket| async move {
        let (sink, stream) = socket.split();
        let sink = sink.with(|text: String| async move { Ok::<_, axum::Error>(Message::Text(text.into())) });
        let stream = stream.filter_map(|m| async move {
            match m {
                Ok(Message::Text(t)) => Some(t.to_string()),
                Ok(Message::Close(_)) | Err(_) => Some(String::new()),
                _ => None,
            }
        });
        let metrics = ff_board_engine::metrics::global();
        metrics.ws_connected();
        session(Box::pin(sink), Box::pin(stream), bus).await;
        metrics.ws_disconnected();
    })
}

/// What the reader task tells the writer.
enum Command {
    Subscribe { topics: Vec<String>, after: Option<u64>, epoch: Option<String> },
    Invalid(String),
}

/// Run one client session until either side closes. An empty string from
/// `stream` means the client closed.
pub async fn session<Si, St>(mut sink: Si, mut stream: St, bus: Arc<Bus>)
where
    Si: Sink<String> + Unpin + Send + 'static,
    St: Stream<Item = String> + Unpin + Send + 'static,
{
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(8);
    let reader = tokio::spawn(async move {
        while let Some(text) = stream.next().await {
            if text.is_empty() {
                break;
            }
            let cmd = match serde_json::from_str::<ClientMsg>(&text) {
                Ok(ClientMsg::Subscribe { topics, after, epoch }) => match topics.iter().find(|t| !valid_topic(t)) {
                    Some(bad) => Command::Invalid(format!("unknown topic {bad:?}")),
                    None if topics.is_empty() => Command::Invalid("subscribe needs at least one topic".into()),
                    None => Command::Subscribe { topics, after, epoch },
                },
                Err(e) => Command::Invalid(format!("bad client frame: {e}")),
            };
            if cmd_tx.send(cmd).await.is_err() {
                break;
            }
        }
    });

    let first = tokio::time::timeout(SUBSCRIBE_TIMEOUT, cmd_rx.recv()).await;
    let (mut topics, mut rx) = match first {
        Ok(Some(Command::Subscribe { topics, after, epoch })) => {
            let sub = bus.subscribe(after, epoch.as_deref());
            if let Some(reason) = sub.resync {
                if send(&mut sink, &resync(&bus, reason, None)).await.is_err() {
                    reader.abort();
                    return;
                }
            }
            let current = bus.streams().filter(|s| !sub.backlog.iter().any(|b| b.seq == s.seq));
            for f in current.iter().chain(sub.backlog.iter().filter(|f| wanted(&topics, f))) {
                if sink.send(f.json.clone()).await.is_err() {
                    reader.abort();
                    return;
                }
            }
            (topics, sub.rx)
        }
        Ok(Some(Command::Invalid(e))) => {
            let _ = sink.send(serde_json::json!({ "error": e }).to_string()).await;
            reader.abort();
            return;
        }
        _ => {
            let _ = sink.send(serde_json::json!({ "error": "expected a subscribe frame" }).to_string()).await;
            reader.abort();
            return;
        }
    };

    loop {
        tokio::select! {
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
                    if send(&mut sink, &f).await.is_err() { break; }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    reader.abort();
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
}
