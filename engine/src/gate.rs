//! Approval gates: what a suspended execution's resume condition accepts,
//! how far it has got, and what a delivered signal did.
//!
//! FlowFabric 0.15's trait lists pending waitpoints, but not the condition
//! that decides when the execution resumes: on SQLite and Postgres
//! `list_pending_waitpoints` names the signals a waitpoint's matchers want,
//! on Valkey it names none for a `Composite` condition, and no backend says
//! how many approvals a `Count` needs or who has given one. So the board
//! reads the suspension the engine stored (one read per execution):
//! - SQLite / Postgres: `ff_suspension_current` (`condition` is the serde
//!   form of [`ResumeCondition`], `member_map` maps each waitpoint key to the
//!   signals delivered to it, plus `timeout_at_ms` and `timeout_behavior`);
//! - Valkey: the hash `ff:exec:{fp:N}:<id>:suspension:current`
//!   (`resume_condition_json` in the backend's wire form, `waitpoint_key`,
//!   `timeout_at`, `timeout_behavior`) and the set `…:satisfied_set` of
//!   satisfier tokens the Lua evaluator keeps (`src:<type>:<identity>`,
//!   `sig:<id>`, `wp:<id>`, `leaf:<path>`, `node:<path>`).
//!
//! Nothing here depends on how the board's own demo names its signals: a
//! gate suspended by an SDK worker or through ff-server reads the same way.
use ff_core::contracts::{CompositeBody, CountKind, ResumeCondition, SignalMatcher};
use ff_core::types::ExecutionId;
use serde_json::Value;

use crate::connect::Connected;
use crate::store_error::{Store, StoreError};

/// A suspension as stored: its condition, what was delivered so far, and
/// its deadline.
#[derive(Clone, Debug)]
pub struct Gate {
    pub condition: ResumeCondition,
    pub tally: Tally,
    /// When the execution suspended (ms since the epoch). Valkey's
    /// `list_suspended` scores its entries by the timeout instead.
    pub suspended_at: Option<i64>,
    /// When the suspension times out (ms since the epoch).
    pub timeout_at: Option<i64>,
    /// What happens then, in the engine's wire words (`fail`, `cancel`,
    /// `expire`, `auto_resume_with_timeout_signal`, `escalate`).
    pub timeout_behavior: Option<String>,
}

/// What has reached the gate so far.
#[derive(Clone, Debug)]
pub enum Tally {
    /// SQL backends keep every delivered signal per waitpoint key.
    Signals(Vec<Delivered>),
    /// Valkey keeps the satisfier tokens of its composite evaluator (none
    /// for a single-matcher condition, which closes on its first match).
    Tokens(Vec<String>),
}

/// One signal a SQL backend recorded against the suspension.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub waitpoint_key: String,
    pub name: String,
    pub source_type: String,
    pub source_identity: String,
    pub signal_id: String,
}

/// The signal names a waitpoint's part of the condition accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepts {
    /// Names some matcher on this waitpoint asks for, in condition order.
    pub names: Vec<String>,
    /// Some matcher on this waitpoint takes any name.
    pub any: bool,
}

impl Accepts {
    /// Does this waitpoint take a signal called `name`?
    pub fn takes(&self, name: &str) -> bool {
        self.any || self.names.iter().any(|n| n == name)
    }

    /// No signal on this waitpoint can count (operator- or timeout-only, or
    /// the waitpoint is not in the condition).
    pub fn nothing(&self) -> bool {
        !self.any && self.names.is_empty()
    }
}

/// How far a gate has got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub needed: u32,
    pub have: u32,
    /// For a `Count` gate: what makes two satisfiers distinct.
    pub distinct: Option<CountKind>,
    /// Sources whose signals count, as `identity` for the board's own
    /// `user` sources and `type:identity` otherwise.
    pub who: Vec<String>,
}

/// What `deliver_signal` says it did (`DeliverSignalResult::Accepted.effect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignalEffect {
    /// The condition is met: the execution resumes.
    Satisfied,
    /// The signal was recorded against the waitpoint (SQL backends say
    /// this for every signal, counted or not: check [`Progress`]).
    Appended,
    /// Valkey: this satisfier had already counted.
    DuplicateSatisfier,
    /// Valkey: no matcher of the condition takes this name.
    MatcherFailed,
    /// Valkey: the waitpoint is not part of the condition.
    NotInCondition,
    /// Valkey (single matcher): nothing matched.
    NoOp,
    /// The waitpoint is not active yet: the signal waits in a buffer.
    Buffered,
    /// Anything this board does not know.
    Other(String),
}

impl SignalEffect {
    pub fn parse(effect: &str) -> SignalEffect {
        match effect {
            "resume_condition_satisfied" => SignalEffect::Satisfied,
            "appended_to_waitpoint" => SignalEffect::Appended,
            "appended_to_waitpoint_duplicate" => SignalEffect::DuplicateSatisfier,
            "signal_ignored_matcher_failed" => SignalEffect::MatcherFailed,
            "signal_ignored_not_in_condition" => SignalEffect::NotInCondition,
            "no_op" => SignalEffect::NoOp,
            "buffered_for_pending_waitpoint" => SignalEffect::Buffered,
            other => SignalEffect::Other(other.to_owned()),
        }
    }
}

/// Walk every node of `cond` that a signal on `wp_key` may count for.
fn visit(cond: &ResumeCondition, wp_key: &str, f: &mut dyn FnMut(Option<&SignalMatcher>)) {
    match cond {
        ResumeCondition::Single { waitpoint_key, matcher } if waitpoint_key == wp_key => f(Some(matcher)),
        ResumeCondition::Composite(CompositeBody::AllOf { members }) => {
            for m in members {
                visit(m, wp_key, f);
            }
        }
        ResumeCondition::Composite(CompositeBody::Count { matcher, waitpoints, .. }) if waitpoints.iter().any(|w| w == wp_key) => {
            f(matcher.as_ref())
        }
        _ => {}
    }
}

/// The names a signal on `wp_key` may carry to count.
pub fn accepts(cond: &ResumeCondition, wp_key: &str) -> Accepts {
    let mut out = Accepts::default();
    visit(cond, wp_key, &mut |m| match m {
        Some(SignalMatcher::ByName(n)) => {
            if !out.names.contains(n) {
                out.names.push(n.clone());
            }
        }
        _ => out.any = true,
    });
    out
}

fn matches(m: Option<&SignalMatcher>, name: &str) -> bool {
    match m {
        Some(SignalMatcher::ByName(n)) => n == name,
        _ => true,
    }
}

/// How a source is shown: the identity alone for people signed in to the board.
fn source_label(source_type: &str, identity: &str) -> String {
    if source_type == "user" { identity.to_owned() } else { format!("{source_type}:{identity}") }
}

/// Distinct satisfiers of a `Count` node among SQL-recorded signals.
fn count_sql(kind: CountKind, matcher: Option<&SignalMatcher>, waitpoints: &[String], sigs: &[Delivered]) -> (u32, Vec<String>) {
    let hits: Vec<&Delivered> =
        sigs.iter().filter(|s| waitpoints.contains(&s.waitpoint_key) && matches(matcher, &s.name)).collect();
    let mut keys: Vec<String> = hits
        .iter()
        .map(|s| match kind {
            CountKind::DistinctWaitpoints => s.waitpoint_key.clone(),
            CountKind::DistinctSignals => s.signal_id.clone(),
            _ => format!("{}\u{0}{}", s.source_type, s.source_identity),
        })
        .collect();
    keys.sort();
    keys.dedup();
    (keys.len() as u32, sources(hits.into_iter()))
}

fn sources<'a>(sigs: impl Iterator<Item = &'a Delivered>) -> Vec<String> {
    let mut who: Vec<String> = sigs.map(|s| source_label(&s.source_type, &s.source_identity)).collect();
    who.sort();
    who.dedup();
    who
}

/// Is `cond` met by the SQL-recorded signals? (FlowFabric's own evaluator, read-only.)
fn met_sql(cond: &ResumeCondition, sigs: &[Delivered]) -> bool {
    match cond {
        ResumeCondition::Single { waitpoint_key, matcher } => {
            sigs.iter().any(|s| &s.waitpoint_key == waitpoint_key && matches(Some(matcher), &s.name))
        }
        ResumeCondition::Composite(CompositeBody::AllOf { members }) => !members.is_empty() && members.iter().all(|m| met_sql(m, sigs)),
        ResumeCondition::Composite(CompositeBody::Count { n, count_kind, matcher, waitpoints }) => {
            count_sql(*count_kind, matcher.as_ref(), waitpoints, sigs).0 >= *n
        }
        _ => false,
    }
}

/// Valkey's satisfier tokens of the kind a `Count` counts.
fn token_prefix(kind: CountKind) -> &'static str {
    match kind {
        CountKind::DistinctWaitpoints => "wp:",
        CountKind::DistinctSignals => "sig:",
        _ => "src:",
    }
}

fn token_sources(tokens: &[String]) -> Vec<String> {
    let mut who: Vec<String> = tokens
        .iter()
        .filter_map(|t| t.strip_prefix("src:"))
        .map(|s| match s.split_once(':') {
            Some((ty, id)) => source_label(ty, id),
            None => s.to_owned(),
        })
        .collect();
    who.sort();
    who.dedup();
    who
}

/// How far `gate` has got: a `Count` counts its distinct satisfiers, an
/// `AllOf` its satisfied members, anything else is one step.
pub fn progress(gate: &Gate) -> Progress {
    let one = |have: bool, who: Vec<String>| Progress { needed: 1, have: u32::from(have), distinct: None, who };
    match (&gate.condition, &gate.tally) {
        (ResumeCondition::Composite(CompositeBody::Count { n, count_kind, matcher, waitpoints }), Tally::Signals(sigs)) => {
            let (have, who) = count_sql(*count_kind, matcher.as_ref(), waitpoints, sigs);
            Progress { needed: *n, have: have.min(*n), distinct: Some(*count_kind), who }
        }
        (ResumeCondition::Composite(CompositeBody::Count { n, count_kind, .. }), Tally::Tokens(tokens)) => {
            let have = tokens.iter().filter(|t| t.starts_with(token_prefix(*count_kind))).count() as u32;
            Progress { needed: *n, have: have.min(*n), distinct: Some(*count_kind), who: token_sources(tokens) }
        }
        (ResumeCondition::Composite(CompositeBody::AllOf { members }), tally) => {
            let have = members
                .iter()
                .enumerate()
                .filter(|(i, m)| match tally {
                    Tally::Signals(sigs) => met_sql(m, sigs),
                    Tally::Tokens(tokens) => {
                        let mark = if matches!(m, ResumeCondition::Single { .. }) { "leaf" } else { "node" };
                        tokens.iter().any(|t| *t == format!("{mark}:members[{i}]"))
                    }
                })
                .count() as u32;
            let who = match tally {
                Tally::Signals(sigs) => sources(sigs.iter()),
                Tally::Tokens(tokens) => token_sources(tokens),
            };
            Progress { needed: members.len() as u32, have, distinct: None, who }
        }
        (cond, Tally::Signals(sigs)) => one(met_sql(cond, sigs), vec![]),
        (_, Tally::Tokens(_)) => one(false, vec![]),
    }
}

/// Read the stored suspension of `id`; `None` when it is not suspended.
pub async fn read(c: &Connected, id: &ExecutionId) -> Result<Option<Gate>, StoreError> {
    c.side.suspension(id).await
}

/// The stored resume condition of `id` does not parse.
pub(crate) fn unreadable(id: &ExecutionId, e: serde_json::Error) -> StoreError {
    StoreError::invalid(Store::Suspensions, "decode gate", format!("stored resume condition of {id} is not readable: {e}"))
}

/// A SQL `ff_suspension_current` row (condition and member map as JSON text) as a [`Gate`].
pub fn sql_gate(
    id: &ExecutionId,
    condition: &str,
    member_map: &str,
    timeout_at: Option<i64>,
    timeout_behavior: Option<String>,
    suspended_at: i64,
) -> Result<Gate, StoreError> {
    let condition: ResumeCondition = serde_json::from_str(condition).map_err(|e| unreadable(id, e))?;
    let map: Value = serde_json::from_str(member_map).unwrap_or_default();
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let sigs = map
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(wk, list)| {
            list.as_array().cloned().unwrap_or_default().into_iter().map(move |s| Delivered {
                waitpoint_key: wk.clone(),
                name: str_of(&s, "signal_name"),
                source_type: str_of(&s, "source_type"),
                source_identity: str_of(&s, "source_identity"),
                signal_id: str_of(&s, "signal_id"),
            })
        })
        .collect();
    Ok(Gate { condition, tally: Tally::Signals(sigs), suspended_at: Some(suspended_at), timeout_at, timeout_behavior })
}

/// A waitpoint an execution waits on (pending or active), as the inbox shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub waitpoint_id: String,
    pub waitpoint_key: String,
    pub state: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// The names the engine stored for it (used when the condition is unreadable).
    pub required: Vec<String>,
}

/// A suspended execution's gate and pending waitpoints, read for a page at once.
#[derive(Clone, Debug)]
pub struct GateRows {
    pub gate: Result<Option<Gate>, StoreError>,
    pub pending: Vec<Pending>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn count(n: u32, name: Option<&str>, wps: &[&str]) -> ResumeCondition {
        ResumeCondition::Composite(CompositeBody::count(
            n,
            CountKind::DistinctSources,
            name.map(|n| SignalMatcher::ByName(n.into())),
            wps.iter().map(|s| s.to_string()),
        ))
    }

    fn sig(wk: &str, name: &str, who: &str) -> Delivered {
        Delivered { waitpoint_key: wk.into(), name: name.into(), source_type: "user".into(), source_identity: who.into(), signal_id: format!("{who}-{name}") }
    }

    #[test]
    fn accepts_walks_every_shape() {
        let single = ResumeCondition::Single { waitpoint_key: "k".into(), matcher: SignalMatcher::ByName("ship".into()) };
        assert_eq!(accepts(&single, "k"), Accepts { names: vec!["ship".into()], any: false });
        assert!(accepts(&single, "other").nothing());
        let all = ResumeCondition::Composite(CompositeBody::all_of([
            ResumeCondition::Single { waitpoint_key: "k".into(), matcher: SignalMatcher::ByName("qa-ok".into()) },
            ResumeCondition::Single { waitpoint_key: "k".into(), matcher: SignalMatcher::ByName("sec-ok".into()) },
            count(1, None, &["j"]),
        ]));
        assert_eq!(accepts(&all, "k").names, vec!["qa-ok", "sec-ok"]);
        assert!(accepts(&all, "j").any && accepts(&all, "j").takes("whatever"));
        assert!(accepts(&ResumeCondition::OperatorOnly, "k").nothing());
    }

    #[test]
    fn sql_count_counts_distinct_matching_sources() {
        let gate = |sigs| Gate { condition: count(2, Some("signoff"), &["k"]), tally: Tally::Signals(sigs), suspended_at: None, timeout_at: None, timeout_behavior: None };
        let p = progress(&gate(vec![sig("k", "signoff", "alice"), sig("k", "signoff", "alice"), sig("k", "approved", "bob")]));
        assert_eq!((p.needed, p.have, p.who.clone()), (2, 1, vec!["alice".to_owned()]));
        assert_eq!(p.distinct, Some(CountKind::DistinctSources));
        assert_eq!(progress(&gate(vec![sig("k", "signoff", "alice"), sig("k", "signoff", "bob")])).have, 2);
    }

    #[test]
    fn effects_parse() {
        assert_eq!(SignalEffect::parse("signal_ignored_matcher_failed"), SignalEffect::MatcherFailed);
        assert_eq!(SignalEffect::parse("weird"), SignalEffect::Other("weird".into()));
    }
}
