//! The state of one of the board's engine readers (completion, lease,
//! signal), as the header's indicator, `/live` and `/healthz` show it.
use serde::{Deserialize, Serialize};

/// State of one reader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamState {
    /// Events arrive as the store pushes them or as a blocking read returns.
    Live,
    /// Up, but sourced by polling the store every `every_ms` (no push
    /// source, for the reason `why`): events arrive up to that late.
    Polling { every_ms: u64, why: String },
    Reconnecting { error: String },
}

impl StreamState {
    /// The state in words (the header's indicator on hover, `/live`, `/healthz`).
    pub fn describe(&self) -> String {
        match self {
            StreamState::Live => "live".to_owned(),
            StreamState::Polling { .. } => format!("{} ({})", self.short(), self.why()),
            StreamState::Reconnecting { error } => format!("reconnecting: {error}"),
        }
    }

    /// The state without its reason (the header's indicator).
    pub fn short(&self) -> String {
        match self {
            StreamState::Live => "live".to_owned(),
            StreamState::Polling { every_ms, .. } => format!("polling every {every_ms} ms"),
            StreamState::Reconnecting { .. } => "reconnecting".to_owned(),
        }
    }

    fn why(&self) -> &str {
        match self {
            StreamState::Polling { why, .. } => why,
            StreamState::Reconnecting { error } => error,
            StreamState::Live => "",
        }
    }

    /// Live or polling: events are being read.
    pub fn is_up(&self) -> bool {
        matches!(self, StreamState::Live | StreamState::Polling { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_wire() {
        let p = StreamState::Polling { every_ms: 1000, why: "no keyspace notifications".into() };
        assert_eq!(p.describe(), "polling every 1000 ms (no keyspace notifications)");
        assert_eq!(p.short(), "polling every 1000 ms");
        assert!(p.is_up() && StreamState::Live.is_up());
        let r = StreamState::Reconnecting { error: "starting".into() };
        assert!(!r.is_up());
        assert_eq!(r.describe(), "reconnecting: starting");
        assert_eq!(serde_json::to_string(&StreamState::Live).unwrap(), r#""live""#);
        let back: StreamState = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
