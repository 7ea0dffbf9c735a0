//! The reader of the query language: terms split on white space (outside
//! double quotes), `-` negates, `field:value` or a bare id. Each refusal
//! names the character where reading stopped (`QueryError::at`).
use super::time::{parse_date, parse_instant, Age};
use super::*;

/// A character a value may hold without quotes.
pub(super) fn bare_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !"\"\\,:=<>".contains(c)
}

/// FlowFabric's tag key: `^[a-z][a-z0-9_]*\.[a-z0-9_][a-z0-9_.]*$`.
pub fn valid_tag_key(k: &str) -> bool {
    let Some((ns, rest)) = k.split_once('.') else { return false };
    let mut ns_chars = ns.chars();
    matches!(ns_chars.next(), Some('a'..='z'))
        && ns_chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && matches!(rest.chars().next(), Some('a'..='z' | '0'..='9' | '_'))
        && rest.chars().all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '.'))
}

struct Reader<'a> {
    c: &'a [char],
    i: usize,
    scope: Scope,
}

/// One value as read: its text, where it started, and whether it was quoted.
struct Value {
    text: String,
    at: usize,
    quoted: bool,
}

pub(super) fn parse(text: &str, scope: Scope) -> Result<Query, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut r = Reader { c: &chars, i: 0, scope };
    if chars.len() > MAX_CHARS {
        r.i = MAX_CHARS;
        return Err(r.err(&format!("at most {MAX_CHARS} characters"), &format!("{} characters", chars.len())));
    }
    let mut clauses = Vec::new();
    loop {
        while r.peek().is_some_and(char::is_whitespace) {
            r.i += 1;
        }
        if r.peek().is_none() {
            return Ok(Query { scope, clauses });
        }
        if clauses.len() == MAX_TERMS {
            return Err(r.err(&format!("at most {MAX_TERMS} terms"), "a 17th term"));
        }
        clauses.push(r.clause()?);
    }
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn at_end_of_term(&self) -> bool {
        self.peek().is_none_or(char::is_whitespace)
    }

    /// What stands at the cursor, for an error.
    fn found(&self) -> String {
        let rest: String = self.c[self.i.min(self.c.len())..].iter().take_while(|c| !c.is_whitespace()).take(40).collect();
        if rest.is_empty() { "the end of the term".to_owned() } else { format!("{rest:?}") }
    }

    fn err(&self, expected: &str, found: &str) -> QueryError {
        QueryError { at: self.i, expected: expected.to_owned(), found: found.to_owned(), scope: self.scope }
    }

    fn err_here(&self, expected: &str) -> QueryError {
        self.err(expected, &self.found())
    }

    fn clause(&mut self) -> Result<Clause, QueryError> {
        let negated = self.peek() == Some('-');
        if negated {
            self.i += 1;
            if self.at_end_of_term() {
                return Err(self.err_here("a term after '-'"));
            }
        }
        let start = self.i;
        let name: String = self.c[start..].iter().take_while(|c| c.is_ascii_lowercase()).collect();
        let term = if !name.is_empty() && self.c.get(start + name.len()) == Some(&':') {
            let field = Field::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| self.err_here("a field or an id"))?;
            if !field.in_scope(self.scope) {
                return Err(self.err_here("a field this list offers"));
            }
            self.i += name.len() + 1;
            self.field(field)?
        } else {
            Term::Id(self.id()?)
        };
        if !self.at_end_of_term() {
            return Err(self.err_here("a space before the next term"));
        }
        Ok(Clause { negated, term })
    }

    /// A bare word: an id or its start (quoted, or up to the next space).
    fn id(&mut self) -> Result<String, QueryError> {
        if self.peek() == Some('"') {
            return Ok(self.quoted()?.text);
        }
        let at = self.i;
        let word: String = self.c[at..].iter().take_while(|c| !c.is_whitespace()).collect();
        if word.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err(self.err_here("an id (letters, digits, '-', ':', '{', '}')"));
        }
        self.limit(&word, at)?;
        self.i += word.chars().count();
        Ok(word)
    }

    fn limit(&self, text: &str, at: usize) -> Result<(), QueryError> {
        if text.chars().count() > MAX_VALUE {
            let mut e = self.err(&format!("a value of at most {MAX_VALUE} characters"), &format!("{} characters", text.chars().count()));
            e.at = at;
            return Err(e);
        }
        Ok(())
    }

    /// `"…"` with `\"` and `\\`.
    fn quoted(&mut self) -> Result<Value, QueryError> {
        let at = self.i;
        self.i += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("a closing '\"'", "the end of the query")),
                Some('"') => break,
                Some('\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(c @ ('"' | '\\')) => text.push(c),
                        _ => return Err(self.err_here("'\\\"' or '\\\\' after a backslash")),
                    }
                }
                Some(c) if c.is_control() => return Err(self.err_here("a printable character")),
                Some(c) => text.push(c),
            }
            self.i += 1;
        }
        self.i += 1;
        self.limit(&text, at)?;
        Ok(Value { text, at, quoted: true })
    }

    /// One value, quoted or bare; a bare one ends at a space or a comma
    /// (and, with `star`, may end with `*`).
    fn value(&mut self, what: &str, star: bool) -> Result<Value, QueryError> {
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let at = self.i;
        let mut text = String::new();
        while let Some(c) = self.peek().filter(|c| bare_char(*c) && (star || *c != '*')) {
            text.push(c);
            self.i += 1;
            if c == '*' {
                break;
            }
        }
        if text.is_empty() || text == "*" {
            self.i = at;
            return Err(self.err_here(what));
        }
        self.limit(&text, at)?;
        Ok(Value { text, at, quoted: false })
    }

    /// `a,b,c`: at most [`MAX_ALTERNATIVES`] values, each read by `one`.
    fn list<T>(&mut self, what: &str, star: bool, one: impl Fn(&Self, Value) -> Result<T, QueryError>) -> Result<Vec<T>, QueryError> {
        let mut out = Vec::new();
        loop {
            if out.len() == MAX_ALTERNATIVES {
                return Err(self.err_here(&format!("at most {MAX_ALTERNATIVES} alternatives")));
            }
            let mut v = self.value(what, star)?;
            if star && v.quoted && self.peek() == Some('*') {
                self.i += 1;
                v.text.push('*');
                v.quoted = false;
            }
            out.push(one(self, v)?);
            if self.peek() != Some(',') {
                return Ok(out);
            }
            self.i += 1;
        }
    }

    fn field(&mut self, field: Field) -> Result<Term, QueryError> {
        let names = |v: Value| v.text;
        Ok(match field {
            Field::State if self.scope == Scope::Flows => Term::FlowState(self.list("a flow state", false, |r, v| {
                FlowPick::ALL.into_iter().find(|p| p.as_str() == v.text).ok_or_else(|| r.refuse(&v, &one_of(FlowPick::ALL.map(FlowPick::as_str))))
            })?),
            Field::State => Term::State(self.list("a state", false, |r, v| {
                ExecState::parse(&v.text).ok_or_else(|| r.refuse(&v, &one_of(ExecState::ALL.map(ExecState::as_str))))
            })?),
            Field::Kind => Term::Kind(self.list("a kind (a trailing * for a prefix)", true, |_, v| Ok(pattern(v)))?),
            Field::FlowKind => Term::FlowKind(self.list("a flow kind (a trailing * for a prefix)", true, |_, v| Ok(pattern(v)))?),
            Field::Lane => Term::Lane(self.list("a lane", false, |_, v| Ok(names(v)))?),
            Field::Ns => Term::Ns(self.list("a namespace", false, |_, v| Ok(names(v)))?),
            Field::Flow => Term::Flow(self.list("a flow id", false, |_, v| Ok(names(v)))?),
            Field::Worker => Term::Worker(self.list("a worker instance id", false, |_, v| Ok(names(v)))?),
            Field::Blocked => Term::Blocked(self.list("a blocking family", false, |r, v| {
                BlockedFamily::parse(&v.text).ok_or_else(|| r.refuse(&v, &one_of(BlockedFamily::ALL.map(BlockedFamily::as_str))))
            })?),
            Field::Tag => self.tag()?,
            Field::Created => Term::Created(self.time()?),
            Field::Finished => Term::Finished(self.time()?),
            Field::Attempts => self.attempts()?,
        })
    }

    fn refuse(&self, v: &Value, expected: &str) -> QueryError {
        let mut e = self.err(expected, &format!("{:?}", v.text));
        e.at = v.at;
        e
    }

    fn tag(&mut self) -> Result<Term, QueryError> {
        let at = self.i;
        let key: String = self.c[at..].iter().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.')).collect();
        if !valid_tag_key(&key) {
            return Err(self.err_here("a tag key such as shop.order_id (namespace '.' name, lower case)"));
        }
        self.i += key.chars().count();
        if self.peek() != Some('=') {
            return Ok(Term::Tag { key, value: None });
        }
        self.i += 1;
        let v = if self.peek() == Some('"') { self.quoted()? } else { self.value("a tag value after '='", false)? };
        Ok(Term::Tag { key, value: Some(v.text) })
    }

    fn cmp(&mut self) -> Cmp {
        let (cmp, len) = match (self.peek(), self.c.get(self.i + 1)) {
            (Some('<'), Some('=')) => (Cmp::Le, 2),
            (Some('>'), Some('=')) => (Cmp::Ge, 2),
            (Some('<'), _) => (Cmp::Lt, 1),
            (Some('>'), _) => (Cmp::Gt, 1),
            (Some('='), _) => (Cmp::Eq, 1),
            _ => (Cmp::Eq, 0),
        };
        self.i += len;
        cmp
    }

    fn time(&mut self) -> Result<TimeTerm, QueryError> {
        let start = self.i;
        let cmp = self.cmp();
        let compared = self.i > start;
        let word: String = self.c[self.i..].iter().take_while(|c| !c.is_whitespace()).collect();
        let term = if let Some(age) = Age::parse(&word) {
            if cmp == Cmp::Eq {
                return Err(self.err_here("'<' or '>' before an age (created:<1h is within the last hour)"));
            }
            TimeTerm::Age(cmp, age)
        } else if let Some(t) = parse_instant(&word) {
            TimeTerm::Instant(cmp, t)
        } else if let Some(day) = parse_date(&word) {
            if compared && cmp != Cmp::Eq { TimeTerm::Instant(cmp, day) } else { TimeTerm::Day(day) }
        } else {
            return Err(self.err_here("a time: an age such as <1h or >30m, a date 2026-12-01, or an instant >2026-12-01T10:00Z"));
        };
        self.i += word.chars().count();
        Ok(term)
    }

    fn attempts(&mut self) -> Result<Term, QueryError> {
        let cmp = self.cmp();
        let digits: String = self.c[self.i..].iter().take_while(|c| c.is_ascii_digit()).take(7).collect();
        match digits.parse::<u32>() {
            Ok(n) if n <= 100_000 => {
                self.i += digits.len();
                Ok(Term::Attempts(cmp, n))
            }
            _ => Err(self.err_here("a number of attempts such as >2, <=3 or 1")),
        }
    }
}

fn pattern(v: Value) -> Pattern {
    match v.text.strip_suffix('*') {
        Some(prefix) if !v.quoted => Pattern::Prefix(prefix.to_owned()),
        _ => Pattern::Exact(v.text),
    }
}

fn one_of<const N: usize>(names: [&str; N]) -> String {
    format!("one of {}", names.join(", "))
}
