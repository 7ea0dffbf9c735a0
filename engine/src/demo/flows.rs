//! Flow templates and their creation: flow header, member executions,
//! edge-group policies, then staged + applied dependency edges.
use std::collections::HashMap;

use ff_core::contracts::{
    AddExecutionToFlowArgs, ApplyDependencyToChildArgs, CreateExecutionArgs, CreateFlowArgs, EdgeDependencyPolicy,
    OnSatisfied, StageDependencyEdgeArgs, StageDependencyEdgeResult,
};
use ff_core::backend::{CancelFlowPolicy, CancelFlowWait};
use ff_core::engine_error::{ContentionKind, EngineError};
use ff_core::policy::{BackoffStrategy, ExecutionPolicy, RetryPolicy};
use ff_core::types::{EdgeId, ExecutionId, FlowId, LaneId, Namespace, TimestampMs};
use rand::Rng;

use super::{DemoReport, DemoState};
use crate::connect::{is_unavailable, Connected};

/// The demo keeps at most this many flows open: past it, the oldest open
/// ones are retired (cancelled, [`retire_oldest`]), so it keeps creating —
/// and moving — however long it runs.
pub(super) const MAX_OPEN_FLOWS: usize = 60;
/// Open flows retired at once when the cap is passed.
const RETIRE: usize = 10;

/// What the simulated worker does with a step once it claims it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    /// Runs, streams a few frames, completes.
    Ok,
    /// First attempt fails with a retryable class; the retry completes.
    Flaky,
    /// Fails for good.
    Fail,
    /// The worker dies: the lease is never renewed and expires.
    Crash,
    /// Suspends until this many distinct approvers sent `release-signoff`.
    Approval(u32),
}

impl Fate {
    pub(super) fn name(self) -> &'static str {
        match self {
            Fate::Ok => "ok",
            Fate::Flaky => "flaky",
            Fate::Fail => "fail",
            Fate::Crash => "crash",
            Fate::Approval(_) => "approval",
        }
    }

    pub(super) fn parse(name: &str, approvers: u32) -> Fate {
        match name {
            "flaky" => Fate::Flaky,
            "fail" => Fate::Fail,
            "crash" => Fate::Crash,
            "approval" => Fate::Approval(approvers.max(1)),
            _ => Fate::Ok,
        }
    }
}

/// The flow shapes the demo creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Template {
    Deploy,
    EtlNightly,
    MediaTranscode,
    BillingRun,
    SearchReindex,
}

struct Node {
    step: String,
    kind: &'static str,
    fate: Fate,
}

struct Spec {
    nodes: Vec<Node>,
    edges: Vec<(usize, usize)>,
    /// Non-AllOf inbound groups, by downstream node.
    groups: Vec<(usize, EdgeDependencyPolicy)>,
}

impl Spec {
    fn node(&mut self, step: impl Into<String>, kind: &'static str, fate: Fate) -> usize {
        self.nodes.push(Node { step: step.into(), kind, fate });
        self.nodes.len() - 1
    }

    fn fan_in(&mut self, from: &[usize], to: usize) {
        self.edges.extend(from.iter().map(|&f| (f, to)));
    }

    fn fan_out(&mut self, from: usize, to: &[usize]) {
        self.edges.extend(to.iter().map(|&t| (from, t)));
    }
}

impl Template {
    /// One of each, in the order `seed` creates them.
    pub(super) const ALL: [Template; 5] = [
        Template::Deploy,
        Template::EtlNightly,
        Template::MediaTranscode,
        Template::BillingRun,
        Template::SearchReindex,
    ];

    /// The next template of the running demo: a rotation of the small
    /// ones, with a large `search.reindex` every seventh flow.
    pub(super) fn next(st: &DemoState) -> Template {
        if st.created % 7 == 6 {
            return Template::SearchReindex;
        }
        Template::ALL[st.created % 4]
    }

    pub(super) fn kind(self) -> &'static str {
        match self {
            Template::Deploy => "deploy",
            Template::EtlNightly => "etl.nightly",
            Template::MediaTranscode => "media.transcode",
            Template::BillingRun => "billing.invoice-run",
            Template::SearchReindex => "search.reindex",
        }
    }

    fn namespace(self) -> &'static str {
        match self {
            Template::Deploy | Template::BillingRun => "payments",
            Template::EtlNightly | Template::SearchReindex => "search",
            Template::MediaTranscode => "media",
        }
    }

    fn lane(self) -> &'static str {
        match self {
            Template::Deploy => "deploy",
            Template::BillingRun => "billing",
            Template::EtlNightly => "etl",
            Template::SearchReindex => "search",
            Template::MediaTranscode => "media",
        }
    }

    fn priority(self) -> i32 {
        match self {
            Template::Deploy => 50,
            Template::BillingRun => 40,
            Template::MediaTranscode => 20,
            Template::EtlNightly => 10,
            Template::SearchReindex => 0,
        }
    }

    fn spec(self) -> Spec {
        let mut s = Spec { nodes: Vec::new(), edges: Vec::new(), groups: Vec::new() };
        match self {
            Template::Deploy => s.deploy(),
            Template::EtlNightly => s.etl_nightly(),
            Template::MediaTranscode => s.media_transcode(),
            Template::BillingRun => s.billing_run(),
            Template::SearchReindex => s.search_reindex(),
        }
        s
    }
}

/// The node graph of each template.
impl Spec {
    fn deploy(&mut self) {
        let s = self;
        let build = s.node("build", "ci.build", Fate::Ok);
        let checks = [
            s.node("unit-tests", "ci.test", Fate::Ok),
            s.node("integration-tests", "ci.test", Fate::Flaky),
            s.node("e2e-tests", "ci.test", Fate::Ok),
            s.node("security-scan", "ci.scan", Fate::Ok),
        ];
        let gate = s.node("approve-production", "approval.gate", Fate::Approval(2));
        let canary = s.node("canary-rollout", "deploy.rollout", Fate::Ok);
        let full = s.node("full-rollout", "deploy.rollout", Fate::Ok);
        s.fan_out(build, &checks);
        s.fan_in(&checks, gate);
        s.edges.extend([(gate, canary), (canary, full)]);
    }

    fn etl_nightly(&mut self) {
        let s = self;
        let extracts = [
            s.node("extract-orders", "etl.extract", Fate::Ok),
            s.node("extract-customers", "etl.extract", Fate::Ok),
            s.node("extract-clickstream", "etl.extract", Fate::Flaky),
        ];
        let transform = s.node("transform", "etl.transform", Fate::Ok);
        let review = s.node("review-anomalies", "approval.gate", Fate::Approval(1));
        let loads = [s.node("load-warehouse", "etl.load", Fate::Ok), s.node("load-search-index", "etl.load", Fate::Ok)];
        let notify = s.node("notify-analytics", "notify", Fate::Ok);
        s.fan_in(&extracts, transform);
        s.edges.push((transform, review));
        s.fan_out(review, &loads);
        s.fan_in(&loads, notify);
        s.groups.push((notify, EdgeDependencyPolicy::any_of(OnSatisfied::let_run())));
    }

    fn media_transcode(&mut self) {
        let s = self;
        let probe = s.node("probe", "media.probe", Fate::Ok);
        let renditions = ["240p", "480p", "720p", "1080p"]
            .map(|r| s.node(format!("transcode-{r}"), "media.transcode", if r == "1080p" { Fate::Crash } else { Fate::Ok }));
        let package = s.node("package-hls", "media.package", Fate::Ok);
        let thumbs = s.node("thumbnails", "media.thumbnails", Fate::Ok);
        let publish = s.node("publish", "approval.gate", Fate::Approval(1));
        s.fan_out(probe, &renditions);
        s.fan_in(&renditions, package);
        s.groups.push((package, EdgeDependencyPolicy::quorum(3, OnSatisfied::let_run())));
        s.edges.push((probe, thumbs));
        s.fan_in(&[package, thumbs], publish);
    }

    fn billing_run(&mut self) {
        let s = self;
        let fetch = [s.node("fetch-usage", "billing.fetch", Fate::Ok), s.node("fetch-contracts", "billing.fetch", Fate::Ok)];
        let compute = s.node("compute-invoices", "billing.compute", Fate::Fail);
        let render = s.node("render-pdfs", "billing.render", Fate::Ok);
        let send = s.node("send-invoices", "billing.send", Fate::Ok);
        s.fan_in(&fetch, compute);
        s.edges.extend([(compute, render), (render, send)]);
    }

    fn search_reindex(&mut self) {
        let s = self;
        let snapshot = s.node("snapshot-catalog", "search.snapshot", Fate::Ok);
        let shards: Vec<usize> = (0..48)
            .map(|i| {
                let fate = if i == 17 || i == 33 { Fate::Flaky } else { Fate::Ok };
                s.node(format!("index-shard-{i:02}"), "search.index", fate)
            })
            .collect();
        let merges: Vec<usize> = (0..6).map(|i| s.node(format!("merge-segment-{i}"), "search.merge", Fate::Ok)).collect();
        let swap = s.node("swap-alias", "search.swap", Fate::Ok);
        let warm = s.node("warm-cache", "search.warm", Fate::Ok);
        s.fan_out(snapshot, &shards);
        for (i, &m) in merges.iter().enumerate() {
            s.fan_in(&shards[i * 8..(i + 1) * 8], m);
        }
        s.fan_in(&merges, swap);
        s.fan_in(&merges, warm);
        s.groups.push((warm, EdgeDependencyPolicy::any_of(OnSatisfied::let_run())));
    }
}

/// Retry policy every demo step carries (one retry): Valkey's Lua retries
/// only when the execution has one, and then whatever the failure class;
/// Postgres and SQLite retry the retryable classes regardless.
fn retry_policy() -> ExecutionPolicy {
    ExecutionPolicy {
        retry_policy: Some(RetryPolicy {
            max_retries: 1,
            backoff: BackoffStrategy::Fixed { delay_ms: 1_500 },
            retryable_categories: Vec::new(),
        }),
        ..ExecutionPolicy::default()
    }
}

/// Create one flow of `template`: header, members, AnyOf / Quorum group
/// policies (skipped where the backend does not take them), then every
/// edge staged and applied. With `vary`, a few `Ok` steps get another fate
/// so no two flows behave the same.
pub(super) async fn create_flow_with_dag(
    c: &Connected,
    st: &mut DemoState,
    template: Template,
    vary: bool,
    report: &mut DemoReport,
) -> Result<FlowId, EngineError> {
    let spec = template.spec();
    let flow = NewFlow {
        id: FlowId::new(),
        template,
        namespace: Namespace::new(template.namespace()),
        lane: LaneId::new(template.lane()),
        now: TimestampMs::now(),
        shop: shop_tags(st),
    };
    c.backend
        .create_flow(CreateFlowArgs {
            flow_id: flow.id.clone(),
            flow_kind: template.kind().to_owned(),
            namespace: flow.namespace.clone(),
            now: flow.now,
        })
        .await?;
    let mut ids = Vec::with_capacity(spec.nodes.len());
    for node in &spec.nodes {
        let fate = match node.fate {
            Fate::Ok if vary => match st.rng.gen_range(0..100) {
                0..=3 => Fate::Flaky,
                4..=5 => Fate::Fail,
                6..=7 => Fate::Crash,
                _ => Fate::Ok,
            },
            f => f,
        };
        ids.push(flow.add_member(c, node, fate).await?);
    }
    report.executions += ids.len();
    for (down, policy) in spec.groups {
        match c.backend.set_edge_group_policy(&flow.id, &ids[down], policy).await {
            Ok(_) => report.edge_group_policies += 1,
            Err(e) if is_unavailable(&e) => report.skip("set_edge_group_policy (AllOf kept)", &e),
            Err(e) => return Err(e),
        }
    }
    flow.add_edges(c, &ids, spec.edges, report).await?;
    st.idle_until.remove(template.lane());
    report.flows += 1;
    report.flow_ids.push(flow.id.clone());
    st.open_flows += 1;
    st.created += 1;
    Ok(flow.id)
}

/// Customers of the demo's shop.
const CUSTOMERS: [&str; 5] = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"];
/// Regions of the demo's shop.
const REGIONS: [&str; 3] = ["eu", "us", "apac"];

/// The tags an application puts on the work of one order, as shops do
/// (`shop.order_id`, `shop.customer`, `shop.region`): what an operator
/// searches by (`tag:shop.order_id=A-1042`, docs/SEARCH.md).
fn shop_tags(st: &mut DemoState) -> Vec<(String, String)> {
    vec![
        ("shop.order_id".to_owned(), format!("A-{}", st.rng.gen_range(10_000..100_000))),
        ("shop.customer".to_owned(), CUSTOMERS[st.rng.gen_range(0..CUSTOMERS.len())].to_owned()),
        ("shop.region".to_owned(), REGIONS[st.rng.gen_range(0..REGIONS.len())].to_owned()),
    ]
}

/// A flow being created, and what its members share.
struct NewFlow {
    id: FlowId,
    template: Template,
    namespace: Namespace,
    lane: LaneId,
    now: TimestampMs,
    /// The order's tags, on every member.
    shop: Vec<(String, String)>,
}

impl NewFlow {
    /// Create the execution of `node` (to run as `fate`) and add it to the flow.
    async fn add_member(&self, c: &Connected, node: &Node, fate: Fate) -> Result<ExecutionId, EngineError> {
        let execution_id = crate::backend::mint_execution_id(c, &self.id)?;
        let approvers = if let Fate::Approval(n) = fate { n } else { 0 };
        let input = serde_json::json!({
            "flow_id": self.id.to_string(),
            "flow_kind": self.template.kind(),
            "step": node.step,
            "simulate": fate.name(),
            "approvers": approvers,
        });
        c.backend
            .create_execution(CreateExecutionArgs {
                execution_id: execution_id.clone(),
                namespace: self.namespace.clone(),
                lane_id: self.lane.clone(),
                // The step is what an operator knows a member by (the board
                // labels DAG nodes with the kind); the template's kind is a tag.
                execution_kind: node.step.clone(),
                input_payload: input.to_string().into_bytes(),
                payload_encoding: Some("json".to_owned()),
                priority: self.template.priority(),
                creator_identity: "ff-board-demo".to_owned(),
                idempotency_key: None,
                tags: self.shop.iter().cloned().chain([("demo.kind".to_owned(), node.kind.to_owned())]).collect::<HashMap<_, _>>(),
                policy: Some(retry_policy()),
                delay_until: None,
                execution_deadline_at: None,
                partition_id: execution_id.partition(),
                now: self.now,
            })
            .await?;
        let add = AddExecutionToFlowArgs { flow_id: self.id.clone(), execution_id: execution_id.clone(), now: self.now };
        c.backend.add_execution_to_flow(add).await?;
        Ok(execution_id)
    }

    /// Stage and apply every edge `(upstream, downstream)` between `ids`.
    async fn add_edges(
        &self,
        c: &Connected,
        ids: &[ExecutionId],
        edges: Vec<(usize, usize)>,
        report: &mut DemoReport,
    ) -> Result<(), EngineError> {
        let (flow_id, now) = (&self.id, self.now);
        // Every add_execution_to_flow bumps the graph revision by one.
        let mut revision = ids.len() as u64;
        for (up, down) in edges {
            let edge_id = EdgeId::new();
            let stage = |expected_graph_revision| StageDependencyEdgeArgs {
                flow_id: flow_id.clone(),
                edge_id: edge_id.clone(),
                upstream_execution_id: ids[up].clone(),
                downstream_execution_id: ids[down].clone(),
                dependency_kind: "success_only".to_owned(),
                data_passing_ref: None,
                expected_graph_revision,
                now,
            };
            let staged = match c.backend.stage_dependency_edge(stage(revision)).await {
                Err(EngineError::Contention(ContentionKind::StaleGraphRevision)) => {
                    let current = c.backend.describe_flow(flow_id).await?.map(|f| f.graph_revision);
                    c.backend.stage_dependency_edge(stage(current.unwrap_or(revision))).await?
                }
                other => other?,
            };
            let StageDependencyEdgeResult::Staged { new_graph_revision, .. } = staged;
            revision = new_graph_revision;
            c.backend
                .apply_dependency_to_child(ApplyDependencyToChildArgs {
                    flow_id: flow_id.clone(),
                    edge_id,
                    downstream_execution_id: ids[down].clone(),
                    upstream_execution_id: ids[up].clone(),
                    graph_revision: revision,
                    dependency_kind: "success_only".to_owned(),
                    data_passing_ref: None,
                    now,
                })
                .await?;
            report.edges += 1;
        }
        Ok(())
    }
}

/// The store's open flows, up to one past [`MAX_OPEN_FLOWS`] (one list
/// read). A store that cannot list counts as having none.
pub(super) async fn open_flows(c: &Connected) -> Vec<crate::backend::FlowLine> {
    let open = crate::backend::FlowQuery { state: Some(crate::backend::FlowState::Active), ..Default::default() };
    match c.reads.flows(&open, None, MAX_OPEN_FLOWS + 1).await {
        Ok(page) => page.rows,
        Err(e) => {
            tracing::warn!(error = %e, "demo: cannot list open flows; assuming none");
            Vec::new()
        }
    }
}

/// How many of `open` flows to retire: [`RETIRE`] once the store is at
/// the cap, none below it. At the cap, not only past it: new flows are
/// created only below the cap, so a store holding exactly the cap, every
/// flow waiting on a gate or a failed member, would never move again.
fn to_retire(open: usize) -> usize {
    if open >= MAX_OPEN_FLOWS { RETIRE } else { 0 }
}

/// At [`MAX_OPEN_FLOWS`], cancel the [`RETIRE`] oldest open flows (of
/// those one list page shows), members and all; sets `st.open_flows`.
pub(super) async fn retire_oldest(c: &Connected, st: &mut DemoState, report: &mut DemoReport) -> Result<(), EngineError> {
    let mut open = open_flows(c).await;
    st.open_flows = open.len();
    let n = to_retire(open.len());
    if n == 0 {
        return Ok(());
    }
    open.sort_by_key(|f| f.created_at);
    for f in open.iter().take(n) {
        c.backend.cancel_flow(&f.id, CancelFlowPolicy::CancelAll, CancelFlowWait::NoWait).await?;
        report.retired += 1;
        st.open_flows -= 1;
    }
    c.reads.invalidate();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_at_the_cap_retires_so_new_flows_come() {
        assert_eq!(to_retire(MAX_OPEN_FLOWS - 1), 0);
        assert_eq!(to_retire(MAX_OPEN_FLOWS), RETIRE, "at the cap no flow is created: retire, or the demo freezes");
        assert_eq!(to_retire(MAX_OPEN_FLOWS + 1), RETIRE);
    }
}
