//! The readers' side of the keyspace watcher ([`super::notify`]), one loop
//! for the lease and the signal reader: follow the notices (read the
//! streams their keys name, batching what is queued), catch up once from
//! the positions each time the watcher's view becomes whole, and poll while
//! it has a hole and a browser watches.
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::notify::Notice;
use crate::live::Feed;
use crate::store_error::StoreError;

/// What a reader does with the notices. Each call answers Ok(false) when
/// the consumer is gone.
#[async_trait]
pub(super) trait Follower: Send {
    /// The streams of one read.
    type Batch: Default + Send;
    /// Add the stream a written `key` names.
    fn add(&self, batch: &mut Self::Batch, key: &str);
    /// No more streams fit in `batch`.
    fn full(&self, batch: &Self::Batch) -> bool;
    /// Read the streams of `batch` and emit their events.
    async fn read(&mut self, batch: Self::Batch, feed: &mut Feed) -> Result<bool, StoreError>;
    /// Read what was written since the positions (the view had a hole).
    async fn catch_up(&mut self, feed: &mut Feed) -> Result<bool, StoreError>;
    /// One poll, while the view has a hole.
    async fn poll(&mut self, feed: &mut Feed) -> Result<bool, StoreError>;
}

/// How a reader learns which streams were written.
pub(super) struct Source {
    notices: Option<mpsc::Receiver<Notice>>,
    /// Following the watcher's keys (else polling).
    pub notified: bool,
    /// Why it polls.
    pub why: String,
    /// Poll interval without notifications.
    every: Duration,
}

impl Source {
    pub fn new(notices: Option<mpsc::Receiver<Notice>>, every: Duration) -> Self {
        Source { notices, notified: false, why: "waiting for keyspace notifications".into(), every }
    }

    /// Say how the stream is read now: live, or polling and why.
    pub fn show(&self, feed: &Feed) {
        if self.notified {
            feed.live();
        } else {
            feed.polling(self.every, self.why.clone());
        }
    }

    async fn next(&mut self) -> Option<Notice> {
        match self.notices.as_mut() {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    }
}

/// Follow the notices, or poll every `src.every` while the view has a
/// hole and someone watches: Ok when the consumer is gone, Err when a read
/// failed (the caller reconnects and calls again).
pub(super) async fn follow<F: Follower>(src: &mut Source, reader: &mut F, feed: &mut Feed) -> Result<(), StoreError> {
    let mut tick = tokio::time::interval(src.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let polling = !src.notified;
        let go = tokio::select! {
            _ = feed.closed() => return Ok(()),
            n = src.next() => match n {
                Some(Notice::Key(key)) if src.notified => keys(src, reader, key, feed).await?,
                Some(Notice::Key(_)) => true,
                Some(other) => coverage(src, reader, other, feed).await?,
                None => {
                    src.notices = None;
                    src.notified = false;
                    src.why = "keyspace watcher stopped".into();
                    src.show(feed);
                    true
                }
            },
            // Polling is costly: only while someone watches. The reader
            // keeps its positions meanwhile; what happens is read once
            // someone watches again.
            _ = tick.tick(), if polling => !feed.is_wanted() || reader.poll(feed).await?,
        };
        if !go {
            return Ok(());
        }
    }
}

/// Read the stream of `key` and whatever else is queued, in one read.
async fn keys<F: Follower>(src: &mut Source, reader: &mut F, key: String, feed: &mut Feed) -> Result<bool, StoreError> {
    let mut batch = F::Batch::default();
    reader.add(&mut batch, &key);
    let mut then = None;
    while then.is_none() && !reader.full(&batch) {
        match src.notices.as_mut().map(|rx| rx.try_recv()) {
            Some(Ok(Notice::Key(k))) => reader.add(&mut batch, &k),
            Some(Ok(other)) => then = Some(other),
            _ => break,
        }
    }
    if !reader.read(batch, feed).await? {
        return Ok(false);
    }
    match then {
        Some(other) => coverage(src, reader, other, feed).await,
        None => Ok(true),
    }
}

/// A change of the watcher's coverage.
async fn coverage<F: Follower>(src: &mut Source, reader: &mut F, notice: Notice, feed: &mut Feed) -> Result<bool, StoreError> {
    match notice {
        Notice::Covered => {
            // Set first: if the catch-up fails, the next session repeats it.
            src.notified = true;
            if !reader.catch_up(feed).await? {
                return Ok(false);
            }
            feed.live();
        }
        Notice::Uncovered(why) => {
            src.notified = false;
            src.why = why;
            src.show(feed);
        }
        Notice::Key(_) => {}
    }
    Ok(true)
}
