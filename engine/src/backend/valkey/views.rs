//! Saved views on Valkey: one hash per scope, name → the view as JSON:
//! `ff_board:{views}:shared` and `ff_board:{views}:user:<owner>` (see
//! `crate::views`). The keys share one hash tag, so the save script (name
//! free and scope under its cap, then write) is atomic on a cluster too.
//! A user's list is two `HVALS`, each bounded by its scope's cap.
use async_trait::async_trait;
use ferriskey::Client;

use crate::store_error::{Store, StoreError};
use crate::views::{cap, Saved, SavedView, Scope, ViewStore};

const SHARED: &str = "ff_board:{views}:shared";

/// KEYS: the scope's hash. ARGV: name, view JSON, cap.
const SAVE_LUA: &str = r#"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'taken' end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 'full' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'saved'
"#;

fn key(scope: &Scope) -> String {
    match scope {
        Scope::Shared => SHARED.to_owned(),
        Scope::Private(owner) => format!("ff_board:{{views}}:user:{owner}"),
    }
}

/// The views hashes on a Valkey store.
pub struct ValkeyViews {
    client: Client,
}

pub fn open(client: &Client) -> ValkeyViews {
    ValkeyViews { client: client.clone() }
}

fn decode(json: &str) -> Result<SavedView, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::invalid(Store::Views, "read", format!("a stored view is not readable: {e}")))
}

#[async_trait]
impl ViewStore for ValkeyViews {
    async fn list(&self, user: &str) -> Result<Vec<SavedView>, StoreError> {
        let mut views = Vec::new();
        for k in [key(&Scope::Private(user.to_owned())), SHARED.to_owned()] {
            let values: Vec<String> = self.client.cmd("HVALS").arg(&k).execute().await.map_err(StoreError::at(Store::Views, "list"))?;
            for v in values {
                views.push(decode(&v)?);
            }
        }
        views.sort_by(|a, b| a.name.cmp(&b.name).then(a.shared.cmp(&b.shared)));
        Ok(views)
    }

    async fn save(&self, v: &SavedView) -> Result<Saved, StoreError> {
        let scope = v.scope();
        let json = serde_json::to_string(v).map_err(StoreError::at(Store::Views, "encode"))?;
        let reply: String = self
            .client
            .cmd("EVAL")
            .arg(SAVE_LUA)
            .arg(1)
            .arg(key(&scope))
            .arg(&v.name)
            .arg(json)
            .arg(cap(&scope).to_string())
            .execute()
            .await
            .map_err(StoreError::at(Store::Views, "save"))?;
        match reply.as_str() {
            "saved" => Ok(Saved::Saved),
            "taken" => Ok(Saved::NameTaken),
            "full" => Ok(Saved::Full { cap: cap(&scope) }),
            other => Err(StoreError::invalid(Store::Views, "save", format!("unexpected reply {other:?}"))),
        }
    }

    async fn get(&self, scope: &Scope, name: &str) -> Result<Option<SavedView>, StoreError> {
        let v: Option<String> =
            self.client.cmd("HGET").arg(key(scope)).arg(name).execute().await.map_err(StoreError::at(Store::Views, "get"))?;
        v.as_deref().map(decode).transpose()
    }

    async fn delete(&self, scope: &Scope, name: &str) -> Result<bool, StoreError> {
        let gone: i64 =
            self.client.cmd("HDEL").arg(key(scope)).arg(name).execute().await.map_err(StoreError::at(Store::Views, "delete"))?;
        Ok(gone == 1)
    }
}
