//! Metrics for the operators of the board itself, in Prometheus' text
//! format (`GET /metrics`): HTTP requests by route and status with latency
//! histograms, WebSocket clients, live frames sent and dropped, engine
//! reader lag per stream, backend read latency and errors per operation.
//!
//! One process-wide registry ([`global`]). Every label set is bounded by
//! the code, never by input: routes are the router's matched patterns (an
//! unmatched path is `other`), operations and streams are fixed names.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Latency buckets (seconds).
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// A latency histogram over [`BUCKETS`].
#[derive(Default)]
struct Histogram {
    /// Observations at or below each bucket's bound.
    le: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.le[i] += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}", self.le[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// The board's metrics.
#[derive(Default)]
pub struct Metrics {
    /// (route, status) → latency.
    http: Mutex<BTreeMap<(String, u16), Histogram>>,
    /// (operation, ok) → latency.
    backend: Mutex<BTreeMap<(&'static str, bool), Histogram>>,
    /// stream → commit-to-receipt lag.
    lag: Mutex<BTreeMap<&'static str, Histogram>>,
    ws_clients: AtomicI64,
    frames_sent: AtomicU64,
    frames_dropped: AtomicU64,
    events: Mutex<BTreeMap<&'static str, u64>>,
    /// stream → reader restarts after a panic.
    restarts: Mutex<BTreeMap<&'static str, u64>>,
    /// kind → refusals (sign-ins, CSRF, roles).
    refusals: Mutex<BTreeMap<&'static str, u64>>,
    /// Refusals not written to the audit log (over its per-minute bound).
    refusals_unaudited: AtomicU64,
    /// Password checks (argon2) running now, and the most ever at once.
    sign_in_checks: AtomicI64,
    sign_in_checks_peak: AtomicI64,
    /// The lane walk this process runs (`backend::valkey::lanes`): per
    /// cent of the current pass (-1 before its first step) and passes done.
    lane_walk_percent: AtomicI64,
    lane_walk_passes: AtomicU64,
}

/// One password check running: counted in [`Metrics::sign_in_checks`]
/// from [`Metrics::sign_in_check`] until dropped.
pub struct SignInCheck(&'static Metrics);

impl Drop for SignInCheck {
    fn drop(&mut self) {
        self.0.sign_in_checks.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let m = Metrics::default();
        m.lane_walk_percent.store(-1, Ordering::Relaxed);
        m
    })
}

/// The lane walk's progress after a step of this process.
pub fn lane_walk(percent: u8, passes: u64) {
    let m = global();
    m.lane_walk_percent.store(i64::from(percent), Ordering::Relaxed);
    m.lane_walk_passes.store(passes, Ordering::Relaxed);
}

impl Metrics {
    /// One HTTP request answered.
    pub fn http(&self, route: &str, status: u16, took: Duration) {
        let mut m = self.http.lock().expect("metrics lock");
        m.entry((route.to_owned(), status)).or_default().observe(took);
    }

    /// One backend read (a board list read or an action's engine call).
    pub fn backend(&self, op: &'static str, ok: bool, took: Duration) {
        self.backend.lock().expect("metrics lock").entry((op, ok)).or_default().observe(took);
    }

    /// One engine event received by a reader, `lag_ms` after its commit.
    pub fn event(&self, stream: &'static str, lag_ms: i64) {
        *self.events.lock().expect("metrics lock").entry(stream).or_default() += 1;
        let lag = Duration::from_millis(lag_ms.max(0) as u64);
        self.lag.lock().expect("metrics lock").entry(stream).or_default().observe(lag);
    }

    /// A reader panicked and was started again.
    pub fn reader_restarted(&self, stream: &'static str) {
        *self.restarts.lock().expect("metrics lock").entry(stream).or_default() += 1;
    }

    /// A refused sign-in or write (`kind` is a fixed name).
    pub fn refusal(&self, kind: &'static str) {
        *self.refusals.lock().expect("metrics lock").entry(kind).or_default() += 1;
    }

    /// A refusal the audit log did not take (over its bound).
    pub fn refusal_unaudited(&self) {
        self.refusals_unaudited.fetch_add(1, Ordering::Relaxed);
    }

    /// A password check starts (held by the hashing task itself).
    pub fn sign_in_check(&'static self) -> SignInCheck {
        let now = self.sign_in_checks.fetch_add(1, Ordering::Relaxed) + 1;
        self.sign_in_checks_peak.fetch_max(now, Ordering::Relaxed);
        SignInCheck(self)
    }

    /// Password checks running now, and the most ever at once.
    pub fn sign_in_checks(&self) -> (i64, i64) {
        (self.sign_in_checks.load(Ordering::Relaxed), self.sign_in_checks_peak.load(Ordering::Relaxed))
    }

    pub fn ws_connected(&self) {
        self.ws_clients.fetch_add(1, Ordering::Relaxed);
    }

    pub fn ws_disconnected(&self) {
        self.ws_clients.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn frame_sent(&self) {
        self.frames_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Frames a slow client missed (it was told to resync).
    pub fn frames_dropped(&self, n: u64) {
        self.frames_dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP ffboard_http_request_duration_seconds HTTP requests by matched route and status.\n");
        out.push_str("# TYPE ffboard_http_request_duration_seconds histogram\n");
        for ((route, status), h) in self.http.lock().expect("metrics lock").iter() {
            h.render(&mut out, "ffboard_http_request_duration_seconds", &format!("route=\"{}\",status=\"{status}\"", esc(route)));
        }
        out.push_str("# HELP ffboard_backend_call_duration_seconds Backend reads by operation and result.\n");
        out.push_str("# TYPE ffboard_backend_call_duration_seconds histogram\n");
        for ((op, ok), h) in self.backend.lock().expect("metrics lock").iter() {
            let result = if *ok { "ok" } else { "error" };
            h.render(&mut out, "ffboard_backend_call_duration_seconds", &format!("op=\"{}\",result=\"{result}\"", esc(op)));
        }
        out.push_str("# HELP ffboard_reader_lag_seconds Engine events: commit to receipt by the board's reader, per stream.\n");
        out.push_str("# TYPE ffboard_reader_lag_seconds histogram\n");
        for (stream, h) in self.lag.lock().expect("metrics lock").iter() {
            h.render(&mut out, "ffboard_reader_lag_seconds", &format!("stream=\"{stream}\""));
        }
        out.push_str("# HELP ffboard_reader_events_total Engine events received, per stream.\n# TYPE ffboard_reader_events_total counter\n");
        for (stream, n) in self.events.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "ffboard_reader_events_total{{stream=\"{stream}\"}} {n}");
        }
        out.push_str("# HELP ffboard_reader_restarts_total Engine readers started again after a panic, per stream.\n# TYPE ffboard_reader_restarts_total counter\n");
        for (stream, n) in self.restarts.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "ffboard_reader_restarts_total{{stream=\"{stream}\"}} {n}");
        }
        out.push_str("# HELP ffboard_security_refusals_total Refused sign-ins and writes, per kind.\n# TYPE ffboard_security_refusals_total counter\n");
        for (kind, n) in self.refusals.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "ffboard_security_refusals_total{{kind=\"{kind}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP ffboard_security_refusals_unaudited_total Refusals left out of the audit log (over its per-minute bound).\n# TYPE ffboard_security_refusals_unaudited_total counter\nffboard_security_refusals_unaudited_total {}",
            self.refusals_unaudited.load(Ordering::Relaxed)
        );
        let (checks, peak) = self.sign_in_checks();
        let _ = writeln!(
            out,
            "# HELP ffboard_sign_in_checks Password checks running now.\n# TYPE ffboard_sign_in_checks gauge\nffboard_sign_in_checks {checks}\n# HELP ffboard_sign_in_checks_peak The most password checks ever running at once.\n# TYPE ffboard_sign_in_checks_peak gauge\nffboard_sign_in_checks_peak {peak}"
        );
        let _ = writeln!(
            out,
            "# HELP ffboard_ws_clients WebSocket clients connected.\n# TYPE ffboard_ws_clients gauge\nffboard_ws_clients {}",
            self.ws_clients.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ffboard_ws_frames_sent_total Live frames sent to browsers.\n# TYPE ffboard_ws_frames_sent_total counter\nffboard_ws_frames_sent_total {}",
            self.frames_sent.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ffboard_ws_frames_dropped_total Live frames slow browsers missed (told to resync).\n# TYPE ffboard_ws_frames_dropped_total counter\nffboard_ws_frames_dropped_total {}",
            self.frames_dropped.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP ffboard_lane_walk_percent Lane discovery (Valkey): per cent of the current pass, on the replica walking (-1: not walking here).\n# TYPE ffboard_lane_walk_percent gauge\nffboard_lane_walk_percent {}\n# HELP ffboard_lane_walk_passes_total Lane discovery: whole passes over every partition.\n# TYPE ffboard_lane_walk_passes_total counter\nffboard_lane_walk_passes_total {}",
            self.lane_walk_percent.load(Ordering::Relaxed),
            self.lane_walk_passes.load(Ordering::Relaxed)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.http("/flows", 200, Duration::from_millis(3));
        m.http("/flows", 200, Duration::from_millis(300));
        m.backend("list flows", false, Duration::from_millis(20));
        m.frames_dropped(7);
        let text = m.render();
        assert!(text.contains("ffboard_http_request_duration_seconds_bucket{route=\"/flows\",status=\"200\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("ffboard_http_request_duration_seconds_bucket{route=\"/flows\",status=\"200\",le=\"0.5\"} 2"), "{text}");
        assert!(text.contains("ffboard_http_request_duration_seconds_count{route=\"/flows\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("ffboard_backend_call_duration_seconds_count{op=\"list flows\",result=\"error\"} 1"), "{text}");
        assert!(text.contains("ffboard_ws_frames_dropped_total 7"), "{text}");
    }
}
