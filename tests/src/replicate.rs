//! Postgres stores of a million executions, for the benchmarks: the
//! trait seeds Postgres at about 1,000 flows in 90 s, so issue 20's 1M
//! (100,000 flows × 10) would take hours. Instead the flows the trait
//! wrote ([`Templates`]) are copied in bulk SQL, each copy with fresh ids
//! and times:
//! - a new flow id per copied flow, stored on the partition FlowFabric
//!   computes for it (`ff_core::partition::flow_partition`), its members'
//!   new execution ids on that partition (as `ExecutionId::for_flow`);
//! - created times moved back by a few seconds a copy, so pages ordered by
//!   time interleave copies and templates;
//! - the order tag renumbered (`shop.order_id=A-<n + copy × templates>`), so
//!   `tag:shop.order_id=A-7` still names one flow's members;
//! - attempts, suspensions (a fresh suspension id) and their pending
//!   waitpoints (a fresh waitpoint id, rewritten in the suspension's
//!   condition and member map), edges and flow summaries come along.
//!
//! Outboxes (completions, lease, signal and operator events), stream frames
//! and budget rows stay with the templates: no page lists them by store size.
//! [`check_sample`] reads copies back through the trait.
use std::time::Instant;

use ff_core::partition::{flow_partition, PartitionConfig};
use ff_core::types::FlowId;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, Row};

/// The flows the trait wrote, that copies are made of.
pub struct Templates {
    /// `(partition_key, flow_id)` of each.
    flows: Vec<(i16, String)>,
    /// Copies made so far.
    copies: usize,
}

/// How long one round of copies took.
pub struct Replicated {
    pub flows: usize,
    pub executions: u64,
    pub secs: f64,
}

/// Each table copied: its name, how its rows find their copy (`me`, the
/// execution map, or `mf`, the flow map) and the columns the copy changes.
const TABLES: [(&str, &str, &[(&str, &str)]); 8] = [
    (
        "ff_flow_core",
        "JOIN ff_board_bench_flow mf ON t.partition_key = mf.old_part AND t.flow_id = mf.old_flow",
        &[("partition_key", "mf.new_part"), ("flow_id", "mf.new_flow"), ("created_at_ms", "t.created_at_ms - mf.shift_ms")],
    ),
    (
        "ff_flow_summary",
        "JOIN ff_board_bench_flow mf ON t.partition_key = mf.old_part AND t.flow_id = mf.old_flow",
        &[("partition_key", "mf.new_part"), ("flow_id", "mf.new_flow")],
    ),
    (
        "ff_exec_core",
        "JOIN ff_board_bench_exec me ON t.partition_key = me.old_part AND t.execution_id = me.old_exec",
        &[
            ("partition_key", "me.new_part"),
            ("execution_id", "me.new_exec"),
            ("flow_id", "me.new_flow"),
            ("created_at_ms", "t.created_at_ms - me.shift_ms"),
            (
                "raw_fields",
                "CASE WHEN t.raw_fields->'tags' ? 'shop.order_id' THEN jsonb_set(t.raw_fields, '{tags,shop.order_id}', \
                 to_jsonb('A-' || (substr(t.raw_fields->'tags'->>'shop.order_id', 3)::bigint + me.order_shift)::text)) \
                 ELSE t.raw_fields END",
            ),
        ],
    ),
    (
        "ff_attempt",
        "JOIN ff_board_bench_exec me ON t.partition_key = me.old_part AND t.execution_id = me.old_exec",
        &[("partition_key", "me.new_part"), ("execution_id", "me.new_exec")],
    ),
    (
        "ff_waitpoint_pending",
        "JOIN ff_board_bench_exec me ON t.partition_key = me.old_part AND t.execution_id = me.old_exec",
        &[
            ("partition_key", "me.new_part"),
            ("execution_id", "me.new_exec"),
            ("waitpoint_id", "md5(t.waitpoint_id::text || me.new_exec::text)::uuid"),
        ],
    ),
    (
        "ff_suspension_current",
        "JOIN ff_board_bench_exec me ON t.partition_key = me.old_part AND t.execution_id = me.old_exec \
         LEFT JOIN LATERAL (SELECT w.waitpoint_id::text AS old_wp, md5(w.waitpoint_id::text || me.new_exec::text)::uuid::text AS new_wp \
           FROM ff_waitpoint_pending w WHERE w.partition_key = t.partition_key AND w.execution_id = t.execution_id LIMIT 1) wp ON true",
        &[
            ("partition_key", "me.new_part"),
            ("execution_id", "me.new_exec"),
            ("suspension_id", "md5(t.suspension_id::text || me.new_exec::text)::uuid"),
            ("condition", "COALESCE(replace(t.condition::text, wp.old_wp, wp.new_wp)::jsonb, t.condition)"),
            ("member_map", "COALESCE(replace(t.member_map::text, wp.old_wp, wp.new_wp)::jsonb, t.member_map)"),
        ],
    ),
    (
        "ff_edge",
        "JOIN ff_board_bench_flow mf ON t.partition_key = mf.old_part AND t.flow_id = mf.old_flow \
         JOIN ff_board_bench_exec up ON up.old_part = t.partition_key AND up.old_exec = t.upstream_eid AND up.new_flow = mf.new_flow \
         JOIN ff_board_bench_exec dn ON dn.old_part = t.partition_key AND dn.old_exec = t.downstream_eid AND dn.new_flow = mf.new_flow",
        &[
            ("partition_key", "mf.new_part"),
            ("flow_id", "mf.new_flow"),
            ("edge_id", "md5(t.edge_id::text || mf.new_flow::text)::uuid"),
            ("upstream_eid", "up.new_exec"),
            ("downstream_eid", "dn.new_exec"),
        ],
    ),
    (
        "ff_edge_group",
        "JOIN ff_board_bench_flow mf ON t.partition_key = mf.old_part AND t.flow_id = mf.old_flow \
         JOIN ff_board_bench_exec dn ON dn.old_part = t.partition_key AND dn.old_exec = t.downstream_eid AND dn.new_flow = mf.new_flow",
        &[("partition_key", "mf.new_part"), ("flow_id", "mf.new_flow"), ("downstream_eid", "dn.new_exec")],
    ),
];

/// Created times of copy `c` are `c × SHIFT_MS` earlier than its template's.
const SHIFT_MS: i64 = 7_000;

impl Templates {
    /// Every flow now in the store at `url` (read once, before any copy).
    pub async fn read(url: &str) -> Templates {
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await.expect("connect");
        let flows = sqlx::query("SELECT partition_key, flow_id::text FROM ff_flow_core ORDER BY flow_id")
            .fetch_all(&pool)
            .await
            .expect("templates")
            .iter()
            .map(|r| (r.get::<i16, _>(0), r.get::<String, _>(1)))
            .collect();
        pool.close().await;
        Templates { flows, copies: 0 }
    }

    /// Copy the templates until the store holds `flows` flows (templates
    /// included): `flows / templates - 1` copies in all.
    pub async fn grow_to(&mut self, url: &str, flows: usize) -> Replicated {
        let started = Instant::now();
        let want = (flows / self.flows.len().max(1)).saturating_sub(1);
        let mut conn = PgConnection::connect(url).await.expect("connect");
        let mut executions = 0;
        let made = want.saturating_sub(self.copies);
        for copy in self.copies + 1..=want {
            executions += self.copy_once(&mut conn, copy).await;
        }
        self.copies = self.copies.max(want);
        // As autovacuum would after such a load: statistics, and the GIN
        // index's pending list merged (scanning it is linear: a tag lookup
        // took 166 ms before, 8 ms after).
        sqlx::query("VACUUM ANALYZE").execute(&mut conn).await.expect("vacuum analyze");
        Replicated { flows: made * self.flows.len(), executions, secs: started.elapsed().as_secs_f64() }
    }

    /// One copy of every template; the executions it wrote.
    async fn copy_once(&self, conn: &mut PgConnection, copy: usize) -> u64 {
        let config = PartitionConfig::default();
        let (mut old_part, mut old_flow, mut new_part, mut new_flow) = (vec![], vec![], vec![], vec![]);
        for (part, flow) in &self.flows {
            let id = FlowId::new();
            old_part.push(*part);
            old_flow.push(flow.clone());
            new_part.push(flow_partition(&id, &config).index as i16);
            new_flow.push(id.to_string());
        }
        let mut tx = conn.begin().await.expect("begin");
        for ddl in [
            "CREATE TEMP TABLE IF NOT EXISTS ff_board_bench_flow (old_part smallint, old_flow uuid, new_part smallint, new_flow uuid, \
             shift_ms bigint, order_shift bigint) ON COMMIT DELETE ROWS",
            "CREATE TEMP TABLE IF NOT EXISTS ff_board_bench_exec (old_part smallint, old_exec uuid, new_part smallint, new_exec uuid, \
             new_flow uuid, shift_ms bigint, order_shift bigint) ON COMMIT DELETE ROWS",
        ] {
            sqlx::query(ddl).execute(&mut *tx).await.expect("map tables");
        }
        sqlx::query(
            "INSERT INTO ff_board_bench_flow SELECT o.p, o.f::uuid, n.p, n.f::uuid, $5, $6 \
             FROM unnest($1::smallint[], $2::text[]) WITH ORDINALITY o(p, f, i) \
             JOIN unnest($3::smallint[], $4::text[]) WITH ORDINALITY n(p, f, i) USING (i)",
        )
        .bind(&old_part)
        .bind(&old_flow)
        .bind(&new_part)
        .bind(&new_flow)
        .bind(copy as i64 * SHIFT_MS)
        .bind((copy * self.flows.len()) as i64)
        .execute(&mut *tx)
        .await
        .expect("flow map");
        let executions = sqlx::query(
            "INSERT INTO ff_board_bench_exec SELECT e.partition_key, e.execution_id, mf.new_part, gen_random_uuid(), mf.new_flow, \
             mf.shift_ms, mf.order_shift FROM ff_exec_core e \
             JOIN ff_board_bench_flow mf ON e.partition_key = mf.old_part AND e.flow_id = mf.old_flow",
        )
        .execute(&mut *tx)
        .await
        .expect("execution map")
        .rows_affected();
        for (table, join, changed) in TABLES {
            let columns = columns(&mut tx, table).await;
            let select: Vec<String> = columns
                .iter()
                .map(|c| changed.iter().find(|(name, _)| name == c).map_or(format!("t.{c}"), |(_, e)| (*e).to_owned()))
                .collect();
            let sql = format!("INSERT INTO {table} ({}) SELECT {} FROM {table} t {join}", columns.join(", "), select.join(", "));
            sqlx::query(&sql).execute(&mut *tx).await.unwrap_or_else(|e| panic!("copy {table}: {e}"));
        }
        tx.commit().await.expect("commit");
        executions
    }
}

/// `table`'s columns, in order.
async fn columns(conn: &mut PgConnection, table: &str) -> Vec<String> {
    sqlx::query("SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position")
        .bind(table)
        .fetch_all(conn)
        .await
        .expect("columns")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Read `n` copied flows back through the trait (`describe_flow`, each
/// member's `describe_execution`, their order tag renumbered) and one
/// copied suspended execution (`describe_execution` says suspended):
/// panics on the first that does not read back. Returns the executions read.
pub async fn check_sample(c: &ff_board_engine::connect::Connected, url: &str, n: i64) -> usize {
    use ff_core::state::PublicState;
    use ff_core::types::ExecutionId;
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await.expect("connect");
    let copied = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(sql).bind(n).fetch_all(&pool).await.expect("sample").iter().map(|r| (r.get::<i16, _>(0), r.get::<String, _>(1))).collect::<Vec<_>>()
        }
    };
    // Copies are the flows whose created time is not a template's: the
    // oldest ones (each copy is moved back by SHIFT_MS).
    let flows = copied("SELECT partition_key, flow_id::text FROM ff_flow_core ORDER BY created_at_ms LIMIT $1").await;
    let mut read = 0;
    for (part, flow) in flows {
        let id = FlowId::parse(&flow).expect("flow id");
        let snap = c.backend.describe_flow(&id).await.expect("describe_flow").expect("copied flow reads back");
        assert_eq!(flow_partition(&id, &PartitionConfig::default()).index as i16, part, "copied flow on its partition");
        let members = sqlx::query("SELECT execution_id::text FROM ff_exec_core WHERE partition_key = $1 AND flow_id = $2::uuid")
            .bind(part)
            .bind(&flow)
            .fetch_all(&pool)
            .await
            .expect("members");
        assert!(!members.is_empty(), "copied flow {flow} has members ({} in its snapshot)", snap.node_count);
        for m in members {
            let eid = ExecutionId::parse(&format!("{{fp:{part}}}:{}", m.get::<String, _>(0))).expect("execution id");
            let e = c.backend.describe_execution(&eid).await.expect("describe_execution").expect("copied execution reads back");
            assert_eq!(e.flow_id.as_ref(), Some(&id), "copied member names its copied flow");
            read += 1;
        }
    }
    let suspended = copied(
        "SELECT e.partition_key, e.execution_id::text FROM ff_exec_core e JOIN ff_suspension_current s USING (partition_key, execution_id) \
         WHERE e.public_state = 'suspended' ORDER BY e.created_at_ms LIMIT $1",
    )
    .await;
    for (part, eid) in suspended.into_iter().take(1) {
        let eid = ExecutionId::parse(&format!("{{fp:{part}}}:{eid}")).expect("execution id");
        let e = c.backend.describe_execution(&eid).await.expect("describe_execution").expect("suspended copy reads back");
        assert_eq!(e.public_state, PublicState::Suspended, "copied suspension reads back suspended");
        read += 1;
    }
    pool.close().await;
    read
}
