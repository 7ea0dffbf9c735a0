//! Workaround for a FlowFabric 0.15 gap: finished executions that still
//! say `running`.
//!
//! On the SQLite and Postgres backends, the `complete` / `fail` paths of
//! the trait (and the Postgres timeout reconcilers) move `ff_exec_core`
//! to `lifecycle_phase = 'terminal'`, `attempt_state = 'attempt_terminal'`
//! but never rewrite `public_state`, which keeps its last live value
//! (`running`, `suspended`, …). The engine's own reads then report a
//! finished execution as `Active`. The outcome is recorded elsewhere: in
//! `ff_attempt.outcome` of the current attempt, or in
//! `ff_exec_core.cancellation_reason`. [`public_state`] rebuilds the label
//! from those, the way Valkey writes it (`flowfabric.lua` stores
//! `public_state` together with `terminal_outcome` on every terminal
//! transition) and ff-core's `StateVector::derive_public_state` derives
//! it.
//!
//! Used by the board's describe/info reads of both SQL backends
//! (`backend::filled`, `backend::sql`). Delete this module, and its callers'
//! use of it, once the engine writes `public_state` on terminal
//! transitions itself.

/// The `public_state` literal to decode for one `ff_exec_core` row, in
/// `PublicState`'s snake_case form.
///
/// Live rows (`lifecycle_phase` neither `terminal` nor `cancelled`) keep
/// their stored state, with the claim path's `running` spelled `active`
/// (the backends' own `read_execution_state` normalisation). Terminal
/// rows keep a stored terminal state; a stale one is replaced:
///
/// | terminal row has                                   | state       |
/// |----------------------------------------------------|-------------|
/// | `lifecycle_phase = 'cancelled'`                    | `cancelled` |
/// | attempt outcome `success`                          | `completed` |
/// | attempt outcome `failed` / `failure`               | `failed`    |
/// | attempt outcome `cancelled` / `expired` / `skipped`| same word   |
/// | `cancellation_reason` `suspension_timeout_fail`    | `failed`    |
/// | `cancellation_reason` `suspension_timeout_expire`, `…_escalate` | `expired` |
/// | any other `cancellation_reason`                    | `cancelled` |
/// | nothing of the above (attempt `interrupted`, no attempt) | `expired` |
///
/// The suspension-timeout reasons follow Valkey's `ff_expire_suspension`
/// (fail → failed, cancel → cancelled, expire → expired); Postgres makes
/// `escalate` terminal too and records it as `expired` in its completion
/// outbox. The last row covers the Postgres attempt-timeout and
/// execution-deadline reconcilers, the only writers of such rows, which
/// Valkey's `ff_expire_execution` marks `expired`.
pub fn public_state<'a>(
    stored: &'a str,
    lifecycle_phase: &str,
    attempt_outcome: Option<&str>,
    cancellation_reason: Option<&str>,
) -> &'a str {
    const TERMINAL: [&str; 5] = ["completed", "failed", "cancelled", "expired", "skipped"];
    if !matches!(lifecycle_phase, "terminal" | "cancelled") {
        return if stored == "running" { "active" } else { stored };
    }
    if TERMINAL.contains(&stored) {
        return stored;
    }
    if lifecycle_phase == "cancelled" {
        return "cancelled";
    }
    match (attempt_outcome, cancellation_reason) {
        (Some("success"), _) => "completed",
        (Some("failed" | "failure"), _) => "failed",
        (Some("cancelled"), _) => "cancelled",
        (Some("expired"), _) => "expired",
        (Some("skipped"), _) => "skipped",
        (_, Some("suspension_timeout_fail")) => "failed",
        (_, Some("suspension_timeout_expire" | "suspension_timeout_escalate")) => "expired",
        (_, Some(_)) => "cancelled",
        (_, None) => "expired",
    }
}

#[cfg(test)]
mod tests {
    use super::public_state;

    #[test]
    fn live_rows_keep_their_state() {
        assert_eq!(public_state("running", "active", None, None), "active");
        assert_eq!(public_state("suspended", "suspended", Some("attempt_interrupted"), None), "suspended");
        assert_eq!(public_state("waiting", "runnable", Some("retry"), None), "waiting");
    }

    #[test]
    fn terminal_rows_get_their_outcome() {
        let t = |outcome, reason| public_state("running", "terminal", outcome, reason);
        assert_eq!(t(Some("success"), None), "completed");
        assert_eq!(t(Some("failed"), None), "failed");
        assert_eq!(t(Some("failure"), None), "failed");
        assert_eq!(t(Some("cancelled"), Some("operator")), "cancelled");
        assert_eq!(t(Some("expired"), None), "expired");
        assert_eq!(t(Some("skipped"), None), "skipped");
        assert_eq!(t(Some("attempt_interrupted"), Some("suspension_timeout_fail")), "failed");
        assert_eq!(t(Some("attempt_interrupted"), Some("suspension_timeout_cancel")), "cancelled");
        assert_eq!(t(Some("attempt_interrupted"), Some("suspension_timeout_expire")), "expired");
        assert_eq!(t(None, Some("flow_cancelled")), "cancelled");
        assert_eq!(t(Some("interrupted"), None), "expired");
        assert_eq!(t(None, None), "expired");
        assert_eq!(public_state("suspended", "cancelled", None, None), "cancelled");
    }

    #[test]
    fn stored_terminal_states_win() {
        assert_eq!(public_state("failed", "terminal", Some("interrupted_reclaimed"), Some("reclaim_cap_exceeded")), "failed");
        assert_eq!(public_state("skipped", "terminal", None, None), "skipped");
        assert_eq!(public_state("completed", "terminal", Some("success"), None), "completed");
    }
}
