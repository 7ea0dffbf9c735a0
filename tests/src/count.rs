//! Counting what one board view costs the store.
//!
//! - [`PgCounter`]: a TCP proxy in front of Postgres that counts the
//!   queries passing through it: every `Execute` ('E') and simple `Query`
//!   ('Q') message of the frontend protocol. The board dials the proxy's
//!   URL (with `sslmode=disable`, so the stream is plain protocol), and
//!   every query of both its pools (the engine backend's and its own) is
//!   counted.
//! - [`valkey_calls`]: the server's own `INFO commandstats` total, less
//!   the `INFO` and `PING` calls of the measurement and the client's
//!   keepalive.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Queries seen by a [`PgCounter`].
pub struct PgCounter {
    pub port: u16,
    queries: Arc<AtomicU64>,
}

impl PgCounter {
    /// Listen on a free port and forward to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> PgCounter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let queries = Arc::new(AtomicU64::new(0));
        let (q, upstream) = (queries.clone(), upstream.to_owned());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                // No Nagle on either leg (sqlx and Postgres set it on theirs):
                // without this a reply of several segments waited out the
                // peer's delayed ACK, adding ~40 ms to every page of 50 rows.
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                tokio::spawn(pipe(client, server, q.clone()));
            }
        });
        PgCounter { port, queries }
    }

    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::SeqCst)
    }

    /// A Postgres URL (`postgres://user@host:port/db?…`) pointed at the proxy.
    pub fn url(&self, direct: &str) -> String {
        let (scheme, rest) = direct.split_once("://").expect("url scheme");
        let (auth, rest) = rest.split_once('@').map(|(a, r)| (format!("{a}@"), r)).unwrap_or((String::new(), rest));
        let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{scheme}://{auth}127.0.0.1:{}{path}{sep}sslmode=disable", self.port)
    }
}

/// Forward both ways; parse the client's messages to count queries.
async fn pipe(client: TcpStream, server: TcpStream, queries: Arc<AtomicU64>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let down = tokio::spawn(async move { tokio::io::copy(&mut sr, &mut cw).await });
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut started = false;
    loop {
        let n = match cr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        // The startup message has no type byte; every later one does.
        loop {
            let head = if started { 5 } else { 4 };
            if pending.len() < head {
                break;
            }
            let len_at = if started { 1 } else { 0 };
            let len = u32::from_be_bytes(pending[len_at..len_at + 4].try_into().expect("4 bytes")) as usize;
            let total = len + len_at;
            if pending.len() < total {
                break;
            }
            if started && matches!(pending[0], b'E' | b'Q') {
                queries.fetch_add(1, Ordering::SeqCst);
            }
            started = true;
            pending.drain(..total);
        }
        if sw.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    down.abort();
}

/// Commands the Valkey server at `port` has run, less `INFO` and `PING`.
pub async fn valkey_calls(port: u16) -> u64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.expect("connect valkey");
    s.write_all(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n").await.expect("send INFO");
    // A bulk string: `$<len>\r\n<body>\r\n`.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        s.read_exact(&mut byte).await.expect("read INFO");
        head.push(byte[0]);
    }
    let len: usize = std::str::from_utf8(&head[1..head.len() - 2]).expect("utf8").parse().expect("length");
    let mut body = vec![0u8; len + 2];
    s.read_exact(&mut body).await.expect("read INFO body");
    let text = String::from_utf8_lossy(&body);
    text.lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter(|l| !l.starts_with("info:") && !l.starts_with("ping:") && !l.starts_with("client|") && !l.starts_with("hello:"))
        .filter_map(|l| l.split("calls=").nth(1)?.split(',').next()?.parse::<u64>().ok())
        .sum()
}
