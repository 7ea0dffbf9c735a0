//! The one broadcast bus of a board process.
//!
//! Every event gets the next `seq` (consecutive, starting at 1) and the
//! process `epoch`; `streams` status frames carry seq 0 (outside the
//! sequence). The bus keeps the last [`REPLAY`] frames so a client
//! reconnecting with `after` gets exactly what it missed, or a `resync` when
//! `after` is older than the buffer or from another epoch (another replica
//! or a restarted board). Live fan-out is a `tokio::sync::broadcast` channel
//! of [`FANOUT`] frames: each client reads at its own pace and one that falls
//! further behind than that is told to resync — it never slows the others or
//! the engine readers.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use ff_board_app::live::{Frame, LiveEvent};
use tokio::sync::{broadcast, watch};

/// Frames kept for resume.
pub const REPLAY: usize = 4096;
/// Frames a client may lag behind before it gets `resync`.
pub const FANOUT: usize = 1024;

pub struct Bus {
    epoch: String,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Published>>,
    /// `true` once the board shuts down: every socket closes (1012).
    closing: watch::Sender<bool>,
}

/// A frame and its JSON, serialized once for every client.
#[derive(Debug)]
pub struct Published {
    pub frame: Frame,
    pub json: String,
}

impl std::ops::Deref for Published {
    type Target = Frame;
    fn deref(&self) -> &Frame {
        &self.frame
    }
}

struct Inner {
    next_seq: u64,
    ring: VecDeque<Arc<Published>>,
    /// The latest engine-reader state frame, sent to every new subscriber.
    streams: Option<Arc<Published>>,
}

/// What a new subscriber starts with.
pub struct Subscription {
    /// Missed frames to send first (resume), in order.
    pub backlog: Vec<Arc<Published>>,
    /// Set when the requested resume point cannot be served.
    pub resync: Option<String>,
    /// The last event seq published when the subscription began.
    pub last_seq: u64,
    pub rx: broadcast::Receiver<Arc<Published>>,
}

impl Bus {
    pub fn new() -> Arc<Self> {
        Self::with_epoch(new_epoch())
    }

    pub fn with_epoch(epoch: String) -> Arc<Self> {
        let (tx, _) = broadcast::channel(FANOUT);
        let closing = watch::Sender::new(false);
        Arc::new(Bus { epoch, inner: Mutex::new(Inner { next_seq: 1, ring: VecDeque::with_capacity(REPLAY), streams: None }), tx, closing })
    }

    /// The board is shutting down: every session closes its socket.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Changes to `true` when [`Bus::close`] is called.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Stamp and fan out one event. A `streams` status frame is outside
    /// the sequence: seq 0, not kept for resume (the latest is sent to each
    /// new subscriber instead), so a client's last seq never goes back.
    pub fn publish(&self, at: i64, mut event: LiveEvent) -> Arc<Published> {
        let mut inner = self.inner.lock().expect("bus lock");
        let status = matches!(event, LiveEvent::Streams { .. });
        if let LiveEvent::Streams { last_seq, .. } = &mut event {
            *last_seq = inner.next_seq - 1;
        }
        let seq = if status { 0 } else { inner.next_seq };
        let frame = Frame { seq, epoch: self.epoch.clone(), at, event };
        let json = serde_json::to_string(&frame).unwrap_or_default();
        let frame = Arc::new(Published { frame, json });
        if status {
            inner.streams = Some(frame.clone());
        } else {
            inner.next_seq += 1;
            if inner.ring.len() == REPLAY {
                inner.ring.pop_front();
            }
            inner.ring.push_back(frame.clone());
        }
        // No receivers is fine: the frame stays in the replay ring.
        let _ = self.tx.send(frame.clone());
        frame
    }

    /// The latest engine-reader state frame.
    pub fn streams(&self) -> Option<Arc<Published>> {
        self.inner.lock().expect("bus lock").streams.clone()
    }

    /// The seq of the last frame published (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.inner.lock().expect("bus lock").next_seq - 1
    }

    /// Subscribe, resuming after `after` of `epoch` when given. Backlog and
    /// receiver are taken under one lock, so nothing falls between them.
    /// Clients subscribed right now.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    pub fn subscribe(&self, after: Option<u64>, epoch: Option<&str>) -> Subscription {
        let inner = self.inner.lock().expect("bus lock");
        let rx = self.tx.subscribe();
        let last_seq = inner.next_seq - 1;
        let Some(after) = after else {
            return Subscription { backlog: vec![], resync: None, last_seq, rx };
        };
        if epoch.is_some_and(|e| e != self.epoch) {
            return Subscription { backlog: vec![], resync: Some("another board process (epoch changed)".into()), last_seq, rx };
        }
        if after > last_seq {
            return Subscription {
                backlog: vec![],
                resync: Some(format!("after {after} is ahead of this board ({last_seq})")),
                last_seq,
                rx,
            };
        }
        let oldest = inner.ring.front().map(|f| f.seq).unwrap_or(inner.next_seq);
        if after + 1 < oldest {
            return Subscription {
                backlog: vec![],
                resync: Some(format!("after {after} is older than the replay buffer (oldest {oldest})")),
                last_seq,
                rx,
            };
        }
        let backlog = inner.ring.iter().filter(|f| f.seq > after).cloned().collect();
        Subscription { backlog, resync: None, last_seq, rx }
    }
}

/// A process epoch: random, so replicas and restarts differ.
fn new_epoch() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:04x}", n & 0xffff_ffff_ffff, std::process::id() & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: u64) -> LiveEvent {
        LiveEvent::Completion { execution_id: format!("e{i}"), flow_id: None, outcome: "success".into() }
    }

    #[test]
    fn seq_is_consecutive_and_resume_replays_exactly() {
        let bus = Bus::with_epoch("ep".into());
        for i in 0..10 {
            assert_eq!(bus.publish(0, ev(i)).seq, i + 1);
        }
        // A status frame does not take a seq nor enter the replay ring.
        let status = bus.publish(0, LiveEvent::Streams { streams: vec![], last_seq: 99 });
        assert_eq!(status.seq, 0);
        assert!(matches!(status.event, LiveEvent::Streams { last_seq: 10, .. }), "stamped with the last event seq");
        assert_eq!(bus.last_seq(), 10);
        assert_eq!(bus.publish(0, ev(10)).seq, 11);
        let s = bus.subscribe(Some(6), Some("ep"));
        assert!(s.resync.is_none());
        assert_eq!(s.backlog.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![7, 8, 9, 10, 11]);
        assert!(bus.subscribe(Some(11), Some("ep")).backlog.is_empty());
        assert!(bus.streams().is_some());
    }

    #[test]
    fn resync_when_out_of_window_or_other_epoch() {
        let bus = Bus::with_epoch("ep".into());
        for i in 0..(REPLAY as u64 + 5) {
            bus.publish(0, ev(i));
        }
        assert!(bus.subscribe(Some(1), Some("ep")).resync.is_some());
        assert!(bus.subscribe(Some(6), Some("ep")).resync.is_none());
        assert!(bus.subscribe(Some(6), Some("other")).resync.is_some());
        assert!(bus.subscribe(Some(u64::MAX - 1), None).resync.is_some());
    }
}
