//! Two-person requests on Valkey: one hash `ff_board:{requests}`, id → the
//! request as JSON (`crate::requests`). Adding checks the waiting count
//! and drops the oldest finished requests past the cap in one script;
//! a change of state is a compare-and-set script on the stored JSON.
use async_trait::async_trait;
use ferriskey::Client;

use crate::requests::{Request, RequestStore, MAX_KEPT, MAX_PENDING};
use crate::store_error::{Store, StoreError};

const KEY: &str = "ff_board:{requests}";

/// KEYS: the hash. ARGV: id, JSON, max pending, max kept.
const ADD_LUA: &str = r#"
local all = redis.call('HGETALL', KEYS[1])
local pending, finished = 0, {}
for i = 1, #all, 2 do
  local ok, r = pcall(cjson.decode, all[i + 1])
  if ok then
    if r.state == 'Pending' then pending = pending + 1
    elseif type(r.state) == 'table' and r.state.Running == nil then table.insert(finished, {all[i], r.requested_at}) end
  end
end
if pending >= tonumber(ARGV[3]) then return 0 end
local over = #all / 2 + 1 - tonumber(ARGV[4])
if over > 0 then
  table.sort(finished, function(a, b) return a[2] < b[2] end)
  for i = 1, math.min(over, #finished) do redis.call('HDEL', KEYS[1], finished[i][1]) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"#;

/// KEYS: the hash. ARGV: id, old JSON, new JSON.
const SWAP_LUA: &str = r#"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"#;

pub struct ValkeyRequests {
    client: Client,
}

pub fn open(client: &Client) -> ValkeyRequests {
    ValkeyRequests { client: client.clone() }
}

fn fail(op: &'static str) -> impl Fn(ferriskey::Error) -> StoreError {
    StoreError::at(Store::Requests, op)
}

#[async_trait]
impl RequestStore for ValkeyRequests {
    async fn add(&self, r: &Request) -> Result<bool, StoreError> {
        let n: i64 = self
            .client
            .cmd("EVAL")
            .arg(ADD_LUA)
            .arg(1)
            .arg(KEY)
            .arg(&r.id)
            .arg(r.encode()?)
            .arg(MAX_PENDING.to_string())
            .arg(MAX_KEPT.to_string())
            .execute()
            .await
            .map_err(fail("add"))?;
        Ok(n == 1)
    }

    async fn list(&self) -> Result<Vec<Request>, StoreError> {
        let values: Vec<String> = self.client.cmd("HVALS").arg(KEY).execute().await.map_err(fail("list"))?;
        let mut out = values.iter().map(|v| Request::decode(v)).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| b.requested_at.cmp(&a.requested_at).then(a.id.cmp(&b.id)));
        out.truncate(MAX_KEPT);
        Ok(out)
    }

    async fn get(&self, id: &str) -> Result<Option<Request>, StoreError> {
        let v: Option<String> = self.client.cmd("HGET").arg(KEY).arg(id).execute().await.map_err(fail("get"))?;
        v.as_deref().map(Request::decode).transpose()
    }

    async fn swap(&self, old: &Request, new: &Request) -> Result<bool, StoreError> {
        let n: i64 = self
            .client
            .cmd("EVAL")
            .arg(SWAP_LUA)
            .arg(1)
            .arg(KEY)
            .arg(&old.id)
            .arg(old.encode()?)
            .arg(new.encode()?)
            .execute()
            .await
            .map_err(fail("swap"))?;
        Ok(n == 1)
    }
}
