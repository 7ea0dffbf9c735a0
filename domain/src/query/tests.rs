//! The query language's reader: each field, its refusals and limits, and a
//! fuzz of random input (never a panic; every query read prints back to
//! itself).
use super::*;

fn q(text: &str) -> Query {
    Query::parse(text, Scope::Executions).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn refused(text: &str, scope: Scope) -> QueryError {
    Query::parse(text, scope).expect_err(text)
}

fn terms(text: &str) -> Vec<Term> {
    q(text).clauses.into_iter().map(|c| c.term).collect()
}

#[test]
fn every_field_reads() {
    assert_eq!(terms("state:failed,cancelled"), [Term::State(vec![ExecState::Failed, ExecState::Cancelled])]);
    assert_eq!(terms("kind:render-pdfs kind:deploy*"), [
        Term::Kind(vec![Pattern::Exact("render-pdfs".into())]),
        Term::Kind(vec![Pattern::Prefix("deploy".into())])
    ]);
    assert_eq!(terms("flowkind:billing.invoice-run"), [Term::FlowKind(vec![Pattern::Exact("billing.invoice-run".into())])]);
    assert_eq!(terms("lane:deploy ns:payments flow:6a1b"), [
        Term::Lane(vec!["deploy".into()]),
        Term::Ns(vec!["payments".into()]),
        Term::Flow(vec!["6a1b".into()])
    ]);
    assert_eq!(terms("tag:shop.order_id=A-1234 tag:shop.order_id"), [
        Term::Tag { key: "shop.order_id".into(), value: Some("A-1234".into()) },
        Term::Tag { key: "shop.order_id".into(), value: None }
    ]);
    let t0 = time::parse_instant("2026-12-01T10:00Z").unwrap();
    assert_eq!(terms("created:>2026-12-01T10:00Z finished:<30m"), [
        Term::Created(TimeTerm::Instant(Cmp::Gt, t0)),
        Term::Finished(TimeTerm::Age(Cmp::Lt, Age { n: 30, unit: Unit::Minutes }))
    ]);
    assert_eq!(terms("attempts:>2 blocked:budget,quota worker:w-7"), [
        Term::Attempts(Cmp::Gt, 2),
        Term::Blocked(vec![BlockedFamily::Budget, BlockedFamily::Quota]),
        Term::Worker(vec!["w-7".into()])
    ]);
    assert_eq!(terms("{fp:3}:0b6e 0b6e"), [Term::Id("{fp:3}:0b6e".into()), Term::Id("0b6e".into())]);
}

#[test]
fn negation_quotes_and_flow_states() {
    let neg = q("-state:completed \"tag:x\" tag:shop.customer=\"Ada \\\"L\\\"\"");
    assert!(neg.clauses[0].negated);
    assert_eq!(neg.clauses[1].term, Term::Id("tag:x".into()));
    assert_eq!(neg.clauses[2].term, Term::Tag { key: "shop.customer".into(), value: Some("Ada \"L\"".into()) });
    let flows = Query::parse("state:open,failed flowkind:billing*", Scope::Flows).unwrap();
    assert_eq!(flows.clauses[0].term, Term::FlowState(vec![FlowPick::Open, FlowPick::Failed]));
    assert_eq!(FlowPick::Active.stored(), ["open", "running", "blocked"]);
}

#[test]
fn ages_mean_within_and_beyond() {
    let now = 10 * 3_600_000;
    let within = TimeTerm::Age(Cmp::Lt, Age { n: 1, unit: Unit::Hours });
    assert_eq!(within.range(now), (Some(9 * 3_600_000 + 1), None));
    let older = TimeTerm::Age(Cmp::Gt, Age { n: 1, unit: Unit::Hours });
    assert_eq!(older.range(now), (None, Some(9 * 3_600_000)));
    let day = q("created:2026-12-01").clauses[0].term.clone();
    let start = time::parse_date("2026-12-01").unwrap();
    assert_eq!(day, Term::Created(TimeTerm::Day(start)));
}

#[test]
fn refusals_say_where_and_what() {
    let e = refused("state:runing", Scope::Executions);
    assert_eq!(e.at, 6);
    assert!(e.to_string().contains("character 7"), "{e}");
    assert!(e.to_string().contains("one of waiting"), "{e}");
    assert!(e.to_string().contains("Fields: state, kind, flowkind"), "{e}");
    assert_eq!(refused("colour:red", Scope::Executions).expected, "a field or an id");
    assert_eq!(refused("kind:x", Scope::Flows).expected, "a field this list offers");
    assert_eq!(refused("tag:Shop.id=1", Scope::Executions).at, 4);
    assert_eq!(refused("tag:shop=1", Scope::Executions).at, 4);
    assert_eq!(refused("created:1h", Scope::Executions).at, 8);
    assert_eq!(refused("created:yesterday", Scope::Executions).at, 8);
    assert_eq!(refused("attempts:many", Scope::Executions).at, 9);
    assert_eq!(refused("blocked:moon", Scope::Executions).at, 8);
    assert_eq!(refused("lane:", Scope::Executions).at, 5);
    assert_eq!(refused("lane:a,", Scope::Executions).at, 7);
    assert_eq!(refused("- state:failed", Scope::Executions).at, 1);
    assert_eq!(refused("kind:\"open", Scope::Executions).expected, "a closing '\"'");
    assert_eq!(refused("state:failed,x", Scope::Executions).at, 13);
    assert_eq!(refused("lane:a\"b", Scope::Executions).expected, "a space before the next term");
}

#[test]
fn limits_are_refused() {
    let long = "a".repeat(MAX_CHARS + 1);
    assert!(refused(&long, Scope::Executions).expected.contains("512 characters"));
    let many = vec!["lane:a"; MAX_TERMS + 1].join(" ");
    assert!(refused(&many, Scope::Executions).expected.contains("16 terms"));
    assert!(Query::parse(&vec!["lane:a"; MAX_TERMS].join(" "), Scope::Executions).is_ok());
    let alts = format!("lane:{}", vec!["a"; MAX_ALTERNATIVES + 1].join(","));
    assert!(refused(&alts, Scope::Executions).expected.contains("alternatives"));
    let value = format!("lane:{}", "x".repeat(MAX_VALUE + 1));
    assert_eq!(refused(&value, Scope::Executions).at, 5);
}

#[test]
fn printing_reads_back() {
    for text in [
        "state:failed,cancelled -kind:deploy* tag:shop.order_id=A-1234",
        "tag:shop.customer=\"Ada Lovelace\" created:>2026-12-01T10:00Z finished:<30m attempts:>=2",
        "{fp:1}:abc -\"-x\" lane:\"a,b\" kind:\"x y\"* blocked:operator created:2026-01-31 worker:w1",
    ] {
        let parsed = q(text);
        assert_eq!(q(&parsed.to_string()), parsed, "{text} printed as {parsed}");
    }
}

/// A small deterministic generator (xorshift), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn fuzz_never_panics_and_what_reads_prints_back() {
    let pieces = [
        "state:", "kind:", "flowkind:", "lane:", "ns:", "flow:", "tag:", "created:", "finished:", "attempts:", "blocked:", "worker:", "-", "\"",
        "\\", ",", "*", "=", "<", ">", "<=", " ", "  ", "\t", "a", "shop.order_id", "failed", "open", "budget", "1h", "2026-12-01", "T10:00Z",
        "é", "·", "{fp:0}:", "0b6e", "a*b", "\u{0}", "\n", ":", "x*", "99999999999", "-1",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut read, mut refused) = (0, 0);
    for _ in 0..60_000 {
        let n = 1 + rng.next() % 12;
        let text: String = (0..n).map(|_| rng.pick(&pieces)).collect();
        for scope in [Scope::Executions, Scope::Flows, Scope::Approvals] {
            match Query::parse(&text, scope) {
                Ok(query) => {
                    read += 1;
                    let again = Query::parse(&query.to_string(), scope).unwrap_or_else(|e| panic!("{text:?} printed as {query} refused: {e}"));
                    assert_eq!(again, query, "{text:?}");
                }
                Err(e) => {
                    refused += 1;
                    assert!(e.at <= text.chars().count(), "{text:?}: {e:?}");
                    assert!(!e.expected.is_empty());
                }
            }
        }
    }
    assert!(read > 1_000 && refused > 1_000, "read {read}, refused {refused}");
}

#[test]
fn a_link_adds_its_term_once_and_reads_back_as_that_term() {
    let q = adding("state:failed", Field::Kind, "render pdfs", None);
    assert_eq!(q, "state:failed kind:\"render pdfs\"");
    assert_eq!(adding(&q, Field::Kind, "render pdfs", None), q, "already there: unchanged");
    let parsed = Query::parse(&q, Scope::Executions).unwrap();
    assert!(parsed.positive().any(|t| *t == Term::Kind(vec![Pattern::Exact("render pdfs".into())])), "{parsed:?}");
    let q = adding("", Field::Tag, "shop.order_id", Some("A-1 2"));
    let parsed = Query::parse(&q, Scope::Executions).unwrap();
    assert!(parsed.positive().any(|t| *t == Term::Tag { key: "shop.order_id".into(), value: Some("A-1 2".into()) }), "{q}");
    let q = adding("", Field::FlowKind, "deploy*", None);
    let parsed = Query::parse(&q, Scope::Flows).unwrap();
    assert!(parsed.positive().any(|t| *t == Term::FlowKind(vec![Pattern::Exact("deploy*".into())])), "a star in a kind is not a prefix: {q}");
}
