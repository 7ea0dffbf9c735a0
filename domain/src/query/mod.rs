//! The board's one query language (`?q=` on every list, saved views,
//! exports, the bulk preview and the jump box), read into a typed
//! [`Query`] that every backend answers from its store. The grammar, the
//! fields and the limits are in `docs/SEARCH.md`; [`Query::parse`] refuses
//! what it cannot read with the position, what it expected and the fields
//! of the list ([`QueryError`]). A parsed query prints back as its
//! canonical text ([`std::fmt::Display`]), which parses to the same query.
mod parse;
pub mod time;
#[cfg(test)]
mod tests;

use crate::{BlockedFamily, ExecState};
pub use time::{Age, Unit};

/// At most this many characters in a query.
pub const MAX_CHARS: usize = 512;
/// At most this many terms in a query.
pub const MAX_TERMS: usize = 16;
/// At most this many alternatives (`state:a,b,c`) in one term.
pub const MAX_ALTERNATIVES: usize = 16;
/// At most this many characters in one value.
pub const MAX_VALUE: usize = 256;

/// Which list a query filters: each offers its own fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Executions,
    Flows,
    Approvals,
}

/// A field of the language (`state:`, `tag:` …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    State,
    Kind,
    FlowKind,
    Lane,
    Ns,
    Flow,
    Tag,
    Created,
    Finished,
    Attempts,
    Blocked,
    Worker,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::State,
        Field::Kind,
        Field::FlowKind,
        Field::Lane,
        Field::Ns,
        Field::Flow,
        Field::Tag,
        Field::Created,
        Field::Finished,
        Field::Attempts,
        Field::Blocked,
        Field::Worker,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::State => "state",
            Field::Kind => "kind",
            Field::FlowKind => "flowkind",
            Field::Lane => "lane",
            Field::Ns => "ns",
            Field::Flow => "flow",
            Field::Tag => "tag",
            Field::Created => "created",
            Field::Finished => "finished",
            Field::Attempts => "attempts",
            Field::Blocked => "blocked",
            Field::Worker => "worker",
        }
    }

    /// Whether the list of `scope` can be filtered by this field.
    pub fn in_scope(self, scope: Scope) -> bool {
        match scope {
            Scope::Executions => true,
            Scope::Flows => matches!(self, Field::State | Field::FlowKind | Field::Ns | Field::Created | Field::Finished),
            Scope::Approvals => !matches!(self, Field::State | Field::Finished | Field::Blocked | Field::Attempts),
        }
    }

    /// The fields of `scope`, in the order the docs list them.
    pub fn of(scope: Scope) -> impl Iterator<Item = Field> {
        Self::ALL.into_iter().filter(move |f| f.in_scope(scope))
    }
}

/// A name that is either exact or, with a trailing `*`, a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
}

/// A flow's state as the query names it: the coarse states of the flows
/// table, or one of the stored statuses `open`, `running`, `blocked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowPick {
    Active,
    Open,
    Running,
    Blocked,
    Completed,
    Failed,
    Cancelled,
}

impl FlowPick {
    pub const ALL: [FlowPick; 7] =
        [FlowPick::Active, FlowPick::Open, FlowPick::Running, FlowPick::Blocked, FlowPick::Completed, FlowPick::Failed, FlowPick::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            FlowPick::Active => "active",
            FlowPick::Open => "open",
            FlowPick::Running => "running",
            FlowPick::Blocked => "blocked",
            FlowPick::Completed => "completed",
            FlowPick::Failed => "failed",
            FlowPick::Cancelled => "cancelled",
        }
    }

    /// The stored `public_flow_state` literals it matches.
    pub fn stored(self) -> &'static [&'static str] {
        match self {
            FlowPick::Active => crate::FlowState::Active.stored(),
            FlowPick::Open => &["open"],
            FlowPick::Running => &["running"],
            FlowPick::Blocked => &["blocked"],
            FlowPick::Completed => &["completed"],
            FlowPick::Failed => &["failed"],
            FlowPick::Cancelled => &["cancelled"],
        }
    }
}

/// A comparison (`attempts:>2`, `created:<1h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Cmp {
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Eq => "",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }

    /// Whether `a` compares so with `b`.
    pub fn holds<T: Ord>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Eq => a == b,
            Cmp::Ge => a >= b,
            Cmp::Gt => a > b,
        }
    }
}

/// A bound on a time: after or before an instant, within or beyond an
/// age (`<1h` is "less than an hour old"), or one UTC day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeTerm {
    Instant(Cmp, i64),
    Age(Cmp, Age),
    Day(i64),
}

impl TimeTerm {
    /// The half-open range `[from, until)` of epoch milliseconds it means
    /// when the query runs at `now_ms`.
    pub fn range(self, now_ms: i64) -> (Option<i64>, Option<i64>) {
        match self {
            TimeTerm::Day(start) => (Some(start), Some(start + 86_400_000)),
            TimeTerm::Instant(cmp, t) => instant_range(cmp, t),
            // Younger than the age is after the instant that long ago.
            TimeTerm::Age(cmp, age) => {
                let t = now_ms - age.ms();
                let flipped = match cmp {
                    Cmp::Lt => Cmp::Gt,
                    Cmp::Le => Cmp::Ge,
                    Cmp::Ge => Cmp::Le,
                    Cmp::Gt => Cmp::Lt,
                    Cmp::Eq => Cmp::Eq,
                };
                instant_range(flipped, t)
            }
        }
    }
}

fn instant_range(cmp: Cmp, t: i64) -> (Option<i64>, Option<i64>) {
    match cmp {
        Cmp::Lt => (None, Some(t)),
        Cmp::Le => (None, Some(t + 1)),
        Cmp::Eq => (Some(t), Some(t + 1)),
        Cmp::Ge => (Some(t), None),
        Cmp::Gt => (Some(t + 1), None),
    }
}

/// One term, without its negation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// `state:` on executions and approvals.
    State(Vec<ExecState>),
    /// `state:` on flows.
    FlowState(Vec<FlowPick>),
    Kind(Vec<Pattern>),
    FlowKind(Vec<Pattern>),
    Lane(Vec<String>),
    Ns(Vec<String>),
    Flow(Vec<String>),
    Worker(Vec<String>),
    /// `tag:key=value`, or `tag:key` (has the tag).
    Tag { key: String, value: Option<String> },
    Created(TimeTerm),
    Finished(TimeTerm),
    Attempts(Cmp, u32),
    Blocked(Vec<BlockedFamily>),
    /// A bare word: an id or the start of one.
    Id(String),
}

/// A term and whether it is negated (`-state:completed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub negated: bool,
    pub term: Term,
}

/// A parsed query: its clauses, all of which must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub scope: Scope,
    pub clauses: Vec<Clause>,
}

/// A query the board cannot read: where, what it expected, what it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// Character offset (0-based) of the problem.
    pub at: usize,
    pub expected: String,
    pub found: String,
    pub scope: Scope,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&str> = Field::of(self.scope).map(Field::name).collect();
        write!(
            f,
            "query not understood at character {}: expected {}, found {}. Fields: {} (docs/SEARCH.md)",
            self.at + 1,
            self.expected,
            self.found,
            fields.join(", ")
        )
    }
}

impl std::error::Error for QueryError {}

impl Query {
    /// Read `text` as a query on the list of `scope` (see the module doc).
    pub fn parse(text: &str, scope: Scope) -> Result<Query, QueryError> {
        parse::parse(text, scope)
    }

    /// No clause: the whole list.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The clauses that are not negated, of one kind (`|t| matches!(t, Term::Tag { .. })`).
    pub fn positive(&self) -> impl Iterator<Item = &Term> {
        self.clauses.iter().filter(|c| !c.negated).map(|c| &c.term)
    }

    /// This query with one more clause (a link that adds a term), unless
    /// the same clause is there already.
    pub fn with(&self, clause: Clause) -> Query {
        let mut q = self.clone();
        if !q.clauses.contains(&clause) {
            q.clauses.push(clause);
        }
        q
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, c) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Clause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negated {
            f.write_str("-")?;
        }
        write!(f, "{}", self.term)
    }
}

fn join<T>(f: &mut std::fmt::Formatter<'_>, field: &str, items: &[T], show: impl Fn(&T) -> String) -> std::fmt::Result {
    let parts: Vec<String> = items.iter().map(show).collect();
    write!(f, "{field}:{}", parts.join(","))
}

fn pattern(p: &Pattern) -> String {
    match p {
        Pattern::Exact(s) => quote(s),
        Pattern::Prefix(s) => format!("{}*", quote(s)),
    }
}

fn time(t: &TimeTerm) -> String {
    match t {
        TimeTerm::Day(ms) => time::format_date(*ms),
        TimeTerm::Instant(cmp, ms) => format!("{}{}", cmp.as_str(), time::format_instant(*ms)),
        TimeTerm::Age(cmp, age) => format!("{}{age}", cmp.as_str()),
    }
}

/// A value as the parser reads it back: bare when it holds nothing the
/// grammar gives a meaning, quoted otherwise.
pub fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(parse::bare_char) && !s.contains('*') && !s.starts_with('-') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The query text `q` with one more term (what a step, flow kind or tag
/// link in a row opens): `field:value` (`tag:key=value` when `tag` names a
/// value), unchanged when `q` already holds that term. Written over the
/// text alone, so a page linking it carries no printer of every term.
pub fn adding(q: &str, field: Field, value: &str, tag_value: Option<&str>) -> String {
    let term = match tag_value {
        Some(v) => format!("{}:{value}={}", field.name(), quote(v)),
        None => format!("{}:{}", field.name(), quote(value)),
    };
    let q = q.trim();
    // A term may hold spaces (quoted): look for it between blanks.
    if format!(" {q} ").contains(&format!(" {term} ")) {
        q.to_owned()
    } else if q.is_empty() {
        term
    } else {
        format!("{q} {term}")
    }
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Term::State(s) => join(f, "state", s, |s| s.as_str().to_owned()),
            Term::FlowState(s) => join(f, "state", s, |s| s.as_str().to_owned()),
            Term::Kind(p) => join(f, "kind", p, pattern),
            Term::FlowKind(p) => join(f, "flowkind", p, pattern),
            Term::Lane(v) => join(f, "lane", v, |s| quote(s)),
            Term::Ns(v) => join(f, "ns", v, |s| quote(s)),
            Term::Flow(v) => join(f, "flow", v, |s| quote(s)),
            Term::Worker(v) => join(f, "worker", v, |s| quote(s)),
            Term::Tag { key, value: None } => write!(f, "tag:{key}"),
            Term::Tag { key, value: Some(v) } => write!(f, "tag:{key}={}", quote(v)),
            Term::Created(t) => write!(f, "created:{}", time(t)),
            Term::Finished(t) => write!(f, "finished:{}", time(t)),
            Term::Attempts(cmp, n) => write!(f, "attempts:{}{n}", cmp.as_str()),
            Term::Blocked(b) => join(f, "blocked", b, |b| b.as_str().to_owned()),
            Term::Id(id) => f.write_str(&quote(id)),
        }
    }
}
