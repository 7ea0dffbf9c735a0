//! The query language answered by each backend (`docs/SEARCH.md`): twelve
//! executions seeded through the trait with known kinds, lanes, tags and
//! fates, and for each query the exact set of ids it must return, on
//! SQLite, Postgres and Valkey (which reads a row's flow kind and attempt
//! workers when a query names them). A query a backend does not answer is
//! refused with `Unanswered`, never answered with fewer rows.
use std::collections::BTreeSet;

use ff_board_domain::query::{Query, Scope};
use ff_board_engine::backend::search::Search;
use ff_board_engine::backend::{ExecQuery, FlowQuery, ReadError};
use ff_board_engine::connect::Connected;
use ff_board_engine::BackendKind;
use ff_board_tests::{connect, fresh_postgres, sqlite_path, Valkey};
use ff_core::backend::{CapabilitySet, ClaimPolicy};
use ff_core::contracts::{AddExecutionToFlowArgs, CreateExecutionArgs, CreateFlowArgs};
use ff_core::types::{ExecutionId, FlowId, LaneId, Namespace, TimestampMs, WorkerId, WorkerInstanceId};

const KINDS: [&str; 4] = ["render-pdfs", "deploy-api", "deploy-web", "charge"];
const N: usize = 12;
/// Executions 0..DONE run in lane `search-done` and complete.
const DONE: usize = 4;

struct Seeded {
    ids: Vec<ExecutionId>,
    flow: FlowId,
}

fn lane(i: usize) -> &'static str {
    if i < DONE {
        "search-done"
    } else if i % 2 == 0 {
        "search-a"
    } else {
        "search-b"
    }
}

async fn seed(c: &Connected) -> Seeded {
    ff_board_engine::backend::declare_lanes(c, &["search-done", "search-a", "search-b"]).await.expect("lanes");
    let flow = FlowId::new();
    let ns = Namespace::new("search");
    let now = TimestampMs::now();
    c.backend.create_flow(CreateFlowArgs { flow_id: flow.clone(), flow_kind: "search.flow".into(), namespace: ns.clone(), now }).await.expect("flow");
    let mut ids = Vec::new();
    for i in 0..N {
        let id = match c.kind {
            BackendKind::Sqlite => ExecutionId::parse(&format!("{{fp:0}}:{}", uuid::Uuid::new_v4())).expect("id"),
            _ => ExecutionId::for_flow(&flow, &c.partitions),
        };
        let mut tags = std::collections::HashMap::new();
        tags.insert("shop.order_id".to_owned(), format!("A-{i}"));
        if i % 3 == 0 {
            tags.insert("shop.region".to_owned(), "eu".to_owned());
        }
        if i == 5 {
            tags.insert("shop.customer".to_owned(), "Ada Lovelace".to_owned());
        }
        c.backend
            .create_execution(CreateExecutionArgs {
                execution_id: id.clone(),
                namespace: ns.clone(),
                lane_id: LaneId::new(lane(i)),
                execution_kind: KINDS[i % 4].into(),
                input_payload: b"{}".to_vec(),
                payload_encoding: Some("json".into()),
                priority: 0,
                creator_identity: "search-test".into(),
                idempotency_key: None,
                tags,
                policy: None,
                delay_until: None,
                execution_deadline_at: None,
                partition_id: id.partition(),
                now,
            })
            .await
            .expect("create");
        c.backend.add_execution_to_flow(AddExecutionToFlowArgs { flow_id: flow.clone(), execution_id: id.clone(), now }).await.expect("add");
        ids.push(id);
    }
    ff_board_engine::demo::promote_submitted(c).await.expect("promote");
    let policy = ClaimPolicy::new(WorkerId::new("search-worker"), WorkerInstanceId::new("search-w1"), 60_000, None);
    for _ in 0..DONE {
        let handle = c.backend.claim(&LaneId::new("search-done"), &CapabilitySet::default(), policy.clone()).await.expect("claim").expect("a claimable execution");
        c.backend.complete(&handle, Some(b"{}".to_vec())).await.expect("complete");
    }
    c.reads.invalidate();
    Seeded { ids, flow }
}

async fn ask(c: &Connected, text: &str, page: usize) -> Result<Vec<ExecutionId>, ReadError> {
    let query = Query::parse(&format!("ns:search {text}"), Scope::Executions).expect("query");
    let q = ExecQuery { search: Some(Search::new(query)), ..Default::default() };
    let (mut out, mut after) = (Vec::new(), None::<String>);
    loop {
        let p = c.reads.executions(&q, after.as_deref(), page).await?;
        out.extend(p.rows.into_iter().map(|l| l.id));
        match p.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

async fn expect(c: &Connected, s: &Seeded, text: &str, want: impl IntoIterator<Item = usize>) {
    let got = ask(c, text, 200).await.unwrap_or_else(|e| panic!("{text}: {e}"));
    let got_set: BTreeSet<String> = got.iter().map(ToString::to_string).collect();
    assert_eq!(got.len(), got_set.len(), "{text}: a row twice");
    let want: BTreeSet<String> = want.into_iter().map(|i| s.ids[i].to_string()).collect();
    let name = |set: &BTreeSet<String>| set.iter().map(|id| s.ids.iter().position(|x| &x.to_string() == id).map_or(id.clone(), |i| i.to_string())).collect::<Vec<_>>();
    assert_eq!(name(&got_set), name(&want), "{text} on {:?}", c.kind);
}

async fn every_term(c: Connected) {
    let s = seed(&c).await;
    // Valkey answers step and tag terms from the board's own index.
    ff_board_tests::walk_whole(&c).await;
    flow_terms(&c, &s).await;
    let all = 0..N;
    let waiting = DONE..N;
    expect(&c, &s, "", all.clone()).await;
    expect(&c, &s, "tag:shop.order_id=A-5", [5]).await;
    expect(&c, &s, "tag:shop.region", [0, 3, 6, 9]).await;
    expect(&c, &s, "-tag:shop.region", [1, 2, 4, 5, 7, 8, 10, 11]).await;
    expect(&c, &s, "tag:shop.customer=\"Ada Lovelace\"", [5]).await;
    expect(&c, &s, "tag:shop.region=us", []).await;
    expect(&c, &s, "kind:deploy*", [1, 2, 5, 6, 9, 10]).await;
    expect(&c, &s, "kind:charge,render-pdfs", [0, 3, 4, 7, 8, 11]).await;
    expect(&c, &s, "lane:search-a", [4, 6, 8, 10]).await;
    expect(&c, &s, "state:completed", 0..DONE).await;
    expect(&c, &s, "-state:completed", waiting.clone()).await;
    expect(&c, &s, "state:waiting,completed", all.clone()).await;
    expect(&c, &s, "attempts:>0", 0..DONE).await;
    expect(&c, &s, "attempts:0", waiting.clone()).await;
    expect(&c, &s, "finished:<1h", 0..DONE).await;
    expect(&c, &s, "-finished:<1h", waiting.clone()).await;
    expect(&c, &s, "created:<1h", all.clone()).await;
    expect(&c, &s, "created:>1h", []).await;
    expect(&c, &s, "blocked:budget", []).await;
    expect(&c, &s, &format!("flow:{}", &s.flow.to_string()[..8]), all.clone()).await;
    let uuid5 = s.ids[5].to_string().rsplit_once("}:").map(|(_, u)| u[..8].to_owned()).unwrap();
    expect(&c, &s, &uuid5, [5]).await;
    expect(&c, &s, "kind:deploy* -lane:search-done tag:shop.region", [6, 9]).await;
    // Across pages of 5: no row twice, none lost.
    let paged = ask(&c, "-kind:charge", 5).await.expect("paged");
    let set: BTreeSet<String> = paged.iter().map(ToString::to_string).collect();
    assert_eq!((paged.len(), set.len()), (9, 9), "paged on {:?}", c.kind);
    // Fields a Valkey row does not hold are read for the rows when asked.
    expect(&c, &s, "worker:search-w1", 0..DONE).await;
    expect(&c, &s, "-worker:search-w1", waiting.clone()).await;
    expect(&c, &s, "worker:nobody", []).await;
    expect(&c, &s, "flowkind:search.flow", all.clone()).await;
    expect(&c, &s, "flowkind:search* state:completed", 0..DONE).await;
    expect(&c, &s, "-flowkind:search.flow", []).await;
    expect(&c, &s, "kind:charge flowkind:search.flow worker:search-w1", [3]).await;
}

/// The flows a flow query returns (every page).
async fn flows(c: &Connected, text: &str) -> Result<BTreeSet<String>, ReadError> {
    let query = Query::parse(text, Scope::Flows).expect("query");
    let q = FlowQuery { search: Some(Search::new(query)), ..Default::default() };
    let (mut out, mut after) = (BTreeSet::new(), None::<String>);
    loop {
        let p = c.reads.flows(&q, after.as_deref(), 50).await?;
        out.extend(p.rows.into_iter().map(|l| l.id.to_string()));
        match p.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

async fn flow_terms(c: &Connected, s: &Seeded) {
    let ours = BTreeSet::from([s.flow.to_string()]);
    let none = BTreeSet::new();
    for (text, want) in [
        ("flowkind:search.flow", &ours),
        ("flowkind:search*", &ours),
        ("flowkind:search.flow state:open,running,blocked", &ours),
        ("flowkind:search.flow ns:search created:<1h", &ours),
        ("flowkind:search.flow state:completed", &none),
        ("flowkind:search.flow -ns:search", &none),
        ("flowkind:nothing.here", &none),
    ] {
        assert_eq!(&flows(c, text).await.unwrap_or_else(|e| panic!("{text}: {e}")), want, "{text} on {:?}", c.kind);
    }
    let prefix = format!("flowkind:search.flow {}", &s.flow.to_string()[..8]);
    assert_eq!(flows(c, &prefix).await.expect("id prefix"), ours);
    match c.kind {
        BackendKind::Valkey => assert!(matches!(flows(c, "finished:<1h").await.map_err(|e| e.root().to_string()), Err(m) if m.contains("finished"))),
        _ => assert_eq!(flows(c, "flowkind:search.flow finished:<1h").await.expect("finished"), none),
    }
}

#[tokio::test]
async fn every_term_on_sqlite() {
    every_term(connect(&format!("sqlite:{}", sqlite_path())).await).await;
}

#[tokio::test]
async fn every_term_on_postgres() {
    every_term(connect(&fresh_postgres().await).await).await;
}

#[tokio::test]
async fn every_term_on_valkey() {
    let v = Valkey::start();
    every_term(connect(&v.url()).await).await;
}

/// The board's HTTP side of search: the list's server function, the page,
/// the exports (exact rows, formats, refusals) and the bulk preview by query.
#[tokio::test]
async fn queries_answer_over_http_exports_and_bulk_preview() {
    use ff_board_tests::board::{form, Board};
    let url = format!("sqlite:{}", sqlite_path());
    let c = connect(&url).await;
    let s = seed(&c).await;
    let b = Board::start(&url, &c).await;
    let (vera, _) = b.sign_in("vera").await;
    let get = |path: String, cookie: Option<String>| {
        let req = b.http.get(format!("{}{path}", b.base));
        async move {
            let r = match cookie {
                Some(c) => req.header("cookie", c),
                None => req,
            }
            .send()
            .await
            .unwrap();
            (r.status().as_u16(), r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()), r.text().await.unwrap())
        }
    };
    let enc = |q: &str| ff_board_tests::board::enc(q);
    // CSV: the header and exactly the one row of the order.
    let (status, kind, body) = get(format!("/executions/export.csv?q={}", enc("ns:search tag:shop.order_id=A-5")), Some(vera.clone())).await;
    assert_eq!((status, kind.as_deref()), (200, Some("text/csv; charset=utf-8")), "{body}");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[0].starts_with("id,flow_id,state,kind"));
    assert!(lines[1].starts_with(&s.ids[5].to_string()), "{body}");
    assert!(lines[1].contains("shop.customer=Ada Lovelace;shop.order_id=A-5"), "{body}");
    // NDJSON: one object a row, the same set a list gives.
    let (status, _, body) = get(format!("/executions/export.ndjson?q={}", enc("ns:search kind:deploy*")), Some(vera.clone())).await;
    assert_eq!(status, 200);
    let got: BTreeSet<String> = body.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned()).collect();
    let want: BTreeSet<String> = [1, 2, 5, 6, 9, 10].iter().map(|&i| s.ids[i].to_string()).collect();
    assert_eq!(got, want);
    // Compressed as a browser asks for it (the compression layer polls the
    // body once more after its end): the whole file arrives.
    let r = b.http.get(format!("{}/executions/export.csv?q={}", b.base, enc("ns:search"))).header("cookie", &vera).header("accept-encoding", "gzip, br").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("content-encoding").is_some(), "compressed");
    assert!(!r.bytes().await.expect("the whole compressed body").is_empty());
    // The jump box takes a query too: the executions list of it.
    let (status, body) = b.post("jump", Some(&vera), &form(&[("id", "kind:deploy* ns:search")])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<String>(&body).unwrap(), format!("/executions?q={}", ff_board_app::components::text::encode("kind:deploy* ns:search")));
    let (status, body) = b.post("jump", Some(&vera), &form(&[("id", "state:runing")])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("one of waiting"), "{body}");
    // Flows export the same way: the one flow of the kind, its columns.
    let (status, kind, body) = get(format!("/flows/export.csv?q={}", enc("flowkind:search.flow")), Some(vera.clone())).await;
    assert_eq!((status, kind.as_deref()), (200, Some("text/csv; charset=utf-8")), "{body}");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "id,kind,namespace,state,status,members,edges,created_at_ms,changed_at_ms");
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[1].starts_with(&format!("{},search.flow,search,", s.flow)), "{body}");
    assert!(lines[1].contains(&format!(",{N},")), "its {N} members: {body}");
    let (status, _, body) = get(format!("/flows/export.ndjson?q={}", enc("flowkind:search.flow state:completed")), Some(vera.clone())).await;
    assert_eq!((status, body.as_str()), (200, ""), "no flow matches: an empty file");
    let (status, _, body) = get(format!("/flows/export.ndjson?q={}", enc("kind:charge")), Some(vera.clone())).await;
    assert_eq!(status, 400, "kind: is not a field of flows: {body}");
    // A query that cannot be read: 400 with where and what, everywhere.
    let (status, _, body) = get(format!("/executions/export.csv?q={}", enc("state:runing")), Some(vera.clone())).await;
    assert_eq!(status, 400);
    assert!(body.contains("character 7") && body.contains("one of waiting"), "{body}");
    let (status, body) = b.post("list_executions", Some(&vera), &form(&[("q", "tag:Shop=1")])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("tag key"), "{body}");
    let (status, _) = b.get_status(&format!("/executions?q={}", enc("created:yesterday"))).await;
    assert_eq!(status, 400);
    let long = "a".repeat(600);
    let (status, body) = b.post("list_executions", Some(&vera), &form(&[("q", long.as_str())])).await;
    assert_eq!(status, 400);
    assert!(body.contains("512 characters"), "{body}");
    // The bulk preview lists exactly the query's executions in the state.
    let (alice, _) = b.sign_in("alice").await;
    let (status, body) = b.post("bulk_preview", Some(&alice), &form(&[("state", "waiting"), ("q", "ns:search lane:search-a")])).await;
    assert_eq!(status, 200, "{body}");
    let preview: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: BTreeSet<String> = preview["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    let want: BTreeSet<String> = [4, 6, 8, 10].iter().map(|&i| s.ids[i].to_string()).collect();
    assert_eq!(ids, want);
}
