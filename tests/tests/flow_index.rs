//! The board's ordered flow index on Valkey (`backend::valkey::flows`):
//! flows created through the trait are listed in id order, each once,
//! across pages and partitions; a flow created after a page was read is
//! on the next one (the engine set's count changed); a flow the engine's
//! projector pruned from its set stays listed; a flow whose core is gone
//! is dropped from the list and from the board's index.
use std::collections::BTreeSet;

use ff_board_engine::backend::FlowQuery;
use ff_board_engine::connect::Connected;
use ff_board_tests::{connect, resp, Valkey};
use ff_core::contracts::CreateFlowArgs;
use ff_core::partition::flow_partition;
use ff_core::types::{FlowId, Namespace, TimestampMs};

async fn create(c: &Connected, n: usize) -> Vec<FlowId> {
    let mut out = Vec::new();
    for _ in 0..n {
        let id = FlowId::new();
        let args = CreateFlowArgs { flow_id: id.clone(), flow_kind: "index.flow".into(), namespace: Namespace::new("index"), now: TimestampMs::now() };
        c.backend.create_flow(args).await.expect("create flow");
        out.push(id);
    }
    out
}

/// Every flow the board lists, page by page (`limit` a page), in order,
/// read past the read cache's one-second window.
async fn listed(c: &Connected, limit: usize) -> Vec<String> {
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (mut out, mut after) = (Vec::new(), None::<String>);
    loop {
        let p = c.reads.flows(&FlowQuery::default(), after.as_deref(), limit).await.expect("flows");
        assert!(p.rows.len() <= limit);
        out.extend(p.rows.iter().map(|l| l.id.to_string()));
        match p.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

fn ids(flows: &[FlowId]) -> BTreeSet<String> {
    flows.iter().map(|f| f.to_string()).collect()
}

#[tokio::test]
async fn valkey_lists_flows_from_its_ordered_index() {
    let v = Valkey::start();
    let c = connect(&format!("valkey://127.0.0.1:{}", v.port)).await;
    let mut made = create(&c, 40).await;

    for limit in [1, 7, 50] {
        let got = listed(&c, limit).await;
        let mut sorted = got.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(got, sorted, "page size {limit}: in id order, each once");
        assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), ids(&made), "page size {limit}: every flow");
    }

    // New flows after a page was read: on the next read.
    made.extend(create(&c, 5).await);
    assert_eq!(listed(&c, 50).await.into_iter().collect::<BTreeSet<_>>(), ids(&made), "flows created since the last page");

    // The engine's projector prunes a finished flow from its set: the
    // board still lists it (state and search read its core).
    let pruned = &made[3];
    let tag = flow_partition(pruned, &c.partitions).hash_tag();
    assert_eq!(resp(v.port, &["SREM", &format!("ff:idx:{tag}:flow_index"), &pruned.to_string()]), ":1");
    assert!(listed(&c, 50).await.contains(&pruned.to_string()), "a flow pruned from the engine's set stays listed");

    // Retention deleted a flow's core: dropped, and its index entry too.
    let gone = made.remove(10);
    let tag = flow_partition(&gone, &c.partitions).hash_tag();
    assert_eq!(resp(v.port, &["DEL", &format!("ff:flow:{tag}:{gone}:core")]), ":1");
    assert_eq!(listed(&c, 7).await.into_iter().collect::<BTreeSet<_>>(), ids(&made), "a flow whose core is gone is not listed");
    assert_eq!(resp(v.port, &["ZSCORE", &format!("ff_board:idx:{tag}:flows"), &gone.to_string()]), "", "its entry is removed");

    // A restarted server forgets its scripts: the page sends the script again.
    assert_eq!(resp(v.port, &["SCRIPT", "FLUSH"]), "+OK");
    assert_eq!(listed(&c, 50).await.len(), made.len(), "read after SCRIPT FLUSH");
}
