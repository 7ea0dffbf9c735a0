//! Approvals: every suspended execution over all partitions with its reason,
//! its pending waitpoints and its gate (what it waits for, n of m, who
//! approved, the deadline). Waitpoint tokens never leave the server: only
//! the key, state, and what an approve or reject will send are shown.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What an operator's approve or reject does at one waitpoint, worked out
/// on the server from the gate's stored resume condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Plan {
    /// Send this signal; `note` says why this name.
    Send { signal: String, note: String },
    /// Several names count here and the board cannot tell which one the
    /// application means: the operator picks one.
    Choose { signals: Vec<String>, note: String },
    /// Reject only: no signal rejects this gate, so rejecting means
    /// cancelling the execution.
    Cancel { note: String },
    /// No signal the board could send does this.
    Unavailable { note: String },
}

/// An operator's decision on a waitpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

/// What makes two approvals of a `Count` gate distinct (FlowFabric's `CountKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Distinct {
    Waitpoints,
    Signals,
    /// Source type and identity: the board signs as `user:<name>`, so two
    /// people count twice and one person twice counts once.
    Sources,
}

impl Distinct {
    pub fn words(self) -> &'static str {
        match self {
            Distinct::Waitpoints => "distinct waitpoints",
            Distinct::Signals => "distinct signals (every signal counts)",
            Distinct::Sources => "distinct sources (source type + identity)",
        }
    }
}

/// A gate's progress and deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub needed: u32,
    pub have: u32,
    pub distinct: Option<Distinct>,
    /// Sources whose signals counted so far.
    pub approvers: Vec<String>,
    pub timeout_at: Option<i64>,
    /// What the engine does at the deadline, in words.
    pub on_timeout: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitpointView {
    pub waitpoint_id: String,
    pub key: String,
    pub state: crate::api::states::WaitpointState,
    /// What the condition accepts here, in words ("`deploy-ok`", "any signal").
    pub waits_for: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub approve: Plan,
    pub reject: Plan,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRow {
    pub execution_id: String,
    pub flow_id: Option<String>,
    pub lane: String,
    pub namespace: String,
    pub reason: String,
    pub suspended_at: i64,
    /// Pending waitpoints, or why they could not be read.
    pub waitpoints: Result<Vec<WaitpointView>, AppError>,
    /// The gate, or why it could not be read.
    pub gate: Result<Option<GateView>, AppError>,
}

#[cfg(feature = "ssr")]
pub use plan::{assemble, gate_and_waitpoints, plans, GateRead};

impl ApprovalRow {
    /// Something an operator can decide now: a pending waitpoint (or
    /// waitpoints that could not be read: shown rather than hidden).
    pub fn actionable(&self) -> bool {
        self.waitpoints.as_ref().map_or(true, |w| !w.is_empty())
    }
}

#[cfg(feature = "ssr")]
mod plan {
    //! From a stored condition to what the buttons do.
    use super::{Distinct, GateView, Plan, WaitpointView};
    use ff_board_engine::gate::{self, Accepts, Gate, Pending, Progress};
    use crate::error::AppError;
    use ff_board_engine::connect::Connected;
    use ff_core::contracts::{CountKind, ListPendingWaitpointsArgs};
    use ff_core::types::ExecutionId;

    /// Names that read as a refusal. A gate only "has" a rejection signal
    /// when its condition accepts one of these on the waitpoint.
    fn is_rejection(name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        ["reject", "deny", "denied", "decline", "veto", "refuse", "abort"].iter().any(|w| n.contains(w))
    }

    fn quoted(names: &[String]) -> String {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ")
    }

    /// What the condition accepts on a waitpoint, in words.
    pub fn waits_for(acc: &Accepts) -> String {
        match (acc.names.is_empty(), acc.any) {
            (true, true) => "any signal".into(),
            (true, false) => "no signal (operator resume or timeout only)".into(),
            (false, true) => format!("{} or any other signal", quoted(&acc.names)),
            (false, false) => quoted(&acc.names),
        }
    }

    /// `(approve, reject)` at a waitpoint accepting `acc`, on a gate
    /// needing `needed` satisfiers.
    pub fn plans(acc: &Accepts, needed: u32) -> (Plan, Plan) {
        let (rejects, approves): (Vec<String>, Vec<String>) = acc.names.iter().cloned().partition(|n| is_rejection(n));
        let approve = match approves.as_slice() {
            [] if acc.any => Plan::Send {
                signal: "approved".into(),
                note: "the gate accepts any signal name: the board sends `approved`".into(),
            },
            [] if acc.nothing() => Plan::Unavailable { note: "no signal opens this gate: it waits for an operator resume or its timeout".into() },
            [] => Plan::Unavailable { note: format!("this waitpoint only takes {}, a rejection", quoted(&rejects)) },
            [one] => Plan::Send { signal: one.clone(), note: format!("the gate's matcher asks for `{one}`") },
            many => Plan::Choose {
                signals: many.to_vec(),
                note: format!("the gate counts any of {}: choose the one your application means", quoted(many)),
            },
        };
        let reject = match rejects.as_slice() {
            [one] => Plan::Send { signal: one.clone(), note: format!("the gate's condition names `{one}`: its worker reads the rejection") },
            [_, ..] => Plan::Choose { signals: rejects.clone(), note: format!("the gate counts any of {}", quoted(&rejects)) },
            [] if acc.any && needed <= 1 => Plan::Send {
                signal: "rejected".into(),
                note: "the gate accepts any signal name: the execution resumes and its worker reads `rejected`".into(),
            },
            [] if acc.any => Plan::Cancel {
                note: format!("any signal counts as one of the {needed} approvals, so a rejection signal would count as approval: rejecting means cancelling the execution"),
            },
            [] => Plan::Cancel {
                note: format!("the gate waits for {} and has no rejection signal: rejecting means cancelling the execution", waits_for(acc)),
            },
        };
        (approve, reject)
    }

    fn timeout_words(wire: &str) -> String {
        match wire {
            "fail" => "the execution fails".into(),
            "cancel" => "the execution is cancelled".into(),
            "expire" => "the execution expires".into(),
            "auto_resume_with_timeout_signal" => "the execution resumes with a timeout signal".into(),
            "escalate" => "the gate escalates".into(),
            other => format!("`{other}`"),
        }
    }

    pub fn gate_view(g: &Gate, p: &Progress) -> GateView {
        GateView {
            needed: p.needed,
            have: p.have,
            distinct: p.distinct.map(|k| match k {
                CountKind::DistinctWaitpoints => Distinct::Waitpoints,
                CountKind::DistinctSignals => Distinct::Signals,
                _ => Distinct::Sources,
            }),
            approvers: p.who.clone(),
            timeout_at: g.timeout_at,
            on_timeout: g.timeout_behavior.as_deref().map(timeout_words),
        }
    }

    /// A suspended execution's gate as read, and as shown.
    pub struct GateRead {
        /// The stored suspension (what a decision delivers against).
        pub stored: Result<Option<Gate>, AppError>,
        pub gate: Result<Option<GateView>, AppError>,
        pub waitpoints: Result<Vec<WaitpointView>, AppError>,
    }

    /// The gate of `id` and its pending waitpoints with their plans: one
    /// stored-suspension read and one `list_pending_waitpoints` (the
    /// execution page; the inbox reads a page of gates at once).
    pub async fn gate_and_waitpoints(c: &Connected, id: &ExecutionId) -> GateRead {
        let (stored, pending) = futures::join!(
            gate::read(c, id),
            c.backend.list_pending_waitpoints(ListPendingWaitpointsArgs::new(id.clone()).with_limit(20))
        );
        let pending = pending
            .map(|r| {
                r.entries
                    .into_iter()
                    .map(|w| Pending {
                        waitpoint_id: w.waitpoint_id.to_string(),
                        waitpoint_key: w.waitpoint_key,
                        state: w.state,
                        created_at: w.created_at.0,
                        expires_at: w.expires_at.map(|t| t.0),
                        required: w.required_signal_names,
                    })
                    .collect()
            })
            .map_err(|e| AppError::engine("list_pending_waitpoints", e));
        assemble(stored.map_err(AppError::from), pending)
    }

    /// A stored gate and its pending waitpoints as shown, with the plans.

    pub fn assemble(stored: Result<Option<Gate>, AppError>, pending: Result<Vec<Pending>, AppError>) -> GateRead {
        let progress = stored.as_ref().ok().and_then(|g| g.as_ref().map(|g| (g, gate::progress(g))));
        let waitpoints = pending.map(|entries| {
            entries
                .into_iter()
                .map(|w| {
                    // Without a readable condition, fall back to what the engine stored.
                    let acc = match &progress {
                        Some((g, _)) => gate::accepts(&g.condition, &w.waitpoint_key),
                        None => Accepts { names: w.required.clone(), any: false },
                    };
                    let (approve, reject) = plans(&acc, progress.as_ref().map_or(1, |(_, p)| p.needed));
                    WaitpointView {
                        waitpoint_id: w.waitpoint_id,
                        waits_for: waits_for(&acc),
                        key: w.waitpoint_key,
                        state: crate::api::states::WaitpointState::parse(&w.state),
                        created_at: w.created_at,
                        expires_at: w.expires_at,
                        approve,
                        reject,
                    }
                })
                .collect()
        });
        let gate = stored.clone().map(|g| g.map(|g| gate_view(&g, &gate::progress(&g))));
        GateRead { stored, gate, waitpoints }
    }
}

/// Approvals per page.
pub const PAGE: usize = 25;

/// One page of the inbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalsPage {
    pub rows: Vec<ApprovalRow>,
    pub next_cursor: Option<String>,
    pub cut_short: bool,
    /// Suspended executions of this page left out because nothing on them
    /// can be acted on now (no pending waitpoint: already satisfied, or
    /// waiting on something other than a signal). Shown with `all`.
    pub hidden: usize,
}

/// Suspended executions, oldest suspension first on SQL backends and
/// soonest deadline first on Valkey (its suspended index is scored by
/// deadline), found by the query language (`?q=`, `docs/SEARCH.md`: the
/// fields of executions but state, finished, attempts and blocked). One store read for the page and one or two for the gates and
/// pending waitpoints of all its rows ([`PAGE`] at most). Without `all`,
/// only what an operator can act on now: rows with a pending waitpoint (or
/// whose waitpoints could not be read, so nothing is hidden by an error).
#[server(prefix = "/api", endpoint = "list_approvals", output = crate::api::codec::PostcardAnswer)]
pub async fn list_approvals(
    #[server(default)] cursor: Option<String>,
    #[server(default)] all: bool,
    #[server(default)] q: Option<String>,
) -> Result<ApprovalsPage, AppError> {
    use ff_board_domain::query::{Query, Scope};
    use ff_board_engine::backend::search::Search;
    let after = super::cursor::decode(cursor.as_deref())?;
    let search = Query::parse(q.as_deref().unwrap_or(""), Scope::Approvals).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let search = (!search.is_empty()).then(|| Search::new(search));
    super::read::read(|c| async move {
        let page = c.reads.suspended(search.as_ref(), after.as_deref(), PAGE).await?;
        let ids: Vec<_> = page.rows.iter().map(|r| r.exec.id.clone()).collect();
        let gates = c.reads.gates(&ids).await?;
        let rows: Vec<ApprovalRow> = page.rows.into_iter().zip(gates).map(|(entry, g)| approval_row(entry, g)).collect();
        let read = rows.len();
        let rows: Vec<ApprovalRow> = rows.into_iter().filter(|r| all || r.actionable()).collect();
        Ok(ApprovalsPage {
            hidden: read - rows.len(),
            rows,
            next_cursor: page.next.as_deref().map(super::cursor::encode),
            cut_short: page.cut_short,
        })
    })
    .await
}

/// A suspended execution of the page with its gate and pending waitpoints.
#[cfg(feature = "ssr")]
fn approval_row(entry: ff_board_engine::backend::SuspendedLine, g: ff_board_engine::gate::GateRows) -> ApprovalRow {
    let GateRead { gate, waitpoints, stored } = assemble(g.gate.map_err(AppError::from), Ok(g.pending));
    let suspended_at = stored.ok().flatten().and_then(|g| g.suspended_at).unwrap_or(entry.suspended_at);
    ApprovalRow {
        execution_id: entry.exec.id.to_string(),
        flow_id: entry.exec.flow_id,
        lane: entry.exec.lane,
        namespace: entry.exec.namespace,
        reason: entry.reason.unwrap_or_default(),
        suspended_at,
        waitpoints,
        gate,
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use ff_board_engine::gate::Accepts;

    fn acc(names: &[&str], any: bool) -> Accepts {
        Accepts { names: names.iter().map(|s| s.to_string()).collect(), any }
    }

    #[test]
    fn named_gate_sends_its_name_and_rejects_by_cancelling() {
        let (a, r) = plans(&acc(&["release-signoff"], false), 2);
        assert_eq!(a, Plan::Send { signal: "release-signoff".into(), note: "the gate's matcher asks for `release-signoff`".into() });
        assert!(matches!(r, Plan::Cancel { .. }));
    }

    #[test]
    fn wildcard_gates() {
        let (a, r) = plans(&acc(&[], true), 1);
        assert!(matches!(a, Plan::Send { ref signal, .. } if signal == "approved"));
        assert!(matches!(r, Plan::Send { ref signal, .. } if signal == "rejected"));
        // With n > 1 a rejection signal would count as an approval.
        assert!(matches!(plans(&acc(&[], true), 2).1, Plan::Cancel { .. }));
    }

    #[test]
    fn several_names_ask_the_operator() {
        let (a, r) = plans(&acc(&["qa-ok", "sec-ok", "deploy-rejected"], false), 1);
        assert!(matches!(a, Plan::Choose { ref signals, .. } if signals == &["qa-ok", "sec-ok"]));
        assert!(matches!(r, Plan::Send { ref signal, .. } if signal == "deploy-rejected"));
        assert!(matches!(plans(&acc(&[], false), 1).0, Plan::Unavailable { .. }));
    }
}
