//! The timeline of one execution (`data-testid="timeline"`), an SVG drawn
//! on the server on one time axis (`api::rendered`, page
//! `timeline:<execution id>`): created; the waits before and between
//! attempts; each attempt a bar from claim to its end coloured by outcome,
//! with its worker on hover (`data-testid="timeline-attempt"`, oldest
//! first); lease events as ticks (renewals thinned to one per pixel
//! column); a suspension to now; each signal received as a diamond
//! (`data-testid="timeline-signal"`, its name and sender on hover); the newest attempt's stream frames as
//! ticks (one per pixel column, its title saying how many). A table with
//! the same facts follows for screen readers. Bounded: the snapshot, one
//! history read (`Reads::history`: at most 50 attempts, 200 lease
//! events and 50 signals) and one `read_stream` of at most [`FRAMES`] frames.
#![cfg(feature = "ssr")]

use ff_board_engine::backend::{AttemptLine, History, LeaseMark, SignalMark};

use crate::components::chart::{d1, esc};
use crate::components::text::iso;
use crate::error::AppError;

/// How an attempt ended, from the stored outcome or attempt state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptEnd {
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// Interrupted: its lease expired or was revoked, or it suspended.
    Interrupted,
    Ended,
}

impl AttemptEnd {
    pub fn of(a: &AttemptLine) -> AttemptEnd {
        let o = a.outcome.to_ascii_lowercase();
        match () {
            _ if o.contains("success") || o == "completed" => AttemptEnd::Succeeded,
            _ if o.contains("fail") || o == "retry" => AttemptEnd::Failed,
            _ if o.contains("cancel") => AttemptEnd::Cancelled,
            _ if o.contains("interrupt") || o.contains("expire") || o.contains("revok") || o.contains("suspend") || o.contains("reclaim") => {
                AttemptEnd::Interrupted
            }
            _ if o.is_empty() && a.ended_at.is_none() => AttemptEnd::Running,
            _ => AttemptEnd::Ended,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptEnd::Running => "running",
            AttemptEnd::Succeeded => "succeeded",
            AttemptEnd::Failed => "failed",
            AttemptEnd::Cancelled => "cancelled",
            AttemptEnd::Interrupted => "interrupted",
            AttemptEnd::Ended => "ended",
        }
    }

    /// Its colour, the public states' palette (`docs/ui.md`).
    fn fill(self) -> &'static str {
        match self {
            AttemptEnd::Running => "#2563eb",
            AttemptEnd::Succeeded => "#16a34a",
            AttemptEnd::Failed => "#dc2626",
            AttemptEnd::Cancelled => "#64748b",
            AttemptEnd::Interrupted => "#ea580c",
            AttemptEnd::Ended => "#94a3b8",
        }
    }
}

/// The timeline of execution `raw` as HTML (empty for an unknown id: the
/// page reports that).
pub async fn html(raw: &str) -> Result<String, AppError> {
    use crate::api::read::Call;
    let id = super::parse::execution_id(raw)?;
    super::read::read(|c| async move {
        let Some(s) = c.backend.describe_execution(&id).named("describe_execution").await? else { return Ok(String::new()) };
        let h = c.reads.history(&id).await?;
        let suspended = s.public_state == ff_core::state::PublicState::Suspended;
        // The newest attempt's frames; a backend that cannot read its
        // stream leaves the row empty rather than the timeline missing.
        let frames = match h.attempts.iter().map(|a| a.index).max() {
            Some(i) => {
                let (from, to) = (ff_core::contracts::StreamCursor::Start, ff_core::contracts::StreamCursor::End);
                c.backend.read_stream(&id, ff_core::types::AttemptIndex::new(i), from, to, FRAMES).named("read_stream").await.map(|f| f.frames).unwrap_or_default()
            }
            None => Vec::new(),
        };
        let frames: Vec<i64> = frames.iter().filter_map(|f| f.id.split('-').next()?.parse().ok()).collect();
        Ok(render(s.created_at.0, s.last_mutation_at.0, suspended, &h, &frames, ff_board_engine::backend::now_ms()))
    })
    .await
}

/// Stream frames of the newest attempt drawn at most (its first ones).
pub const FRAMES: u64 = 500;

const W: f64 = 900.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 16.0;

/// What one execution's timeline draws, in time order.
struct Marks<'a> {
    attempts: Vec<&'a AttemptLine>,
    leases: Vec<&'a LeaseMark>,
    signals: Vec<&'a SignalMark>,
    frames: &'a [i64],
    created: i64,
    last_change: i64,
    suspended: bool,
    running: bool,
    now: i64,
    /// The whole timeline's end.
    end: i64,
}

/// Zoomed views drawn at most (the newest attempts).
pub const ZOOMS: usize = 5;

/// The drawing, zoomed views of the newest attempts (`<details>`, no
/// script: `data-testid="timeline-zoom"`), and the table.
pub fn render(created: i64, last_change: i64, suspended: bool, h: &History, frames: &[i64], now: i64) -> String {
    let mut attempts: Vec<&AttemptLine> = h.attempts.iter().collect();
    attempts.sort_by_key(|a| a.index);
    let mut leases: Vec<&LeaseMark> = h.leases.iter().collect();
    leases.sort_by_key(|l| l.at);
    let mut signals: Vec<&SignalMark> = h.signals.iter().collect();
    signals.sort_by_key(|m| m.at);
    let running = attempts.last().is_some_and(|a| a.ended_at.is_none());
    let end = [Some(last_change), attempts.iter().filter_map(|a| a.ended_at).max(), leases.last().map(|l| l.at), signals.last().map(|s| s.at), frames.iter().max().copied()]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created)
        .max(if running || suspended { now } else { created });
    let m = Marks { attempts, leases, signals, frames, created, last_change, suspended, running, now, end };
    let svg = draw(&m, created, end, true);
    // Zoom: each of the newest attempts on its own axis, a tenth of its length either side.
    let zooms: String = m
        .attempts
        .iter()
        .rev()
        .filter_map(|a| Some((a, a.started_at?)))
        .take(ZOOMS)
        .filter_map(|(a, start)| {
            let stop = a.ended_at.unwrap_or(now).max(start);
            let pad = ((stop - start) / 10).max(500);
            // Not worth a zoom when it already fills most of the axis.
            ((stop - start + 2 * pad) * 2 < end - created).then(|| {
                format!(
                    r#"<details data-testid="timeline-zoom" data-index="{}" class="mt-1 text-xs"><summary class="cursor-pointer text-slate-600">Zoom to attempt #{} ({} s)</summary>{}</details>"#,
                    a.index,
                    a.index,
                    (stop - start) / 1000,
                    draw(&m, start - pad, stop + pad, false)
                )
            })
        })
        .collect();
    format!(
        r#"<section data-testid="timeline" class="mb-4"><h2 class="mb-2 text-lg font-semibold">Timeline</h2>{svg}{zooms}{}{}</section>"#,
        table(&m.attempts, &m.leases, &m.signals, frames),
        if h.attempts.len() >= ff_board_engine::backend::HISTORY_ATTEMPTS
            || h.leases.len() >= ff_board_engine::backend::HISTORY_LEASES
            || h.signals.len() >= ff_board_engine::backend::HISTORY_SIGNALS
            || frames.len() as u64 >= FRAMES
        {
            r#"<p class="text-xs text-slate-500">The newest 50 attempts, 200 lease events and 50 signals and the newest attempt's first 500 stream frames are drawn.</p>"#
        } else {
            ""
        }
    )
}

/// The SVG of `m` on the axis `from`‥`to`. The main drawing names its
/// parts (`data-testid="timeline-…"`); a zoomed one does not (the page's
/// tests count the main drawing's parts), and leaves out what falls
/// outside its window.
fn draw(m: &Marks, from: i64, to: i64, main: bool) -> String {
    let span = (to - from).max(1) as f64;
    let x = |t: i64| LEFT + (t.clamp(from, to) - from) as f64 / span * (W - LEFT - RIGHT);
    let inside = |t: i64| (from..=to).contains(&t);
    let tid = |name: &str| if main { format!(r#" data-testid="timeline-{name}""#) } else { String::new() };
    let now = m.now;
    let mut svg = format!(
        r#"<svg viewBox="0 0 {W} 160" class="w-full" role="img" aria-label="timeline of this execution{}"{}>"#,
        if main { String::new() } else { format!(", {} to {}", iso(from), iso(to)) },
        if main { r#" data-testid="timeline-svg""# } else { r#" data-testid="timeline-zoom-svg""# },
    );
    // Labels and the axis.
    for (y, label) in [(28.0, "waits"), (58.0, "attempts"), (88.0, "lease"), (112.0, "signals"), (136.0, "frames")] {
        svg.push_str(&format!(r#"<text x="4" y="{}" class="fill-slate-500" font-size="11">{label}</text>"#, d1(y + 4.0)));
    }
    svg.push_str(&format!(r##"<line x1="{LEFT}" x2="{}" y1="150" y2="150" stroke="#94a3b8" stroke-width="1"/>"##, d1(W - RIGHT)));
    svg.push_str(&format!(
        r#"<text x="{LEFT}" y="158" font-size="9" class="fill-slate-500">{}</text><text x="{}" y="158" font-size="9" text-anchor="end" class="fill-slate-500">{}</text>"#,
        esc(&iso(from)),
        d1(W - RIGHT),
        esc(&iso(to))
    ));
    // Created.
    if inside(m.created) {
        svg.push_str(&format!(
            r##"<g{}><title>created {}</title><circle cx="{}" cy="28" r="4" fill="#475569"/></g>"##,
            tid("created"),
            esc(&iso(m.created)),
            d1(x(m.created))
        ));
    }
    // Waits: before the first attempt and between attempts.
    let overlaps = |a: i64, b: i64| b >= from && a <= to;
    let mut waited = m.created;
    for a in &m.attempts {
        if let Some(start) = a.started_at {
            if start > waited && overlaps(waited, start) {
                svg.push_str(&wait(x(waited), x(start), waited, start, &tid("wait")));
            }
            waited = a.ended_at.unwrap_or(now).max(start);
        }
    }
    let end = m.end;
    if (m.attempts.is_empty() || (!m.running && waited < end)) && overlaps(waited, end) {
        svg.push_str(&wait(x(waited), x(end), waited, end, &tid("wait")));
    }
    // Attempts, oldest first.
    for a in &m.attempts {
        let Some(start) = a.started_at else { continue };
        let stop = a.ended_at.unwrap_or(now);
        if !overlaps(start, stop) {
            continue;
        }
        let outcome = AttemptEnd::of(a);
        let (x0, x1) = (x(start), x(stop));
        let title = format!(
            "attempt #{} · {} · worker {} · {} → {} ({} s){}",
            a.index,
            outcome.as_str(),
            if a.worker.is_empty() { "?" } else { &a.worker },
            iso(start),
            a.ended_at.map_or_else(|| "now".to_owned(), iso),
            (stop - start).max(0) / 1000,
            a.failure.as_ref().map(|f| format!(" · {f}")).unwrap_or_default()
        );
        svg.push_str(&format!(
            r#"<g{} data-index="{}" data-outcome="{}"><title>{}</title><rect x="{}" y="50" width="{}" height="16" rx="2" fill="{}"/></g>"#,
            tid("attempt"),
            a.index,
            outcome.as_str(),
            esc(&title),
            d1(x0),
            d1((x1 - x0).max(2.0)),
            outcome.fill()
        ));
    }
    // Lease events: renewals thinned to one per pixel column, the rest each.
    let mut last_renewal_px = f64::NEG_INFINITY;
    for l in m.leases.iter().filter(|l| inside(l.at)) {
        let px = x(l.at);
        let renewal = l.event == "renewed";
        if renewal && px - last_renewal_px < 1.0 {
            continue;
        }
        if renewal {
            last_renewal_px = px;
        }
        let (color, tall) = match l.event.as_str() {
            "expired" | "revoked" => ("#ea580c", 14.0),
            "acquired" | "reclaimed" => ("#2563eb", 14.0),
            "released" => ("#16a34a", 14.0),
            _ => ("#94a3b8", 6.0),
        };
        svg.push_str(&format!(
            r#"<g{} data-event="{}"><title>lease {} {}</title><line x1="{p}" x2="{p}" y1="{}" y2="{}" stroke="{color}" stroke-width="1.5"/></g>"#,
            tid("lease"),
            esc(&l.event),
            esc(&l.event),
            esc(&iso(l.at)),
            d1(88.0 - tall / 2.0),
            d1(88.0 + tall / 2.0),
            p = d1(px),
        ));
    }
    for s in m.signals.iter().filter(|s| inside(s.at)) {
        let title = format!("signal {} from {} at {}", if s.name.is_empty() { "(name not kept)" } else { &s.name }, if s.source.is_empty() { "?" } else { &s.source }, iso(s.at));
        svg.push_str(&format!(
            r##"<g{} data-name="{}"><title>{}</title><path d="M{} {}l5 5l-5 5l-5 -5z" fill="#7c3aed"/></g>"##,
            tid("signal"),
            esc(&s.name),
            esc(&title),
            d1(x(s.at)),
            d1(112.0 - 5.0),
        ));
    }
    let frames: Vec<i64> = m.frames.iter().copied().filter(|t| inside(*t)).collect();
    svg.push_str(&frame_ticks(&frames, &x, &tid("frame")));
    if m.suspended {
        let since = m.last_change.min(now);
        if overlaps(since, now) {
            svg.push_str(&format!(
                r##"<g{}><title>suspended since {}</title><rect x="{}" y="22" width="{}" height="12" fill="#7c3aed" opacity="0.5"/></g>"##,
                tid("suspended"),
                esc(&iso(since)),
                d1(x(since)),
                d1((x(now) - x(since)).max(2.0))
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Stream frames as ticks, one per pixel column (its title: how many).
fn frame_ticks(frames: &[i64], x: &impl Fn(i64) -> f64, tid: &str) -> String {
    let mut sorted = frames.to_vec();
    sorted.sort_unstable();
    let mut columns: Vec<(i64, i64, usize)> = Vec::new();
    for t in sorted {
        let px = x(t).round() as i64;
        match columns.last_mut() {
            Some((col, _, n)) if *col == px => *n += 1,
            _ => columns.push((px, t, 1)),
        }
    }
    columns
        .into_iter()
        .map(|(px, t, n)| {
            format!(
                r##"<g{tid} data-count="{n}"><title>{n} frame{} from {}</title><line x1="{px}" x2="{px}" y1="130" y2="142" stroke="#0891b2" stroke-width="1.5"/></g>"##,
                if n == 1 { "" } else { "s" },
                esc(&iso(t))
            )
        })
        .collect()
}

fn wait(x0: f64, x1: f64, from: i64, to: i64, tid: &str) -> String {
    format!(
        r##"<g{tid}><title>waiting {} s, {} → {}</title><rect x="{}" y="25" width="{}" height="6" fill="#cbd5e1"/></g>"##,
        (to - from).max(0) / 1000,
        esc(&iso(from)),
        esc(&iso(to)),
        d1(x0),
        d1((x1 - x0).max(1.0))
    )
}

/// The same facts as a table (visually hidden; read by screen readers).
fn table(attempts: &[&AttemptLine], leases: &[&LeaseMark], signals: &[&SignalMark], frames: &[i64]) -> String {
    let mut t = String::from(r#"<table class="sr-only"><caption>Attempts, lease events and signals</caption><thead><tr><th>what</th><th>from</th><th>to</th><th>worker</th></tr></thead><tbody>"#);
    for a in attempts {
        t.push_str(&format!(
            "<tr><td>attempt #{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            a.index,
            AttemptEnd::of(a).as_str(),
            a.started_at.map(iso).unwrap_or_default(),
            a.ended_at.map(iso).unwrap_or_default(),
            esc(&a.worker)
        ));
    }
    for l in leases {
        t.push_str(&format!("<tr><td>lease {}</td><td>{}</td><td></td><td></td></tr>", esc(&l.event), iso(l.at)));
    }
    for m in signals {
        t.push_str(&format!("<tr><td>signal {}</td><td>{}</td><td></td><td>{}</td></tr>", esc(&m.name), iso(m.at), esc(&m.source)));
    }
    if let (Some(first), Some(last)) = (frames.iter().min(), frames.iter().max()) {
        t.push_str(&format!("<tr><td>{} stream frames</td><td>{}</td><td>{}</td><td></td></tr>", frames.len(), iso(*first), iso(*last)));
    }
    t.push_str("</tbody></table>");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(index: u32, start: i64, end: Option<i64>, outcome: &str) -> AttemptLine {
        AttemptLine { index, worker: format!("w-{index}"), started_at: Some(start), ended_at: end, outcome: outcome.into(), failure: None, lease_expires_at: None }
    }

    #[test]
    fn one_bar_per_attempt_in_order_with_its_outcome() {
        let h = History {
            attempts: vec![attempt(2, 5_000, None, ""), attempt(0, 1_000, Some(2_000), "ended_failure"), attempt(1, 3_000, Some(4_000), "interrupted")],
            leases: (0..500).map(|i| LeaseMark { at: 1_000 + i, event: "renewed".into() }).collect(),
            signals: vec![SignalMark { at: 4_500, name: "qa-<ok>".into(), source: "operator:ada".into() }],
        };
        let frames: Vec<i64> = (0..300).map(|i| 5_000 + i).chain([1_500]).collect();
        let html = render(0, 5_000, false, &h, &frames, 6_000);
        let bars: Vec<&str> = html.split(r#"data-testid="timeline-attempt" data-index=""#).skip(1).filter_map(|s| s.split('"').next()).collect();
        assert_eq!(bars, ["0", "1", "2"]);
        assert!(html.contains(r#"data-index="0" data-outcome="failed""#));
        assert!(html.contains(r#"data-index="2" data-outcome="running""#));
        // 500 renewals within one second of a 6-second axis: thinned.
        assert!(html.matches(r#"data-testid="timeline-lease""#).count() < 200);
        assert!(html.contains("<table class=\"sr-only\">"));
        // 301 frames: one alone, 300 within a few pixel columns, counted.
        let counts: Vec<usize> = html.split(r#"data-testid="timeline-frame" data-count=""#).skip(1).filter_map(|s| s.split('"').next()?.parse().ok()).collect();
        assert_eq!(counts.iter().sum::<usize>(), 301);
        assert!(counts.len() < 100 && counts[0] == 1, "{counts:?}");
        assert!(html.contains("301 stream frames"));
        // The signal: named, escaped, its sender on hover and in the table.
        assert!(html.contains(r#"data-testid="timeline-signal" data-name="qa-&lt;ok&gt;""#), "{html}");
        assert!(html.contains("signal qa-&lt;ok&gt; from operator:ada"));
        assert!(html.contains("<td>signal qa-&lt;ok&gt;</td>"));
    }

    #[test]
    fn short_attempts_on_a_long_axis_get_zoomed_views_that_name_nothing_twice() {
        // Three one-second attempts over an hour: each gets a zoom, newest first.
        let h = History {
            attempts: vec![attempt(0, 1_000, Some(2_000), "ended_failure"), attempt(1, 1_800_000, Some(1_801_000), "interrupted"), attempt(2, 3_599_000, Some(3_600_000), "ended_success")],
            leases: vec![LeaseMark { at: 1_500, event: "acquired".into() }, LeaseMark { at: 3_599_500, event: "released".into() }],
            signals: Vec::new(),
        };
        let html = render(0, 3_600_000, false, &h, &[], 3_600_000);
        let zooms: Vec<&str> = html.split(r#"data-testid="timeline-zoom" data-index=""#).skip(1).filter_map(|s| s.split('"').next()).collect();
        assert_eq!(zooms, ["2", "1", "0"]);
        assert_eq!(html.matches(r#"data-testid="timeline-zoom-svg""#).count(), 3);
        // The main drawing's parts are counted once: zooms carry no part ids.
        assert_eq!(html.matches(r#"data-testid="timeline-attempt""#).count(), 3);
        assert_eq!(html.matches(r#"data-testid="timeline-lease""#).count(), 2);
        // The zoom of attempt 0 draws its own lease event and not the last one.
        let zoom0 = html.split(r#"data-index="0" class="mt-1"#).nth(1).unwrap().split("</details>").next().unwrap();
        assert!(zoom0.contains("lease acquired") && !zoom0.contains("lease released"), "{zoom0}");
        // An attempt that fills the axis needs no zoom.
        let one = History { attempts: vec![attempt(0, 0, Some(10_000), "ended_success")], ..History::default() };
        assert!(!render(0, 10_000, false, &one, &[], 10_000).contains("timeline-zoom\""));
    }
}
