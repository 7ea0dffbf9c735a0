//! The outcome of an audit entry, decoded from the text the board stores
//! in the deployment's store (`"ok: …"`, `"error: …"`, `"refused"`, or
//! nothing yet) in one place: [`AuditOutcome::decode`] and
//! [`AuditOutcome::encode`] are the only readers and writers of that text.
use serde::{Deserialize, Serialize};

/// What became of an audited attempt. On the wire it is its stored text
/// (`null` while in progress), as the board's JSON always had it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditOutcome {
    /// The engine call has not finished (yet).
    InProgress,
    /// The engine did it; the detail it answered.
    Done(String),
    /// The engine call failed (or meant "nothing happened"); why.
    Failed(String),
    /// The board refused the request (sign-in, CSRF, role, audit read).
    Refused,
    /// A stored text this board does not know, shown as itself.
    Other(String),
}

/// Audit actions of refusals start with this (`refused_sign_in`, …).
pub const REFUSAL_PREFIX: &str = "refused_";

impl AuditOutcome {
    /// The text stored for this outcome (`None` while in progress).
    pub fn encode(&self) -> Option<String> {
        match self {
            AuditOutcome::InProgress => None,
            AuditOutcome::Done(detail) => Some(format!("ok: {detail}")),
            AuditOutcome::Failed(why) => Some(format!("error: {why}")),
            AuditOutcome::Refused => Some("refused".into()),
            AuditOutcome::Other(raw) => Some(raw.clone()),
        }
    }

    /// The outcome of an entry of `action` whose stored text is `raw`. A
    /// refusal is written in two steps like any entry, but it was refused
    /// when it was written: never "in progress".
    pub fn decode(action: &str, raw: Option<&str>) -> AuditOutcome {
        match raw {
            None if action.starts_with(REFUSAL_PREFIX) => AuditOutcome::Refused,
            None => AuditOutcome::InProgress,
            Some("refused") => AuditOutcome::Refused,
            Some("ok") => AuditOutcome::Done(String::new()),
            Some(raw) => match (raw.strip_prefix("ok: "), raw.strip_prefix("error: ")) {
                (Some(detail), _) => AuditOutcome::Done(detail.to_owned()),
                (_, Some(why)) => AuditOutcome::Failed(why.to_owned()),
                _ => AuditOutcome::Other(raw.to_owned()),
            },
        }
    }

    /// A failed or refused attempt (shown in red; a failed one may be retried).
    pub fn is_failure(&self) -> bool {
        matches!(self, AuditOutcome::Failed(_) | AuditOutcome::Refused)
    }

    /// How the audit table shows it.
    pub fn label(&self) -> String {
        match self {
            AuditOutcome::InProgress => "in progress…".into(),
            other => other.encode().unwrap_or_default(),
        }
    }
}

impl Serialize for AuditOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.encode().serialize(s)
    }
}

impl<'de> Deserialize<'de> for AuditOutcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Option::<String>::deserialize(d)?;
        Ok(AuditOutcome::decode("", raw.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips() {
        for o in [
            AuditOutcome::Done("3 members cancelled".into()),
            AuditOutcome::Done(String::new()),
            AuditOutcome::Failed("engine: lease not held".into()),
            AuditOutcome::Refused,
            AuditOutcome::Other("something newer".into()),
        ] {
            assert_eq!(AuditOutcome::decode("cancel", o.encode().as_deref()), o);
        }
        assert_eq!(AuditOutcome::decode("cancel", None), AuditOutcome::InProgress);
        assert_eq!(AuditOutcome::decode("refused_csrf", None), AuditOutcome::Refused, "a refusal is never in progress");
        assert_eq!(AuditOutcome::decode("cancel", Some("ok")), AuditOutcome::Done(String::new()));
        assert!(AuditOutcome::Failed("x".into()).is_failure() && AuditOutcome::Refused.is_failure());
        assert!(!AuditOutcome::Done("x".into()).is_failure() && !AuditOutcome::InProgress.is_failure());
        assert_eq!(AuditOutcome::InProgress.label(), "in progress…");
        assert_eq!(AuditOutcome::Failed("x".into()).label(), "error: x");
        // The wire form is the stored text, null while in progress.
        assert_eq!(serde_json::to_string(&AuditOutcome::InProgress).unwrap(), "null");
        assert_eq!(serde_json::to_string(&AuditOutcome::Refused).unwrap(), "\"refused\"");
        let back: AuditOutcome = serde_json::from_str("\"ok: done\"").unwrap();
        assert_eq!(back, AuditOutcome::Done("done".into()));
    }
}
