//! What the board serves, over HTTP, against real backends (SQLite,
//! Postgres, Valkey): the demo workload builds flows, approvals and budgets
//! through the trait, then each page is checked against independent trait
//! reads. Also: malformed / unknown ids give 400 / 404, and a backend that
//! goes away is shown and recovered from.
use std::time::Duration;

use ff_board_engine::connect::Connected;
use ff_board_engine::{demo, BackendSpec, Engine};
use ff_board_tests::board::{demo_auth, enc, listen};
use ff_board_tests::matrix::Store;
use ff_board_tests::{connect, dev_mode, matrix, sqlite_path, Valkey};

/// Serve the board over `c` on a free port; returns its base URL.
async fn serve(spec: BackendSpec, c: Connected) -> String {
    let engine = Engine::from_connected(spec, c);
    tokio::spawn(engine.clone().supervise());
    serve_engine(engine).await
}

async fn serve_engine(engine: std::sync::Arc<Engine>) -> String {
    listen(ff_board::app(engine, ff_board::default_options("target/site"), demo_auth())).await
}

/// The board over a fresh, empty SQLite store; its base URL.
async fn sqlite_board() -> String {
    dev_mode();
    let url = format!("sqlite:{}", sqlite_path());
    let c = connect(&url).await;
    serve(BackendSpec::parse(Some(&url)).unwrap(), c).await
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// The message of an error panel, for assertion output.
fn error_text(html: &str) -> String {
    match html.find("data-testid=\"error\"") {
        Some(i) => html[i..].chars().take(400).collect(),
        None => String::new(),
    }
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

/// The checks every backend must pass.
async fn board_matches_trait(s: Store) {
    let url = s.url.as_str();
    dev_mode();
    let c = connect(url).await;
    let report = demo::seed(&c).await.unwrap_or_else(|e| panic!("seed on {url}: {e}"));
    let base = serve(BackendSpec::parse(Some(url)).unwrap(), c.clone()).await;

    let (status, health) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200);
    assert!(health.contains("\"backend_ok\":true"), "{health}");

    // Flows: every flow the demo made is on /flows; each flow page draws one
    // node per member and one path per edge, as describe_flow counts them.
    let (status, flows) = get(&format!("{base}/flows")).await;
    assert_eq!(status, 200);
    assert!(count(&flows, "data-testid=\"flow-row\"") >= report.flow_ids.len().min(50));
    let mut saw_small = false;
    let mut saw_fanout = false;
    for id in &report.flow_ids {
        let snap = c.backend.describe_flow(id).await.expect("describe_flow").expect("flow exists");
        let members = c.reads.flow_members(id, 10_000).await.expect("members").into_iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(members.len() as u32, snap.node_count, "members of {id}");
        let (status, page) = get(&format!("{base}/flows/{id}?dag=all")).await;
        assert_eq!(status, 200, "flow page {id}: {}", error_text(&page));
        assert_eq!(count(&page, "data-testid=\"dag-node\""), snap.node_count as usize, "nodes of {id}");
        assert_eq!(count(&page, "data-testid=\"dag-edge\""), snap.edge_count as usize, "edges of {id}");
        // Collapsed (the default): fan-outs are one node each, and every
        // member is drawn once, alone or inside its fan-out.
        let (_, collapsed) = get(&format!("{base}/flows/{id}")).await;
        let in_fanouts: usize = collapsed
            .split("data-testid=\"dag-fanout\" data-members=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(count(&collapsed, "data-testid=\"dag-node\"") + in_fanouts, snap.node_count as usize, "members of {id}, collapsed");
        saw_fanout |= in_fanouts > 0;
        saw_small |= snap.node_count == 5 && snap.edge_count == 4;
    }
    assert!(saw_small, "the demo builds a 5-member, 4-edge flow");
    assert!(saw_fanout, "the demo's 48-shard reindex is drawn with collapsed fan-outs");

    // Approvals: every suspended 2-approver gate is listed with its reason.
    let (status, approvals) = get(&format!("{base}/approvals")).await;
    assert_eq!(status, 200);
    assert!(!report.two_approver_gates.is_empty());
    for eid in &report.two_approver_gates {
        let part = ff_core::partition::PartitionKey::from(ff_core::partition::Partition {
            family: ff_core::partition::PartitionFamily::Flow,
            index: eid.partition(),
        });
        let page = c.backend.list_suspended(part, None, 500).await.expect("list_suspended");
        let entry = page.entries.iter().find(|e| &e.execution_id == eid).expect("gate is suspended");
        assert!(approvals.contains(&format!("data-execution-id=\"{}\"", eid)), "{eid} on /approvals");
        assert!(approvals.contains(&entry.reason), "reason {:?} on /approvals", entry.reason);
    }
    assert!(!approvals.contains("token_fingerprint") && !approvals.contains("hmac"));

    // Budgets: a hard-breached budget shows a full red bar.
    let (status, budgets) = get(&format!("{base}/budgets")).await;
    assert_eq!(status, 200);
    for bid in &report.hard_breached_budgets {
        let (status, page) = get(&format!("{base}/budgets/{bid}")).await;
        assert_eq!(status, 200);
        let st = c.backend.get_budget_status(bid).await.expect("budget status");
        assert!(st.breach_count > 0, "{bid} breached per the trait");
        assert!(page.contains("data-breach=\"hard\" data-fill=\"100\""), "full hard bar for {bid}");
        assert!(budgets.contains(&format!("data-budget-id=\"{bid}\"")));
    }

    // Execution detail of a member, with an encoded id.
    let member = c.reads.flow_members(&report.flow_ids[0], 10_000).await.unwrap().remove(0).id;
    let (status, page) = get(&format!("{base}/executions/{}", enc(member.as_str()))).await;
    assert_eq!(status, 200, "execution page");
    assert!(page.contains("data-testid=\"execution-facts\""));

    // Malformed → 400, unknown → 404, never 500.
    for (path, want) in [
        ("/flows/not-a-uuid".to_owned(), 400),
        ("/flows/00000000-0000-4000-8000-000000000000".to_owned(), 404),
        ("/executions/garbage".to_owned(), 400),
        (format!("/executions/{}", enc("{fp:0}:00000000-0000-4000-8000-000000000000")), 404),
        ("/budgets/nope".to_owned(), 400),
        ("/budgets/00000000-0000-4000-8000-000000000000".to_owned(), 404),
        ("/flows?cursor=%%%".to_owned(), 400),
        ("/flows?state=bogus".to_owned(), 400),
        ("/no/such/page".to_owned(), 404),
    ] {
        let (status, body) = get(&format!("{base}{path}")).await;
        assert_eq!(status, want, "{path}: {}", &body[..body.len().min(300)]);
        assert!(body.contains("data-testid=\"error\""), "{path} shows an error panel");
    }
    let (status, page) = get(&format!("{base}/status")).await;
    assert_eq!(status, 200);
    assert!(count(&page, "data-testid=\"support\"") > 10);
}

matrix!(board_matches_trait: sqlite, postgres, valkey);

/// A backend down at start is shown (banner, 503 pages, healthz) and the
/// board recovers by itself once it comes up; the same when it goes away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_down_is_shown_and_recovered() {
    let port = ff_board_tests::free_port();
    let spec = BackendSpec::Valkey { seeds: vec![("127.0.0.1".into(), port)], tls: false, cluster: false };
    let engine = Engine::new(spec, true);
    tokio::spawn(engine.clone().supervise());
    let base = serve_engine(engine).await;

    let (status, health) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200);
    assert!(health.contains("\"backend_ok\":false"), "{health}");
    let (status, page) = get(&format!("{base}/flows")).await;
    assert_eq!(status, 503);
    assert!(page.contains("data-testid=\"backend-banner\""));

    let valkey = Valkey::start_on(port);
    wait_for(&base, true).await;
    let (status, _) = get(&format!("{base}/flows")).await;
    assert_eq!(status, 200);

    drop(valkey);
    wait_for(&base, false).await;
    let (_, page) = get(&format!("{base}/approvals")).await;
    assert!(page.contains("data-testid=\"backend-banner\""));

    let _valkey = Valkey::start_on(port);
    wait_for(&base, true).await;
}

async fn wait_for(base: &str, ok: bool) {
    let want = format!("\"backend_ok\":{ok}");
    for _ in 0..120 {
        if get(&format!("{base}/healthz")).await.1.contains(&want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("backend_ok never became {ok}");
}

/// The list pages' query parameters are hostile input: a cursor the board
/// did not write, an oversized cursor, lane or namespace, or an unknown
/// state each get a 400 page with a message, never a 500 or a store read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_parameters_are_checked() {
    let base = sqlite_board().await;
    let long = "a".repeat(129);
    let foreign = "eC55Lno"; // base64url of "x.y.z": decodes, but no backend wrote it
    for path in [
        "/executions?cursor=!!!".to_owned(),
        format!("/executions?cursor={}", "A".repeat(600)),
        format!("/executions?cursor={foreign}"),
        format!("/executions?lane={long}"),
        "/executions?state=running".to_owned(),
        format!("/flows?namespace={long}"),
        "/flows?state=open".to_owned(),
        format!("/flows?cursor={foreign}"),
        format!("/approvals?cursor={foreign}"),
        // The jump box: over 64 characters, or no id at all.
        format!("/jump?id={}", "a".repeat(65)),
        "/jump?id=hello".to_owned(),
    ] {
        let (status, page) = get(&format!("{base}{path}")).await;
        assert_eq!(status, 400, "{path}: {}", error_text(&page));
        assert!(page.contains("data-testid=\"error\""), "{path}: the error is shown");
    }
    // The same lists with good parameters answer.
    for path in ["/executions?lane=etl", "/flows?state=active", "/approvals"] {
        assert_eq!(get(&format!("{base}{path}")).await.0, 200, "{path}");
    }
}

/// `/metrics` speaks Prometheus' text format and counts what the board
/// did: a page request under its route pattern (never the raw path), the
/// backend reads it made, and a path that matched nothing as `other`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_backend_reads() {
    let base = sqlite_board().await;
    assert_eq!(get(&format!("{base}/executions?lane=etl")).await.0, 200);
    let _ = get(&format!("{base}/no/such/{}", uuid::Uuid::new_v4())).await;
    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(str::to_owned);
    let page = line("ffboard_http_request_duration_seconds_count{route=\"/executions\",status=\"200\"}");
    assert!(page.is_some_and(|l| !l.ends_with(" 0")), "page request counted:\n{text}");
    assert!(line("ffboard_http_request_duration_seconds_count{route=\"other\",status=\"404\"}").is_some(), "{text}");
    assert!(!text.contains("/no/such/"), "raw paths never become labels");
    assert!(line("ffboard_backend_call_duration_seconds_count{op=\"list executions\",result=\"ok\"}").is_some(), "{text}");
    assert!(text.contains("# TYPE ffboard_ws_clients gauge"), "{text}");
}

/// Every answer forbids framing and MIME sniffing and keeps the referrer
/// on the board: pages, server functions, assets and errors alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_on_every_answer() {
    let base = sqlite_board().await;
    for path in ["/flows", "/healthz", "/metrics", "/no/such/page", "/executions/not-an-id"] {
        let r = reqwest::get(format!("{base}{path}")).await.expect("GET");
        let h = r.headers();
        assert_eq!(h.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{path}");
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{path}");
        assert_eq!(h.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("same-origin"), "{path}");
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}
