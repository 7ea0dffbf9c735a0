//! The flow timeline (`data-testid="flow-timeline"`): the members as rows
//! on one time axis, a Gantt as Airflow and Dagster draw it. Each bar runs
//! from the member's creation to its end (now while it is unfinished, the
//! open end drawn dashed), coloured by state; fan-outs collapse as in the
//! DAG ([`dag::collapse`]: one row spanning its members, their count).
//! The critical path is outlined: from the member that finished last, back
//! through the upstream member that finished last before it, to a root —
//! the chain that decided when the flow was done. Drawn on the server
//! from the flow page's own answer (members and edges, `api::flows`): no
//! store read of its own, no drawing code in the browser bundle.
#![cfg(feature = "ssr")]

use std::collections::{HashMap, HashSet};

use crate::api::flows::{DagEdge, DagNode};
use crate::components::chart::{d1, esc};
use crate::components::dag::collapse;
use crate::components::state::Badge;
use crate::components::text::{execution_href, iso, short_id};

const LABEL_W: f64 = 200.0;
const BAR_W: f64 = 700.0;
const ROW_H: f64 = 22.0;
const TOP: f64 = 24.0;

/// When a member ended, or `now` while it has not.
fn end(n: &DagNode, now: i64) -> i64 {
    n.finished_at.unwrap_or(now).max(n.created_at)
}

/// The critical path: member ids from the one that ended last back to a
/// root, each step through the upstream member that ended last. Cycles
/// (which a FlowFabric DAG refuses) cannot loop it: a member is visited
/// once.
pub fn critical_path(nodes: &[DagNode], edges: &[DagEdge], now: i64) -> Vec<String> {
    let by_id: HashMap<&str, &DagNode> = nodes.iter().map(|n| (n.execution_id.as_str(), n)).collect();
    let mut ups: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in edges {
        ups.entry(e.to.as_str()).or_default().push(e.from.as_str());
    }
    let Some(mut at) = nodes.iter().max_by_key(|n| (end(n, now), std::cmp::Reverse(n.execution_id.as_str()))) else {
        return Vec::new();
    };
    let mut path = vec![at.execution_id.clone()];
    let mut seen: HashSet<&str> = HashSet::from([at.execution_id.as_str()]);
    loop {
        let next = ups
            .get(at.execution_id.as_str())
            .into_iter()
            .flatten()
            .filter(|u| !seen.contains(**u))
            .filter_map(|u| by_id.get(u))
            .max_by_key(|n| (end(n, now), std::cmp::Reverse(n.execution_id.as_str())));
        let Some(n) = next else { break };
        seen.insert(n.execution_id.as_str());
        path.push(n.execution_id.clone());
        at = n;
    }
    path
}

/// One drawn row: a member, or a collapsed fan-out (rows in the DAG's
/// layer order, then by start).
struct Row {
    id: String,
    label: String,
    href: Option<String>,
    start: i64,
    end: i64,
    open: bool,
    state: crate::api::states::ExecState,
    members: usize,
    critical: bool,
}

fn rows(nodes: &[DagNode], edges: &[DagEdge], now: i64) -> Vec<Row> {
    let critical: HashSet<String> = critical_path(nodes, edges, now).into_iter().collect();
    let (drawn, drawn_edges, groups) = collapse(nodes, edges);
    let layer = crate::components::dag::layout(&drawn, &drawn_edges);
    let group_of: HashMap<&str, &crate::components::dag::Group> = groups.iter().map(|g| (g.id.as_str(), g)).collect();
    let mut out: Vec<Row> = drawn
        .iter()
        .map(|n| match group_of.get(n.execution_id.as_str()) {
            Some(g) => Row {
                id: g.id.clone(),
                label: format!("{} ×{}", g.family, g.members.len()),
                href: None,
                start: g.members.iter().map(|m| m.created_at).min().unwrap_or(n.created_at),
                end: g.members.iter().map(|m| end(m, now)).max().unwrap_or(now),
                open: g.members.iter().any(|m| m.finished_at.is_none()),
                state: n.state,
                members: g.members.len(),
                critical: g.members.iter().any(|m| critical.contains(&m.execution_id)),
            },
            None => Row {
                id: n.execution_id.clone(),
                label: if n.kind.is_empty() { short_id(&n.execution_id) } else { n.kind.clone() },
                href: Some(execution_href(&n.execution_id)),
                start: n.created_at,
                end: end(n, now),
                open: n.finished_at.is_none(),
                state: n.state,
                members: 1,
                critical: critical.contains(&n.execution_id),
            },
        })
        .collect();
    // The DAG's order (layer by layer), then by start.
    let at = |id: &str| layer.get(id).copied().unwrap_or((usize::MAX, usize::MAX));
    out.sort_by(|a, b| (at(&a.id), a.start, &a.id).cmp(&(at(&b.id), b.start, &b.id)));
    out
}

/// The drawing as one SVG string (escaped; no behaviour of its own).
pub fn svg(nodes: &[DagNode], edges: &[DagEdge], now: i64) -> String {
    use std::fmt::Write as _;
    let rows = rows(nodes, edges, now);
    let t0 = rows.iter().map(|r| r.start).min().unwrap_or(now);
    let t1 = rows.iter().map(|r| r.end).max().unwrap_or(now).max(t0 + 1);
    let x = |t: i64| LABEL_W + (t - t0) as f64 / (t1 - t0) as f64 * BAR_W;
    let height = TOP + rows.len() as f64 * ROW_H + 8.0;
    let width = LABEL_W + BAR_W + 10.0;
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg data-testid=\"flow-timeline\" data-rows=\"{}\" width=\"100%\" viewBox=\"0 0 {width} {}\" role=\"img\" aria-label=\"flow timeline\">\
         <text x=\"{LABEL_W}\" y=\"14\" font-size=\"10\" fill=\"#64748b\">{}</text>\
         <text x=\"{}\" y=\"14\" font-size=\"10\" fill=\"#64748b\" text-anchor=\"end\">{}</text>",
        rows.len(),
        d1(height),
        esc(&iso(t0)),
        d1(LABEL_W + BAR_W),
        esc(&iso(t1)),
    );
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + i as f64 * ROW_H;
        let (fill, stroke) = Badge::from(r.state).tone.colors();
        let (x0, x1) = (x(r.start), x(r.end).max(x(r.start) + 2.0));
        let (outline, sw) = if r.critical { ("#db2777", "2.5") } else { (stroke, "1") };
        let dash = if r.open { " stroke-dasharray=\"4 2\"" } else { "" };
        let title = format!(
            "{} · {} · {} → {}{}{}",
            r.label,
            r.state.as_str(),
            iso(r.start),
            if r.open { "now".to_owned() } else { iso(r.end) },
            if r.members > 1 { format!(" · {} members", r.members) } else { String::new() },
            if r.critical { " · critical path" } else { "" }
        );
        let label = format!(
            "<text x=\"4\" y=\"{}\" font-size=\"11\" font-family=\"ui-monospace,monospace\" fill=\"currentColor\">{}</text>",
            d1(y + 14.0),
            esc(&truncate(&r.label, 28))
        );
        let _ = write!(
            o,
            "<g data-testid=\"gantt-row\" data-id=\"{}\" data-state=\"{}\" data-critical=\"{}\" data-members=\"{}\"><title>{}</title>",
            esc(&r.id),
            r.state.as_str(),
            r.critical,
            r.members,
            esc(&title)
        );
        match &r.href {
            Some(h) => {
                let _ = write!(o, "<a href=\"{}\">{label}</a>", esc(h));
            }
            None => o.push_str(&label),
        }
        let _ = write!(
            o,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{fill}\" stroke=\"{outline}\" stroke-width=\"{sw}\"{dash}></rect></g>",
            d1(x0),
            d1(y + 4.0),
            d1(x1 - x0),
            d1(ROW_H - 8.0)
        );
    }
    o.push_str("</svg>");
    o
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::states::ExecState;

    fn node(id: &str, kind: &str, created: i64, finished: Option<i64>) -> DagNode {
        DagNode {
            execution_id: id.into(),
            state: if finished.is_some() { ExecState::Completed } else { ExecState::Active },
            lane: "l".into(),
            attempts: 1,
            blocking_reason: None,
            kind: kind.into(),
            created_at: created,
            finished_at: finished,
        }
    }
    fn edge(a: &str, b: &str) -> DagEdge {
        DagEdge { edge_id: format!("{a}-{b}"), from: a.into(), to: b.into(), kind: String::new(), condition: String::new(), state: String::new() }
    }

    #[test]
    fn critical_path_follows_the_upstream_that_ended_last() {
        // a → b → d, a → c → d; c ends after b, so d waited on c.
        let nodes = [node("a", "fetch", 0, Some(10)), node("b", "fast", 10, Some(20)), node("c", "slow", 10, Some(50)), node("d", "join", 10, Some(60))];
        let edges = [edge("a", "b"), edge("a", "c"), edge("b", "d"), edge("c", "d")];
        assert_eq!(critical_path(&nodes, &edges, 100), ["d", "c", "a"]);
        // An unfinished member ends now: it is where the path starts.
        let mut open = nodes.to_vec();
        open[1].finished_at = None;
        assert_eq!(critical_path(&open, &edges, 100), ["b", "a"]);
        assert!(critical_path(&[], &[], 1).is_empty());
    }

    #[test]
    fn rows_are_ordered_by_start_fan_outs_collapse_and_the_path_is_marked() {
        let mut nodes = vec![node("root", "split", 0, Some(5)), node("sink", "merge", 5, Some(40))];
        let mut edges = vec![];
        for i in 0..8 {
            let id = format!("s{i}");
            nodes.push(node(&id, &format!("shard-{i}"), 5, Some(10 + i)));
            edges.push(edge("root", &id));
            edges.push(edge(&id, "sink"));
        }
        let svg = svg(&nodes, &edges, 100);
        assert_eq!(svg.matches("data-testid=\"gantt-row\"").count(), 3, "{svg}");
        assert!(svg.contains("data-members=\"8\""));
        assert_eq!(svg.matches("data-critical=\"true\"").count(), 3, "root, the fan-out (its last shard) and sink");
        let first = svg.find("data-id=\"root\"").unwrap();
        assert!(first < svg.find("data-id=\"sink\"").unwrap());
        // Labels are escaped.
        let hostile = [node("x", "<script>", 0, None)];
        assert!(!super::svg(&hostile, &[], 10).contains("<script>"));
    }
}
