//! The live event protocol of `/ws`, shared by the server and the browser.
//!
//! The client's first text frame is a [`ClientMsg::Subscribe`]; the server
//! then sends one JSON [`Frame`] per text frame. `seq` is consecutive per
//! board process (each event is the previous + 1; `streams` status frames
//! carry 0, outside the sequence) and `epoch` names the
//! process, so a client sees any gap itself and a client that reconnects to
//! another replica gets a `resync` instead of wrong events.
use serde::{Deserialize, Serialize};

/// What a client sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    Subscribe {
        /// `all`, `flow:<flow_id>`, `execution:<execution_id>`, `approvals`, `leases`, `budgets`.
        topics: Vec<String>,
        /// Resume after this seq (events of the same epoch only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<String>,
    },
}

/// One server frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub seq: u64,
    pub epoch: String,
    /// When the engine recorded the event (ms); board time for board events.
    pub at: i64,
    #[serde(flatten)]
    pub event: LiveEvent,
}

/// The events, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    Completion { execution_id: String, flow_id: Option<String>, outcome: String },
    Lease {
        execution_id: String,
        flow_id: Option<String>,
        /// acquired / renewed / expired / reclaimed / revoked / released
        event: String,
        lease_id: Option<String>,
        holder: Option<String>,
    },
    Signal {
        execution_id: String,
        flow_id: Option<String>,
        signal_id: String,
        waitpoint_id: Option<String>,
        source_identity: Option<String>,
        effect: String,
    },
    /// Events were lost for this client (buffer overflow, replay window
    /// passed, other replica, engine reader reconnect): refetch.
    Resync { reason: String, missed: Option<u64> },
    /// The engine readers' states, by stream: `live` or `reconnecting: …`.
    /// Outside the event sequence (the frame's seq is 0); `last_seq` is the
    /// last event published when it was sent, so a client that has no
    /// position yet can resume from there after a reconnect.
    Streams {
        streams: Vec<(String, ff_board_domain::StreamState)>,
        #[serde(default)]
        last_seq: u64,
    },
}

impl LiveEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            LiveEvent::Completion { .. } => "completion",
            LiveEvent::Lease { .. } => "lease",
            LiveEvent::Signal { .. } => "signal",
            LiveEvent::Resync { .. } => "resync",
            LiveEvent::Streams { .. } => "streams",
        }
    }

    pub fn execution_id(&self) -> Option<&str> {
        match self {
            LiveEvent::Completion { execution_id, .. }
            | LiveEvent::Lease { execution_id, .. }
            | LiveEvent::Signal { execution_id, .. } => Some(execution_id),
            _ => None,
        }
    }

    pub fn flow_id(&self) -> Option<&str> {
        match self {
            LiveEvent::Completion { flow_id, .. }
            | LiveEvent::Lease { flow_id, .. }
            | LiveEvent::Signal { flow_id, .. } => flow_id.as_deref(),
            _ => None,
        }
    }

    /// Whether a client subscribed to `topic` receives this event. Resync
    /// and stream-state frames go to everyone.
    pub fn matches(&self, topic: &str) -> bool {
        match (self, topic) {
            (LiveEvent::Resync { .. } | LiveEvent::Streams { .. }, _) | (_, "all") => true,
            (LiveEvent::Lease { .. }, "leases") => true,
            (LiveEvent::Signal { .. } | LiveEvent::Lease { .. } | LiveEvent::Completion { .. }, "approvals") => true,
            (LiveEvent::Completion { .. }, "budgets") => true,
            _ => match topic.split_once(':') {
                Some(("flow", id)) => self.flow_id() == Some(id),
                Some(("execution", id)) => self.execution_id() == Some(id),
                _ => false,
            },
        }
    }
}

/// Whether `topic` is one the server understands.
pub fn valid_topic(topic: &str) -> bool {
    matches!(topic, "all" | "approvals" | "leases" | "budgets")
        || matches!(topic.split_once(':'), Some(("flow" | "execution", id)) if !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_wire_shape() {
        let f = Frame {
            seq: 7,
            epoch: "e1".into(),
            at: 5,
            event: LiveEvent::Completion { execution_id: "{fp:1}:x".into(), flow_id: Some("f".into()), outcome: "success".into() },
        };
        let v: serde_json::Value = serde_json::to_value(&f).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["kind"], "completion");
        assert_eq!(v["execution_id"], "{fp:1}:x");
        assert_eq!(v["flow_id"], "f");
        assert_eq!(v["at"], 5);
        assert_eq!(serde_json::from_value::<Frame>(v).unwrap(), f);
        let sub: ClientMsg = serde_json::from_str(r#"{"type":"subscribe","topics":["all"],"after":3}"#).unwrap();
        assert_eq!(sub, ClientMsg::Subscribe { topics: vec!["all".into()], after: Some(3), epoch: None });
    }

    #[test]
    fn topics_filter() {
        let e = LiveEvent::Lease { execution_id: "x".into(), flow_id: Some("f".into()), event: "acquired".into(), lease_id: None, holder: None };
        assert!(e.matches("all") && e.matches("leases") && e.matches("flow:f") && e.matches("execution:x"));
        assert!(!e.matches("flow:g") && !e.matches("budgets"));
        assert!(valid_topic("flow:abc") && !valid_topic("flow:") && !valid_topic("nope"));
    }
}
