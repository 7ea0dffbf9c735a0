//! One test per behaviour, run on every backend: [`matrix!`](crate::matrix!)
//! turns `async fn approve_counts_distinct_sources(s: Store)` into a module
//! of that name with one `#[tokio::test]` per backend, so a failure reads
//! `approve_counts_distinct_sources::valkey`.
//!
//! Each test gets a fresh [`Store`] of its own: a new SQLite file, a new
//! Postgres database ([`crate::fresh_postgres`]: tests running in parallel
//! never share one), a `valkey-server` or a 3-primary cluster on free ports,
//! stopped when the test ends.
use ff_board_engine::connect::Connected;

use crate::{fresh_postgres, sqlite_path, Valkey, ValkeyCluster};

/// A fresh store of one backend for one test.
pub struct Store {
    /// Its URL, as `--backend` takes it.
    pub url: String,
    /// The Valkey server or cluster behind `url`, killed on drop.
    _server: Option<Box<dyn std::any::Any + Send>>,
}

impl Store {
    /// A new SQLite file.
    pub async fn sqlite() -> Store {
        Store { url: format!("sqlite:{}", sqlite_path()), _server: None }
    }

    /// A new database on the local Postgres.
    pub async fn postgres() -> Store {
        Store { url: fresh_postgres().await, _server: None }
    }

    /// A `valkey-server` of its own.
    pub async fn valkey() -> Store {
        let v = Valkey::start();
        Store { url: v.url(), _server: Some(Box::new(v)) }
    }

    /// A 3-primary Valkey cluster of its own.
    pub async fn valkey_cluster() -> Store {
        let cluster = ValkeyCluster::start();
        Store { url: cluster.url(), _server: Some(Box::new(cluster)) }
    }

    /// Dial it the way the board does (schema applied, library loaded).
    pub async fn connect(&self) -> Connected {
        crate::connect(&self.url).await
    }
}

/// `matrix!(behaviour)` runs `async fn behaviour(s: Store)` on SQLite,
/// Postgres, Valkey and a Valkey cluster, as the tests
/// `behaviour::sqlite`, `::postgres`, `::valkey` and `::valkey_cluster`;
/// `matrix!(behaviour: sqlite, postgres)` on the backends named.
#[macro_export]
macro_rules! matrix {
    ($behaviour:ident) => {
        $crate::matrix!($behaviour: sqlite, postgres, valkey, valkey_cluster);
    };
    ($behaviour:ident: $($backend:ident),+ $(,)?) => {
        mod $behaviour {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $backend() {
                    super::$behaviour($crate::matrix::Store::$backend().await).await
                }
            )+
        }
    };
}
