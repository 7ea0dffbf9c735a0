//! What a Valkey row does not hold but a query may ask about: the kind of
//! the execution's flow (`flowkind:`, on the flow's core) and the worker
//! instances of its attempts (`worker:`, on each attempt's hash). Read only
//! when the query names those fields, for a whole batch of rows in one more
//! pipeline (one `HGET` per distinct flow, one per attempt, at most
//! [`ATTEMPTS_READ`] newest attempts a row), so a page still costs a fixed
//! number of round trips and commands bounded by the rows it looks at.
use std::collections::HashMap;

use ff_board_domain::query::{Field, Query};
use ff_core::keys::{ExecKeyContext, FlowKeyContext};
use ff_core::partition::{flow_partition, PartitionConfig};
use ff_core::types::{AttemptIndex, FlowId};

use super::reply::partition;
use crate::backend::{ExecLine, ReadError};

/// Attempts of one row whose worker is read (the newest).
pub const ATTEMPTS_READ: u32 = 16;

/// Which extra facts a query needs of each row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub flow_kind: bool,
    pub workers: bool,
}

impl Needs {
    /// The facts `q` names anywhere (a negated term needs them too).
    pub fn of(q: Option<&Query>) -> Needs {
        let fields: Vec<Field> = q.map(|q| q.clauses.iter().filter_map(|c| crate::backend::search::field_of(&c.term)).collect()).unwrap_or_default();
        Needs { flow_kind: fields.contains(&Field::FlowKind), workers: fields.contains(&Field::Worker) }
    }

    pub fn any(self) -> bool {
        self.flow_kind || self.workers
    }
}

/// Fill `flow_kind` and `workers` of `lines` as `needs` says: one pipeline.
pub async fn fill(client: &ferriskey::Client, partitions: &PartitionConfig, needs: Needs, lines: &mut [Option<ExecLine>]) -> Result<(), ReadError> {
    if !needs.any() || lines.iter().all(Option::is_none) {
        return Ok(());
    }
    let fail = |e| ReadError::store("read flow kinds and attempt workers", e);
    let mut pipe = client.pipeline();
    let mut flows: HashMap<String, _> = HashMap::new();
    let mut workers = Vec::new();
    for line in lines.iter().flatten() {
        if needs.flow_kind {
            if let Some(raw) = &line.flow_id {
                if let (false, Ok(flow)) = (flows.contains_key(raw), FlowId::parse(raw)) {
                    let key = FlowKeyContext::new(&flow_partition(&flow, partitions), &flow).core();
                    flows.insert(raw.clone(), pipe.cmd::<Option<String>>("HGET").arg(key).arg("flow_kind").finish());
                }
            }
        }
        if needs.workers {
            let ctx = ExecKeyContext::new(&partition(line.id.partition()), &line.id);
            let from = line.attempts.saturating_sub(ATTEMPTS_READ);
            let slots: Vec<_> = (from..line.attempts)
                .map(|i| pipe.cmd::<Option<String>>("HGET").arg(ctx.attempt_hash(AttemptIndex::new(i))).arg("worker_instance_id").finish())
                .collect();
            workers.push(slots);
        }
    }
    if !flows.is_empty() || workers.iter().any(|w| !w.is_empty()) {
        pipe.execute().await.map_err(fail)?;
    }
    let mut kinds = HashMap::new();
    for (flow, slot) in flows {
        kinds.insert(flow, slot.value().map_err(fail)?.unwrap_or_default());
    }
    let mut workers = workers.into_iter();
    for line in lines.iter_mut().flatten() {
        if needs.flow_kind {
            // No flow, or a flow gone: a kind nothing matches.
            line.flow_kind = Some(line.flow_id.as_ref().and_then(|f| kinds.get(f).cloned()).unwrap_or_default());
        }
        if needs.workers {
            let mut ws = Vec::new();
            for slot in workers.next().unwrap_or_default() {
                if let Some(w) = slot.value().map_err(fail)?.filter(|w| !w.is_empty()) {
                    ws.push(w);
                }
            }
            ws.sort();
            ws.dedup();
            line.workers = Some(ws);
        }
    }
    Ok(())
}
