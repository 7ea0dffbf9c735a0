//! The flow list on Valkey, read from the board's own ordered flow index.
//!
//! ff-backend-valkey 0.15 keeps each partition's flows in a SET,
//! `ff:idx:{fp:N}:flow_index` (its own `list_flows` reads the whole set
//! and sorts it client-side; the flow projector `SREM`s a flow once all
//! its members are terminal). A page that read every partition's set
//! grew with the store (measured: 3.7 → 36.5 ms from 10k to 100k flows).
//! The board keeps, per partition and under the partition's hash tag:
//!
//! - `ff_board:idx:{fp:N}:flows`, a zset of flow ids all scored 0, read
//!   in id order with `ZRANGE … BYLEX` after the cursor;
//! - `ff_board:idx:{fp:N}:flows:synced`, the engine set's `SCARD` when
//!   the zset was last brought up to date, expiring after
//!   [`RESYNC_EVERY`] (plus a spread per partition).
//!
//! Each page's first read is one script per partition ([`PAGE_LUA`]): it
//! compares the engine set's `SCARD` with the synced count and, when they
//! differ or the count has expired, adds the set's members to the zset
//! (`ZADD NX`, server-side) before answering the range. A page therefore
//! costs one command per partition plus the partitions its merge must
//! read further, plus one `HMGET` per row: flat in the store's size. The
//! set is read again only in a partition whose flows changed since the
//! last page (or every [`RESYNC_EVERY`], which bounds how long a flow
//! created while another was pruned, same count, stays unlisted).
//!
//! The zset keeps flows the projector pruned from the engine's set, so
//! finished flows stay listed and searchable (`state:completed`) until
//! retention deletes them; an entry whose flow core is gone is removed
//! when a page meets it.
use std::collections::VecDeque;

use ff_core::keys::FlowIndexKeys;
use ff_core::types::FlowId;

use super::super::ReadError;
use super::reply::partition;

/// How long a partition's synced count holds before its set is read again
/// even though its count did not change (seconds).
pub const RESYNC_EVERY: u64 = 600;

/// One partition's page read: bring the zset up to date when the engine
/// set's count changed, then the range.
/// KEYS: engine flow set, board zset, synced count.
/// ARGV: range start (`-` or `(<id>`), count, count's lifetime in seconds.
/// Returns `{members added, ids}`.
const PAGE_LUA: &str = r#"
local n = redis.call('SCARD', KEYS[1])
local added = 0
if redis.call('GET', KEYS[3]) ~= tostring(n) then
  local ids = redis.call('SMEMBERS', KEYS[1])
  for i = 1, #ids, 500 do
    local args = {}
    for j = i, math.min(i + 499, #ids) do
      args[#args + 1] = 0
      args[#args + 1] = ids[j]
    end
    added = added + redis.call('ZADD', KEYS[2], 'NX', unpack(args))
  end
  redis.call('SET', KEYS[3], n, 'EX', ARGV[3])
end
return {added, redis.call('ZRANGE', KEYS[2], ARGV[1], '+', 'BYLEX', 'LIMIT', 0, ARGV[2])}
"#;

/// The board's flow zset of a partition (`{fp:N}` hash tag).
pub fn zset_key(tag: &str) -> String {
    format!("ff_board:idx:{tag}:flows")
}

fn synced_key(tag: &str) -> String {
    format!("ff_board:idx:{tag}:flows:synced")
}

/// Bring partition `index`'s zset up to date (the walk calls this as it
/// leaves a partition, so pages rarely pay for it).
pub async fn sync(client: &ferriskey::Client, index: u16) -> Result<(), crate::store_error::StoreError> {
    let _: (i64, Vec<String>) = client
        .cmd("EVAL")
        .arg(PAGE_LUA)
        .arg(script_args(index, start(None), 0))
        .execute()
        .await
        .map_err(crate::store_error::StoreError::at(crate::store_error::Store::Lanes, "sync flow index"))?;
    Ok(())
}

/// [`PAGE_LUA`]'s key count, keys and arguments for partition `index`:
/// `count` ids from `start` (a count of 0 only syncs).
fn script_args(index: u16, start: String, count: usize) -> Vec<String> {
    let p = partition(index);
    let tag = p.hash_tag();
    let keys = [FlowIndexKeys::new(&p).flow_index(), zset_key(&tag), synced_key(&tag)];
    let mut args = vec![keys.len().to_string()];
    args.extend(keys);
    args.extend([start, count.to_string(), lifetime(index).to_string()]);
    args
}

/// How long partition `index`'s synced count holds (spread so that the
/// partitions' counts do not all expire together), in seconds.
fn lifetime(index: u16) -> u64 {
    RESYNC_EVERY + u64::from(index) % (RESYNC_EVERY / 2)
}

/// The range start after `pos` (exclusive), or from the first id.
fn start(pos: Option<&str>) -> String {
    pos.map_or_else(|| "-".to_owned(), |p| format!("({p}"))
}

/// How many ids each partition is first asked for, for `n` ids in all:
/// twice its even share, at least two.
fn share(n: usize, partitions: usize) -> usize {
    (2 * n).div_ceil(partitions.max(1)).max(2)
}

/// One partition's place in the merge.
struct Lane {
    buf: VecDeque<String>,
    /// The last id read from it (the next read starts after it).
    pos: Option<String>,
    /// It returned fewer than asked: nothing after `pos`.
    done: bool,
}

/// A lazy k-way merge of the partitions' zsets in id order: each
/// partition is read only as far as the ids handed out need.
pub struct Merge<'a> {
    client: &'a ferriskey::Client,
    lanes: Vec<Lane>,
    /// Ids each refill asks a partition for.
    refill: usize,
}

impl<'a> Merge<'a> {
    /// Start after `after`: one script per partition (see [`PAGE_LUA`]),
    /// sent by its digest (`EVALSHA`), and whole once when a node does
    /// not know it yet (`NOSCRIPT`: a restarted or new node).
    pub async fn open(client: &'a ferriskey::Client, partitions: u16, after: Option<&FlowId>, n: usize) -> Result<Merge<'a>, ReadError> {
        match Self::open_with(client, partitions, after, n, true).await {
            Err(e) if e.to_string().to_ascii_lowercase().contains("noscript") => Self::open_with(client, partitions, after, n, false).await,
            other => other,
        }
    }

    async fn open_with(client: &'a ferriskey::Client, partitions: u16, after: Option<&FlowId>, n: usize, by_digest: bool) -> Result<Merge<'a>, ReadError> {
        let share = share(n, partitions as usize);
        let digest = sha1_smol::Sha1::from(PAGE_LUA).digest().to_string();
        let from = after.map(|a| a.to_string());
        let mut pipe = client.pipeline();
        let slots: Vec<_> = (0..partitions)
            .map(|i| {
                pipe.cmd::<(i64, Vec<String>)>(if by_digest { "EVALSHA" } else { "EVAL" })
                    .arg(if by_digest { digest.as_str() } else { PAGE_LUA })
                    .arg(script_args(i, start(from.as_deref()), share))
                    .finish()
            })
            .collect();
        pipe.execute().await.map_err(read_err)?;
        let mut lanes = Vec::with_capacity(slots.len());
        let mut added = 0;
        for slot in slots {
            let (n_added, ids) = slot.value().map_err(read_err)?;
            added += n_added;
            lanes.push(Lane::filled(ids, from.clone(), share));
        }
        if added > 0 {
            tracing::debug!(added, "flow index: flows new since the last page copied");
        }
        Ok(Merge { client, lanes, refill: share.max(8) })
    }

    /// The next `n` ids in order (fewer at the end).
    pub async fn next(&mut self, n: usize) -> Result<Vec<FlowId>, ReadError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let dry = (0..self.lanes.len()).filter(|&i| self.lanes[i].buf.is_empty() && !self.lanes[i].done);
            let Some((at, head)) = self.head() else {
                let dry: Vec<usize> = dry.collect();
                if dry.is_empty() {
                    break;
                }
                self.fill(&dry).await?;
                continue;
            };
            // A partition with nothing buffered may hold ids before `head`.
            let behind: Vec<usize> = dry.filter(|&i| self.lanes[i].pos.as_deref().is_none_or(|p| p < head.as_str())).collect();
            if !behind.is_empty() {
                self.fill(&behind).await?;
                continue;
            }
            let id = self.lanes[at].buf.pop_front().expect("head is buffered");
            out.push(FlowId::parse(&id).map_err(|e| ReadError::store("read flow index", format!("{id:?}: {e}")))?);
        }
        Ok(out)
    }

    /// The smallest buffered id and its partition.
    fn head(&self) -> Option<(usize, String)> {
        self.lanes
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.buf.front().map(|id| (i, id)))
            .min_by(|a, b| a.1.cmp(b.1))
            .map(|(i, id)| (i, id.clone()))
    }

    /// Read the next ids of partitions `which` (one pipeline).
    async fn fill(&mut self, which: &[usize]) -> Result<(), ReadError> {
        let mut pipe = self.client.pipeline();
        let slots: Vec<_> = which
            .iter()
            .map(|&i| {
                let tag = partition(i as u16).hash_tag();
                pipe.cmd::<Vec<String>>("ZRANGE")
                    .arg(zset_key(&tag))
                    .arg(start(self.lanes[i].pos.as_deref()))
                    .arg("+")
                    .arg("BYLEX")
                    .arg("LIMIT")
                    .arg("0")
                    .arg(self.refill.to_string())
                    .finish()
            })
            .collect();
        pipe.execute().await.map_err(read_err)?;
        for (&i, slot) in which.iter().zip(slots) {
            let ids = slot.value().map_err(read_err)?;
            let pos = self.lanes[i].pos.clone();
            let lane = Lane::filled(ids, pos, self.refill);
            self.lanes[i] = lane;
        }
        Ok(())
    }

    /// Drop the entries of flows whose core is gone (retention): one pipeline.
    pub async fn forget(client: &ferriskey::Client, partitions: &ff_core::partition::PartitionConfig, gone: &[FlowId]) -> Result<(), ReadError> {
        if gone.is_empty() {
            return Ok(());
        }
        let mut pipe = client.pipeline();
        for id in gone {
            let tag = ff_core::partition::flow_partition(id, partitions).hash_tag();
            let _ = pipe.cmd::<i64>("ZREM").arg(zset_key(&tag)).arg(id.to_string()).finish();
        }
        pipe.execute().await.map_err(read_err)?;
        Ok(())
    }
}

impl Lane {
    fn filled(ids: Vec<String>, pos: Option<String>, asked: usize) -> Lane {
        let done = ids.len() < asked;
        let pos = ids.last().cloned().or(pos);
        Lane { buf: ids.into(), pos, done }
    }
}

fn read_err(e: ferriskey::Error) -> ReadError {
    ReadError::store("read flow index", e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_start_after_the_cursor() {
        assert_eq!(start(None), "-");
        assert_eq!(start(Some("abc")), "(abc");
    }

    #[test]
    fn each_partition_is_first_asked_for_its_share() {
        assert_eq!(share(51, 256), 2);
        assert_eq!(share(51, 4), 26);
        assert_eq!(share(0, 0), 2);
    }

    #[test]
    fn a_lane_that_returned_less_than_asked_is_done() {
        let l = Lane::filled(vec!["a".into()], None, 2);
        assert!(l.done);
        assert_eq!(l.pos.as_deref(), Some("a"));
        let l = Lane::filled(Vec::new(), Some("z".into()), 2);
        assert!(l.done && l.pos.as_deref() == Some("z"));
    }
}
