//! The flow DAG as SVG: nodes in layers by longest path from the roots,
//! ordered within a layer by their parents' positions, coloured by state
//! (with the state glyph), edges coloured by edge state, and each node's
//! edge-group policy under its label. Scrolls, never shrinks, at 50+ nodes.
use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::flows::{DagEdge, DagNode, EdgeGroupView};
use crate::components::state::{glyph, node_colors};
use crate::components::text::{execution_href, short_id};

const W: f64 = 168.0;
const H: f64 = 40.0;
const GAP_X: f64 = 72.0;
const GAP_Y: f64 = 14.0;
const PAD: f64 = 16.0;

/// Position of each node: `(layer, row)`.
pub fn layout(nodes: &[DagNode], edges: &[DagEdge]) -> HashMap<String, (usize, usize)> {
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.execution_id.as_str(), i)).collect();
    let mut indeg = vec![0usize; nodes.len()];
    let mut out: Vec<Vec<usize>> = vec![vec![]; nodes.len()];
    let mut parents: Vec<Vec<usize>> = vec![vec![]; nodes.len()];
    for e in edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            out[a].push(b);
            parents[b].push(a);
            indeg[b] += 1;
        }
    }
    // Kahn's algorithm, longest path layering.
    let mut layer = vec![0usize; nodes.len()];
    let mut queue: Vec<usize> = (0..nodes.len()).filter(|&i| indeg[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop() {
        seen += 1;
        for &j in &out[i] {
            layer[j] = layer[j].max(layer[i] + 1);
            indeg[j] -= 1;
            if indeg[j] == 0 {
                queue.push(j);
            }
        }
    }
    debug_assert!(seen <= nodes.len());
    let depth = layer.iter().copied().max().unwrap_or(0);
    let mut rows: HashMap<usize, f64> = HashMap::new();
    let mut pos = HashMap::new();
    for l in 0..=depth {
        let mut members: Vec<usize> = (0..nodes.len()).filter(|&i| layer[i] == l).collect();
        let key = |i: &usize| {
            let ps = &parents[*i];
            if ps.is_empty() {
                *i as f64
            } else {
                ps.iter().map(|p| rows.get(p).copied().unwrap_or(0.0)).sum::<f64>() / ps.len() as f64
            }
        };
        members.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.cmp(b)));
        for (r, i) in members.into_iter().enumerate() {
            rows.insert(i, r as f64);
            pos.insert(nodes[i].execution_id.clone(), (l, r));
        }
    }
    pos
}

/// `from` and every node downstream of it (what a replay of `from` re-runs).
pub fn downstream(edges: &[DagEdge], from: &str) -> std::collections::HashSet<String> {
    let mut seen = std::collections::HashSet::from([from.to_owned()]);
    let mut stack = vec![from.to_owned()];
    while let Some(n) = stack.pop() {
        for e in edges.iter().filter(|e| e.from == n) {
            if seen.insert(e.to.clone()) {
                stack.push(e.to.clone());
            }
        }
    }
    seen
}

fn xy((l, r): (usize, usize)) -> (f64, f64) {
    (PAD + l as f64 * (W + GAP_X), PAD + r as f64 * (H + GAP_Y))
}

fn edge_color(state: &str) -> &'static str {
    match state {
        "satisfied" => "#16a34a",
        "impossible" | "failed" => "#dc2626",
        "skipped" | "cancelled" => "#a1a1aa",
        _ => "#94a3b8",
    }
}

#[component]
pub fn Dag(
    nodes: Vec<DagNode>,
    edges: Vec<DagEdge>,
    groups: Vec<EdgeGroupView>,
    /// Highlight this node and everything downstream of it (a replay preview).
    #[prop(optional)]
    replay: Option<String>,
) -> impl IntoView {
    let pos = layout(&nodes, &edges);
    let hot = replay.as_deref().filter(|r| !r.is_empty()).map(|r| downstream(&edges, r)).unwrap_or_default();
    let (cols, rows) = pos.values().fold((0, 0), |(c, r), &(l, row)| (c.max(l + 1), r.max(row + 1)));
    let width = PAD * 2.0 + cols as f64 * W + cols.saturating_sub(1) as f64 * GAP_X;
    let height = PAD * 2.0 + rows as f64 * H + rows.saturating_sub(1) as f64 * GAP_Y;
    let group_of: HashMap<String, EdgeGroupView> = groups.into_iter().map(|g| (g.downstream.clone(), g)).collect();
    let edge_views = edges
        .iter()
        .filter_map(|e| {
            let (x1, y1) = xy(*pos.get(&e.from)?);
            let (x2, y2) = xy(*pos.get(&e.to)?);
            let (sx, sy, tx, ty) = (x1 + W, y1 + H / 2.0, x2, y2 + H / 2.0);
            let mid = (sx + tx) / 2.0;
            let d = format!("M{sx:.1},{sy:.1} C{mid:.1},{sy:.1} {mid:.1},{ty:.1} {tx:.1},{ty:.1}");
            let color = edge_color(&e.state);
            Some(view! {
                <path data-testid="dag-edge" data-state=e.state.clone() d=d fill="none" stroke=color stroke-width="1.5" marker-end="url(#arrow)">
                    <title>{format!("{} → {} · {} · {}", short_id(&e.from), short_id(&e.to), e.condition, e.state)}</title>
                </path>
            })
        })
        .collect_view();
    // Nodes in layout order (roots first), so the page and keyboard order
    // follow the drawing, not the store's.
    let mut ordered: Vec<&DagNode> = nodes.iter().collect();
    ordered.sort_by_key(|n| pos.get(&n.execution_id).copied().unwrap_or((usize::MAX, usize::MAX)));
    let node_views = ordered
        .into_iter()
        .filter_map(|n| {
            let (x, y) = xy(*pos.get(&n.execution_id)?);
            let (fill, stroke) = node_colors(n.state.as_str());
            let replayed = hot.contains(&n.execution_id);
            let (stroke, width) = if replayed { ("#db2777", "3.5") } else { (stroke, "1.5") };
            let group = group_of.get(&n.execution_id).map(|g| {
                format!("{} · {}/{} {}", g.policy, g.satisfied, g.total, g.state)
            });
            let sub = group.clone().unwrap_or_else(|| format!("{} · {} att.", n.lane, n.attempts));
            // The step (kind) an operator knows; the id on hover.
            let label = if n.kind.is_empty() { short_id(&n.execution_id) } else { truncate(&n.kind, 24) };
            let title = format!("{} · {} · {}{}", n.kind, n.execution_id, n.state, group.map(|g| format!(" · join {g}")).unwrap_or_default());
            Some(view! {
                <a href=execution_href(&n.execution_id)>
                    <g data-testid="dag-node" data-execution-id=n.execution_id.clone() data-state=n.state.as_str() data-replay=replayed.then_some("true")>
                        <title>{title}</title>
                        <rect x=x y=y width=W height=H rx="6" fill=fill stroke=stroke stroke-width=width></rect>
                        <text x=x + 8.0 y=y + 16.0 font-size="12" font-family="ui-monospace,monospace" fill="#0f172a">
                            {format!("{} {}", glyph(n.state.as_str()), label)}
                        </text>
                        <text x=x + 8.0 y=y + 31.0 font-size="10" fill="#334155">{truncate(&sub, 28)}</text>
                    </g>
                </a>
            })
        })
        .collect_view();
    view! {
        <div class="max-h-[70vh] overflow-auto rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <svg data-testid="dag" data-nodes=nodes.len() data-edges=edges.len() width=width height=height viewBox=format!("0 0 {width} {height}") role="img" aria-label="flow DAG">
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" fill="#94a3b8"></path>
                    </marker>
                </defs>
                {edge_views}
                {node_views}
            </svg>
        </div>
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> DagNode {
        DagNode { execution_id: id.into(), state: crate::api::states::ExecState::Waiting, lane: "l".into(), attempts: 0, blocking_reason: None, kind: String::new() }
    }
    fn edge(a: &str, b: &str) -> DagEdge {
        DagEdge { edge_id: format!("{a}{b}"), from: a.into(), to: b.into(), kind: "".into(), condition: "".into(), state: "pending".into() }
    }

    #[test]
    fn layers_by_longest_path() {
        let nodes = ["a", "b", "c", "d"].map(node).to_vec();
        let edges = vec![edge("a", "b"), edge("a", "c"), edge("b", "d"), edge("c", "d"), edge("a", "d")];
        let p = layout(&nodes, &edges);
        assert_eq!(p["a"].0, 0);
        assert_eq!(p["b"].0, 1);
        assert_eq!(p["c"].0, 1);
        assert_eq!(p["d"].0, 2);
        assert_ne!(p["b"].1, p["c"].1);
        let d = downstream(&edges, "b");
        assert!(d.contains("b") && d.contains("d") && !d.contains("a") && !d.contains("c"));
    }
}
