//! Lanes outside the engine's registry (issue 20, item 9), on Valkey:
//! executions created through the trait in a lane ff-server never
//! declared are in no list until the board finds the lane. The board's
//! walk (`backend::valkey::lanes`) finds it, one replica at a time, and
//! then the lists, `/lanes` and `/status` show it; a lane met on a flow's
//! members is kept at once. The same walk writes the board's search index
//! (step and tag zsets): before its first pass a query by step says the
//! index is being built, after it the query answers exactly.
use ff_board_domain::query::{Query, Scope};
use ff_board_engine::backend::search::Search;
use ff_board_engine::backend::ExecQuery;
use ff_board_engine::connect::Connected;
use ff_board_tests::board::Board;
use ff_board_tests::seed::{execution_args, new_execution_id};
use ff_board_tests::{connect, Valkey};
use ff_core::contracts::{AddExecutionToFlowArgs, CreateFlowArgs};
use ff_core::types::{FlowId, LaneId, Namespace, TimestampMs};

const HIDDEN: &str = "hidden-lane";

/// `flows` flows of 3 executions each in lane `lane` (not declared).
async fn create(c: &Connected, lane: &str, flows: usize) -> Vec<FlowId> {
    let (ns, lane, now) = (Namespace::new("lanes"), LaneId::new(lane), TimestampMs::now());
    let mut out = Vec::new();
    for _ in 0..flows {
        let flow = FlowId::new();
        c.backend.create_flow(CreateFlowArgs { flow_id: flow.clone(), flow_kind: "lanes.flow".into(), namespace: ns.clone(), now }).await.unwrap();
        for step in 0..3 {
            let id = new_execution_id(c, Some(&flow), &lane);
            let mut args = execution_args(&id, &ns, &lane, &format!("lanes.step-{step}"), "lanes-test", now);
            args.tags.insert("shop.order_id".into(), format!("L-{}", out.len()));
            c.backend.create_execution(args).await.unwrap();
            c.backend.add_execution_to_flow(AddExecutionToFlowArgs { flow_id: flow.clone(), execution_id: id, now }).await.unwrap();
        }
        out.push(flow);
    }
    ff_board_engine::demo::promote_submitted(c).await.expect("promote");
    out
}

async fn listed(c: &Connected) -> usize {
    matching(c, "ns:lanes").await
}

/// Executions a query lists, over every page.
async fn matching(c: &Connected, text: &str) -> usize {
    c.reads.invalidate();
    let search = Query::parse(text, Scope::Executions).expect("query");
    let q = ExecQuery { search: Some(Search::new(search)), ..Default::default() };
    let (mut n, mut after) = (0, None::<String>);
    loop {
        let p = c.reads.executions(&q, after.as_deref(), 50).await.expect("list");
        n += p.rows.len();
        match p.next {
            Some(next) => after = Some(next),
            None => return n,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walk_finds_a_lane_outside_the_registry_and_the_lists_show_it() {
    let v = Valkey::start();
    let c = connect(&v.url()).await;
    create(&c, HIDDEN, 10).await;
    assert_eq!(listed(&c).await, 0, "0.15 lists by lane: before the board knows the lane, its executions are in no list");
    let found = c.side.lanes_found(&c.partitions).await.unwrap().expect("Valkey walks");
    assert_eq!((found.outside.len(), found.passes), (0, 0));
    // A step or tag query reads the board's own index, which says it is not built yet.
    let by_step = Query::parse("kind:lanes.step-1", Scope::Executions).unwrap();
    assert_eq!(c.side.index_note(&c.partitions, &by_step).await.unwrap().as_deref(), Some("step index 0 % built: results may be missing"));
    assert_eq!(matching(&c, "kind:lanes.step-1").await, 0);

    // One replica walks at a time.
    let step = |holder: &'static str| c.side.lane_walk_step(&c.partitions, holder);
    let first = step("replica-a").await.unwrap().expect("a takes the lease");
    assert_eq!(first.passes, 0);
    assert_eq!(step("replica-b").await.unwrap(), None, "b waits while a holds it");
    // A whole pass: every partition once (most are empty: one SSCAN each).
    let mut steps = 1;
    loop {
        let w = step("replica-a").await.unwrap().expect("a holds it");
        steps += 1;
        if w.passes == 1 {
            break;
        }
        assert!(steps < 10 * usize::from(c.partitions.num_flow_partitions), "the walk ends its pass");
    }
    assert_eq!(listed(&c).await, 30, "every execution of the found lane is listed");
    // The walk wrote the index: step and tag queries answer from it, exactly.
    assert_eq!(c.side.index_note(&c.partitions, &by_step).await.unwrap(), None, "built");
    assert_eq!(matching(&c, "kind:lanes.step-1").await, 10);
    assert_eq!(matching(&c, "tag:shop.order_id=L-3").await, 3, "one flow's members");
    assert_eq!(matching(&c, "tag:shop.order_id kind:lanes.step-2").await, 10);
    assert_eq!(matching(&c, "tag:shop.order_id=L-3 -kind:lanes.step-0").await, 2, "the rest of the query still applies");
    assert_eq!(matching(&c, "tag:shop.order_id=nobody").await, 0);
    let found = c.side.lanes_found(&c.partitions).await.unwrap().unwrap();
    assert_eq!(found.outside, [HIDDEN.to_owned()]);
    assert_eq!(found.passes, 1);

    // A flow page keeps the lanes of its members at once (no walk needed).
    let flows = create(&c, "second-lane", 1).await;
    let b = Board::start_quiet(&v.url(), &c).await;
    let (status, _) = b.get_status(&format!("/flows/{}", flows[0])).await;
    assert_eq!(status, 200);
    assert_eq!(listed(&c).await, 33);
    assert_eq!(matching(&c, "tag:shop.order_id=L-0 ns:lanes").await, 3, "not indexed yet (no walk step since): only the first flow's");
    // /lanes and /status say which lanes the registry lacks.
    let lanes_page = b.get("/lanes").await;
    assert_eq!(lanes_page.matches("data-testid=\"lane-outside\"").count(), 2, "{lanes_page}");
    assert!(lanes_page.contains("data-testid=\"lane-discovery\""));
    let status = b.get("/status").await;
    assert!(status.contains("hidden-lane, second-lane"), "{status}");
}
