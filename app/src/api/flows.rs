//! Flows: the board-wide list (one store read per page, filters, opaque
//! cursor) and one flow with its members and DAG (`describe_flow`,
//! `list_edges`).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::states::{ExecState, FlowState};
use crate::error::AppError;

/// One row of /flows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowRow {
    pub flow_id: String,
    pub kind: String,
    pub namespace: String,
    pub state: FlowState,
    pub node_count: u32,
    pub edge_count: u32,
    pub created_at: i64,
    pub last_mutation_at: i64,
}

/// The /flows query, as carried in the URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowsQuery {
    pub state: Option<String>,
    pub namespace: Option<String>,
    /// A query (`docs/SEARCH.md`) or a flow id to jump to.
    pub q: Option<String>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    /// The columns a saved view shows (comma-separated keys; blank for all).
    pub cols: Option<String>,
    /// The saved view's name, when opened from one.
    pub view: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowsList {
    pub rows: Vec<FlowRow>,
    pub next_cursor: Option<String>,
    pub partitions: u16,
    /// The page stopped early after looking at the scan limit of rows: more
    /// may match ("at least").
    pub cut_short: bool,
    pub order: FlowOrder,
}

/// The order of a flows page: SQL stores index flows by creation time;
/// Valkey keeps flow ids in unordered sets with no time index, so there
/// the board orders by id (docs/READS.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowOrder {
    NewestFirst,
    ById,
}

impl FlowOrder {
    pub fn describe(self) -> &'static str {
        match self {
            FlowOrder::NewestFirst => "newest first",
            FlowOrder::ById => "ordered by id (Valkey keeps no creation-time index of flows)",
        }
    }
}

/// A DAG node: one member execution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DagNode {
    pub execution_id: String,
    pub state: ExecState,
    pub lane: String,
    pub attempts: u32,
    pub blocking_reason: Option<crate::api::states::BlockingReason>,
    /// The member's kind (its step), the node's label.
    pub kind: String,
    pub created_at: i64,
    /// When it finished (none while it has not).
    pub finished_at: Option<i64>,
}

/// A DAG edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DagEdge {
    pub edge_id: String,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub condition: String,
    pub state: String,
}

/// The edge group in front of a downstream node (its join policy).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeGroupView {
    pub downstream: String,
    /// `all_of`, `any_of`, `quorum(k)` with the on-satisfied choice.
    pub policy: String,
    pub total: u32,
    pub satisfied: u32,
    pub failed: u32,
    pub skipped: u32,
    pub running: u32,
    pub state: crate::api::states::GroupState,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowDetail {
    pub flow: FlowRow,
    pub graph_revision: u64,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: Option<String>,
    pub tags: Vec<(String, String)>,
    pub nodes: Vec<DagNode>,
    pub edges: Vec<DagEdge>,
    pub groups: Vec<EdgeGroupView>,
    /// The flow's timeline as SVG, drawn on the server from the members
    /// and edges above (`components::gantt`: no read of its own, and no
    /// drawing code in the browser bundle).
    pub timeline: String,
}

/// Flows per page.
pub const PAGE: usize = 50;

/// Members a flow page shows at most.
pub const MAX_MEMBERS: usize = 500;

#[server(prefix = "/api", endpoint = "list_flows", output = crate::api::codec::PostcardAnswer)]
pub async fn list_flows(
    state: Option<String>,
    namespace: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
) -> Result<FlowsList, AppError> {
    use crate::api::read::Call;
    use ff_board_domain::query::{Query, Scope};
    use ff_board_engine::backend::{search::Search, FlowQuery};
    let text = q.as_deref().map(str::trim).unwrap_or("");
    // A whole flow id to jump to: that flow alone, whatever the filters say.
    if let Some(id) = Some(text).filter(|t| !t.is_empty()).and_then(|t| super::parse::flow_id(t).ok()) {
        return super::read::read(|c| async move {
            let snap = c.backend.describe_flow(&id).timed("describe_flow").await?;
            Ok(FlowsList { rows: snap.map(row).into_iter().collect(), next_cursor: None, cut_short: false, ..listed(&c) })
        })
        .await;
    }
    // Anything else is a query (docs/SEARCH.md).
    let search = Query::parse(text, Scope::Flows).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let query = FlowQuery {
        state: FlowState::filter(state.as_deref()).map_err(AppError::BadRequest)?,
        namespace: namespace.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        search: (!search.is_empty()).then(|| Search::new(search)),
    };
    if query.namespace.as_ref().is_some_and(|n| n.len() > 128) {
        return Err(AppError::BadRequest("namespace filter longer than 128 characters".into()));
    }
    let after = super::cursor::decode(cursor.as_deref())?;
    super::read::read(|c| async move {
        let page = c.reads.flows(&query, after.as_deref(), PAGE).await?;
        Ok(FlowsList {
            rows: page.rows.into_iter().map(line_row).collect(),
            next_cursor: page.next.as_deref().map(super::cursor::encode),
            cut_short: page.cut_short,
            ..listed(&c)
        })
    })
    .await
}

/// An empty list with the backend's partition count and flow order.
#[cfg(feature = "ssr")]
fn listed(c: &ff_board_engine::connect::Connected) -> FlowsList {
    let order = if ff_board_engine::backend::Quirks::of(c.kind).flows_by_id { FlowOrder::ById } else { FlowOrder::NewestFirst };
    FlowsList { rows: vec![], next_cursor: None, partitions: c.partitions.num_flow_partitions, cut_short: false, order }
}

#[server(prefix = "/api", endpoint = "get_flow", output = crate::api::codec::PostcardAnswer)]
pub async fn get_flow(flow_id: String) -> Result<FlowDetail, AppError> {
    use crate::api::read::Call;
    let id = super::parse::flow_id(&flow_id)?;
    super::read::read(|c| async move {
        let snap = c.backend.describe_flow(&id).timed("describe_flow").await?.ok_or_else(|| AppError::not_found("flow", flow_id))?;
        let members = c.reads.flow_members(&id, MAX_MEMBERS).await?;
        // Lanes met here are kept for the lists (Valkey lists by lane).
        let mut lanes: Vec<String> = members.iter().map(|m| m.lane.clone()).collect();
        lanes.sort();
        lanes.dedup();
        if let Err(e) = c.side.note_lanes(&lanes).await {
            tracing::warn!(error = %e, "lanes of a flow's members not kept");
        }
        let edges = edges(&c, &id, members.iter().map(|m| m.id.clone()).collect()).await?;
        let nodes: Vec<DagNode> = members.into_iter().map(node).collect();
        let timeline = crate::components::gantt::svg(&nodes, &edges, ff_board_engine::backend::now_ms());
        Ok(FlowDetail {
            graph_revision: snap.graph_revision,
            cancelled_at: snap.cancelled_at.map(|t| t.0),
            cancel_reason: snap.cancel_reason.clone(),
            tags: snap.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            nodes,
            edges,
            timeline,
            groups: snap.edge_groups.iter().map(group).collect(),
            flow: row(snap),
        })
    })
    .await
}

/// The outgoing edges of every member (eight reads at a time, under one
/// deadline), sorted by edge id.
#[cfg(feature = "ssr")]
async fn edges(c: &ff_board_engine::connect::Connected, id: &ff_core::types::FlowId, members: Vec<ff_core::types::ExecutionId>) -> Result<Vec<DagEdge>, AppError> {
    use crate::api::read::Call;
    use ff_core::contracts::EdgeDirection;
    use futures::{StreamExt, TryStreamExt};
    let edges = futures::stream::iter(members)
        .map(|m| {
            let backend = c.backend.clone();
            let id = id.clone();
            async move { backend.list_edges(&id, EdgeDirection::Outgoing { from_node: m }).await }
        })
        .buffered(8)
        .try_concat()
        .timed("list_edges")
        .await?;
    let mut edges: Vec<DagEdge> = edges
        .into_iter()
        .map(|e| DagEdge {
            edge_id: e.edge_id.to_string(),
            from: e.upstream_execution_id.to_string(),
            to: e.downstream_execution_id.to_string(),
            kind: e.dependency_kind,
            condition: e.satisfaction_condition,
            state: e.edge_state,
        })
        .collect();
    edges.sort_by(|a, b| a.edge_id.cmp(&b.edge_id));
    Ok(edges)
}

#[cfg(feature = "ssr")]
fn node(s: ff_board_engine::backend::ExecLine) -> DagNode {
    DagNode {
        execution_id: s.id.to_string(),
        state: ff_board_engine::backend::exec_state(s.state),
        lane: s.lane,
        attempts: s.attempts,
        blocking_reason: s.blocking_reason.as_deref().and_then(crate::api::states::BlockingReason::parse),
        kind: s.kind,
        created_at: s.created_at,
        finished_at: s.finished_at,
    }
}

#[cfg(feature = "ssr")]
fn row(s: ff_core::contracts::FlowSnapshot) -> FlowRow {
    FlowRow {
        flow_id: s.flow_id.to_string(),
        kind: s.flow_kind,
        namespace: s.namespace.to_string(),
        state: FlowState::from_stored(&s.public_flow_state),
        node_count: s.node_count,
        edge_count: s.edge_count,
        created_at: s.created_at.0,
        last_mutation_at: s.last_mutation_at.0,
    }
}

#[cfg(feature = "ssr")]
fn line_row(f: ff_board_engine::backend::FlowLine) -> FlowRow {
    FlowRow {
        flow_id: f.id.to_string(),
        kind: f.kind,
        namespace: f.namespace,
        state: f.state,
        node_count: f.node_count,
        edge_count: f.edge_count,
        created_at: f.created_at,
        last_mutation_at: f.last_mutation_at,
    }
}

#[cfg(feature = "ssr")]
fn group(g: &ff_core::contracts::EdgeGroupSnapshot) -> EdgeGroupView {
    use ff_core::contracts::EdgeDependencyPolicy as P;
    let policy = match &g.policy {
        P::AllOf => "all_of".to_owned(),
        P::AnyOf { on_satisfied } => format!("any_of, {}", on_satisfied.variant_str()),
        P::Quorum { k, on_satisfied } => format!("quorum {k} of {}, {}", g.total_deps, on_satisfied.variant_str()),
        other => format!("{other:?}"),
    };
    EdgeGroupView {
        downstream: g.downstream_execution_id.to_string(),
        policy,
        total: g.total_deps,
        satisfied: g.satisfied_count,
        failed: g.failed_count,
        skipped: g.skipped_count,
        running: g.running_count,
        state: crate::api::states::GroupState::parse(g.group_state.as_str()),
    }
}
