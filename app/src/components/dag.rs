//! The flow DAG as SVG: nodes in layers by longest path from the roots,
//! ordered within a layer by their parents' positions, coloured by state
//! (with the state glyph), edges coloured by edge state, and each node's
//! edge-group policy under its label. Large fan-outs (at least
//! [`COLLAPSE_MIN`] members of one step family with the same parents and
//! children, e.g. `index-shard-1` … `index-shard-44`) are drawn as one
//! stacked node with their states counted, expanded by `?dag=all`. The
//! drawing scrolls (pan) and zooms (buttons, 25 % to 200 %).
use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::flows::{DagEdge, DagNode, EdgeGroupView};
use crate::api::states::ExecState;
use crate::components::state::Badge;
use crate::components::chart::esc;
use crate::components::text::{execution_href, short_id};

// Whole pixels: the drawing is written with integer formatting only
// (float formatting would pull core's float printer into the bundle).
const W: i64 = 168;
const H: i64 = 40;
const GAP_X: i64 = 72;
const GAP_Y: i64 = 14;
const PAD: i64 = 16;

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

/// Fan-outs of at least this many members are drawn as one node.
pub const COLLAPSE_MIN: usize = 6;

/// A step's family: its kind without a trailing number (`index-shard-44`
/// → `index-shard`).
fn family(kind: &str) -> &str {
    kind.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end_matches(['-', '_', '.', ' '])
}

/// A collapsed fan-out: the members it stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: String,
    pub family: String,
    pub members: Vec<DagNode>,
}

/// Collapse every fan-out of [`COLLAPSE_MIN`] or more members: siblings of
/// one step family with the same parents and the same children become one
/// node (id `group:<first member>`), their edges merged.
pub fn collapse(nodes: &[DagNode], edges: &[DagEdge]) -> (Vec<DagNode>, Vec<DagEdge>, Vec<Group>) {
    use std::collections::BTreeMap;
    let mut ins: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut outs: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in edges {
        ins.entry(e.to.as_str()).or_default().push(e.from.as_str());
        outs.entry(e.from.as_str()).or_default().push(e.to.as_str());
    }
    let mut families: BTreeMap<(Vec<&str>, Vec<&str>, &str), Vec<&DagNode>> = BTreeMap::new();
    for n in nodes {
        let mut i = ins.get(n.execution_id.as_str()).cloned().unwrap_or_default();
        let mut o = outs.get(n.execution_id.as_str()).cloned().unwrap_or_default();
        i.sort_unstable();
        o.sort_unstable();
        families.entry((i, o, family(&n.kind))).or_default().push(n);
    }
    let mut to_group: HashMap<&str, String> = HashMap::new();
    let mut groups = Vec::new();
    for ((_, _, fam), members) in families {
        if members.len() < COLLAPSE_MIN || fam.is_empty() {
            continue;
        }
        let id = format!("group:{}", members[0].execution_id);
        for m in &members {
            to_group.insert(m.execution_id.as_str(), id.clone());
        }
        groups.push(Group { id, family: fam.to_owned(), members: members.into_iter().cloned().collect() });
    }
    if groups.is_empty() {
        return (nodes.to_vec(), edges.to_vec(), groups);
    }
    let mut out_nodes: Vec<DagNode> = nodes.iter().filter(|n| !to_group.contains_key(n.execution_id.as_str())).cloned().collect();
    for g in &groups {
        let first = &g.members[0];
        out_nodes.push(DagNode { execution_id: g.id.clone(), kind: g.family.clone(), ..first.clone() });
    }
    let map = |id: &str| to_group.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let mut seen = std::collections::HashSet::new();
    let out_edges = edges
        .iter()
        .filter_map(|e| {
            let (from, to) = (map(&e.from), map(&e.to));
            seen.insert((from.clone(), to.clone())).then(|| DagEdge { from, to, ..e.clone() })
        })
        .collect();
    (out_nodes, out_edges, groups)
}

fn xy((l, r): (usize, usize)) -> (i64, i64) {
    (PAD + l as i64 * (W + GAP_X), PAD + r as i64 * (H + GAP_Y))
}

fn edge_color(state: &str) -> &'static str {
    match state {
        "satisfied" => "#16a34a",
        "impossible" | "failed" => "#dc2626",
        "skipped" | "cancelled" => "#a1a1aa",
        _ => "#94a3b8",
    }
}

/// Which member state a collapsed fan-out shows: the one that needs an
/// operator first.
fn urgency(state: ExecState) -> usize {
    use ExecState as S;
    [S::Failed, S::Expired, S::Active, S::Suspended, S::RateLimited, S::WaitingChildren, S::Waiting, S::Delayed, S::Resumable, S::Cancelled, S::Skipped]
        .iter()
        .position(|s| *s == state)
        .unwrap_or(usize::MAX)
}

/// Members per state, most urgent first: `[(Failed, 2), (Completed, 40)]`.
fn state_counts(members: &[DagNode]) -> Vec<(ExecState, usize)> {
    let mut counts: Vec<(ExecState, usize)> = Vec::new();
    for m in members {
        match counts.iter_mut().find(|(s, _)| *s == m.state) {
            Some((_, n)) => *n += 1,
            None => counts.push((m.state, 1)),
        }
    }
    counts.sort_by_key(|(s, _)| urgency(*s));
    counts
}

/// The drawing as one SVG string (it has no behaviour of its own: a view
/// tree per node would only grow the browser bundle). Every piece of data
/// is escaped.
#[allow(clippy::too_many_arguments)]
fn svg(
    nodes: &[DagNode],
    edges: &[DagEdge],
    pos: &HashMap<String, (usize, usize)>,
    groups: &HashMap<String, EdgeGroupView>,
    fanouts: &[Group],
    hot: &std::collections::HashSet<String>,
    expand_href: &str,
    (members, member_edges, width, height): (usize, usize, i64, i64),
) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg data-testid=\"dag\" data-nodes=\"{members}\" data-edges=\"{member_edges}\" data-drawn-edges=\"{}\" width=\"100%\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"flow DAG\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#94a3b8\"></path></marker></defs>",
        edges.len()
    );
    for e in edges {
        let (Some(a), Some(b)) = (pos.get(&e.from), pos.get(&e.to)) else { continue };
        let ((x1, y1), (x2, y2)) = (xy(*a), xy(*b));
        let (sx, sy, tx, ty) = (x1 + W, y1 + H / 2, x2, y2 + H / 2);
        let mid = (sx + tx) / 2;
        let _ = write!(
            o,
            "<path data-testid=\"dag-edge\" data-state=\"{}\" d=\"M{sx},{sy} C{mid},{sy} {mid},{ty} {tx},{ty}\" fill=\"none\" stroke=\"{}\" \
             stroke-width=\"1.5\" marker-end=\"url(#arrow)\"><title>{} → {} · {} · {}</title></path>",
            esc(&e.state),
            edge_color(&e.state),
            esc(&short_id(&e.from)),
            esc(&short_id(&e.to)),
            esc(&e.condition),
            esc(&e.state)
        );
    }
    let fanout_of: HashMap<&str, &Group> = fanouts.iter().map(|g| (g.id.as_str(), g)).collect();
    // Nodes in layout order (roots first), so the page and keyboard order
    // follow the drawing, not the store's.
    let mut ordered: Vec<&DagNode> = nodes.iter().collect();
    ordered.sort_by_key(|n| pos.get(&n.execution_id).copied().unwrap_or((usize::MAX, usize::MAX)));
    for n in ordered {
        let Some(p) = pos.get(&n.execution_id) else { continue };
        let (x, y) = xy(*p);
        if let Some(g) = fanout_of.get(n.execution_id.as_str()) {
            fanout(&mut o, g, x, y, expand_href);
            continue;
        }
        let tone = Badge::from(n.state).tone;
        let (fill, stroke) = tone.colors();
        let replayed = hot.contains(&n.execution_id);
        let (stroke, sw) = if replayed { ("#db2777", "3.5") } else { (stroke, "1.5") };
        let group = groups.get(&n.execution_id).map(|g| format!("{} · {}/{} {}", g.policy, g.satisfied, g.total, g.state));
        let sub = group.clone().unwrap_or_else(|| format!("{} · {} att.", n.lane, n.attempts));
        // The step (kind) an operator knows; the id on hover.
        let label = if n.kind.is_empty() { short_id(&n.execution_id) } else { truncate(&n.kind, 24) };
        let title = format!("{} · {} · {}{}", n.kind, n.execution_id, n.state.as_str(), group.map(|g| format!(" · join {g}")).unwrap_or_default());
        let _ = write!(
            o,
            "<a href=\"{}\"><g data-testid=\"dag-node\" data-execution-id=\"{}\" data-state=\"{}\"{}><title>{}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{sw}\"></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" font-family=\"ui-monospace,monospace\" fill=\"#0f172a\">{} {}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#334155\">{}</text></g></a>",
            esc(&execution_href(&n.execution_id)),
            esc(&n.execution_id),
            n.state.as_str(),
            if replayed { " data-replay=\"true\"" } else { "" },
            esc(&title),
            x + 8,
            y + 16,
            tone.glyph(),
            esc(&label),
            x + 8,
            y + 31,
            esc(&truncate(&sub, 28))
        );
    }
    o.push_str("</svg>");
    o
}

/// A collapsed fan-out: a stack of cards, the family and member count, its
/// members counted by state; it links to the expanded drawing.
fn fanout(o: &mut String, g: &Group, x: i64, y: i64, expand_href: &str) {
    use std::fmt::Write as _;
    let counts = state_counts(&g.members);
    let (fill, stroke) = Badge::from(counts.first().map_or(ExecState::Waiting, |c| c.0)).tone.colors();
    let summary = counts.iter().map(|(s, n)| format!("{n} {}", Badge::from(*s).tone.glyph())).collect::<Vec<_>>().join(" · ");
    let title = format!(
        "{} × {}: {}. Select to draw every member.",
        g.members.len(),
        g.family,
        counts.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
    );
    let _ = write!(o, "<a href=\"{}\"><g data-testid=\"dag-fanout\" data-members=\"{}\" data-family=\"{}\"><title>{}</title>", esc(expand_href), g.members.len(), esc(&g.family), esc(&title));
    for (d, w) in [(6, "1"), (3, "1"), (0, "1.5")] {
        let _ = write!(o, "<rect x=\"{}\" y=\"{}\" width=\"{W}\" height=\"{H}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{w}\"></rect>", x + d, y - d);
    }
    let _ = write!(
        o,
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" font-family=\"ui-monospace,monospace\" fill=\"#0f172a\">{} ×{}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#334155\">{}</text></g></a>",
        x + 8,
        y + 16,
        esc(&truncate(&g.family, 18)),
        g.members.len(),
        x + 8,
        y + 31,
        esc(&truncate(&summary, 28))
    );
}

#[component]
pub fn Dag(
    nodes: Vec<DagNode>,
    edges: Vec<DagEdge>,
    groups: Vec<EdgeGroupView>,
    /// Highlight this node and everything downstream of it (a replay
    /// preview); the drawing is expanded meanwhile.
    #[prop(optional)]
    replay: Option<String>,
    /// Draw every member, fan-outs included.
    #[prop(optional)]
    expanded: bool,
    /// The flow page's path: the expand / collapse links point there.
    #[prop(into)]
    base: String,
) -> impl IntoView {
    let members = nodes.len();
    let member_edges = edges.len();
    let replay = replay.filter(|r| !r.is_empty());
    let (nodes, edges, fanouts) = if expanded || replay.is_some() { (nodes, edges, Vec::new()) } else { collapse(&nodes, &edges) };
    let pos = layout(&nodes, &edges);
    let hot = replay.as_deref().map(|r| downstream(&edges, r)).unwrap_or_default();
    let (cols, rows) = pos.values().fold((0, 0), |(c, r), &(l, row)| (c.max(l + 1), r.max(row + 1)));
    let width = PAD * 2 + cols as i64 * W + cols.saturating_sub(1) as i64 * GAP_X;
    let height = PAD * 2 + rows as i64 * H + rows.saturating_sub(1) as i64 * GAP_Y;
    let group_of: HashMap<String, EdgeGroupView> = groups.into_iter().map(|g| (g.downstream.clone(), g)).collect();
    let expand_href = format!("{base}?dag=all");
    let drawing = svg(&nodes, &edges, &pos, &group_of, &fanouts, &hot, &expand_href, (members, member_edges, width, height));
    let zoom = RwSignal::new(1.0_f64);
    let step = move |by: f64| zoom.update(|z| *z = (*z * by).clamp(0.25, 2.0));
    let button = "rounded border border-slate-300 px-2 py-0.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";
    let collapsed = !fanouts.is_empty();
    let hidden: usize = fanouts.iter().map(|g| g.members.len()).sum();
    view! {
        <div class="mb-2 flex flex-wrap items-center gap-2 text-sm">
            <button type="button" class=button data-testid="dag-zoom-out" aria-label="Zoom out" on:click=move |_| step(0.8)>"−"</button>
            <span class="w-12 text-center tabular-nums" data-testid="dag-zoom">{move || format!("{} %", (zoom.get() * 100.0).round() as i64)}</span>
            <button type="button" class=button data-testid="dag-zoom-in" aria-label="Zoom in" on:click=move |_| step(1.25)>"+"</button>
            <button type="button" class=button on:click=move |_| zoom.set(1.0)>"Reset"</button>
            <span class="text-xs text-slate-500">"Scroll or drag the scrollbars to pan."</span>
            {collapsed.then(|| view! {
                <a class="ml-auto text-blue-700 underline dark:text-blue-300" data-testid="dag-expand" href=expand_href.clone()>
                    {format!("Show all {members} members ({hidden} in {} collapsed fan-outs)", fanouts.len())}
                </a>
            })}
            {(expanded && !collapsed).then(|| view! {
                <a class="ml-auto text-blue-700 underline dark:text-blue-300" data-testid="dag-collapse" href=base.clone()>"Collapse fan-outs"</a>
            })}
        </div>
        <div class="max-h-[70vh] overflow-auto rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <div data-testid="dag-canvas" style:width=move || format!("{}px", (width as f64 * zoom.get()).round() as i64) inner_html=drawing></div>
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
        DagNode { execution_id: id.into(), state: crate::api::states::ExecState::Waiting, lane: "l".into(), attempts: 0, blocking_reason: None, kind: String::new(), created_at: 0, finished_at: None }
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

    #[test]
    fn fan_outs_collapse_into_one_node() {
        let mut nodes = vec![node("root"), node("join"), node("odd")];
        // odd is of the family but has no child: not part of the fan-out.
        let mut edges = vec![edge("root", "odd")];
        for i in 0..COLLAPSE_MIN {
            let id = format!("s{i}");
            nodes.push(DagNode { kind: format!("index-shard-{i}"), ..node(&id) });
            edges.push(edge("root", &id));
            edges.push(edge(&id, "join"));
        }
        nodes[0].kind = "plan".into();
        nodes[1].kind = "join".into();
        nodes[2].kind = "index-shard-99".into();
        nodes[3].state = crate::api::states::ExecState::Failed;
        let (n, e, groups) = collapse(&nodes, &edges);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].family, "index-shard");
        assert_eq!(groups[0].members.len(), COLLAPSE_MIN);
        assert_eq!(n.len(), 4, "root, join, odd and the fan-out");
        assert_eq!(e.len(), 3, "root→odd, root→fan-out, fan-out→join");
        assert_eq!(state_counts(&groups[0].members)[0], (ExecState::Failed, 1));
        // One member fewer: nothing is collapsed.
        let (n, e, groups) = collapse(&nodes[..nodes.len() - 1], &edges[..edges.len() - 2]);
        assert!(groups.is_empty());
        assert_eq!((n.len(), e.len()), (nodes.len() - 1, edges.len() - 2));
    }
}
