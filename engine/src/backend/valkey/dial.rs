//! Dial Valkey: the first seed that answers (a cluster's topology is
//! discovered from it), a clear error for a cluster node dialed without
//! `?cluster=true`, the engine backend and a client for the board's reads.
use ff_core::partition::PartitionConfig;

use crate::backend::{self, shared};
use crate::connect::{BackendKind, Connected, SideStore, ValkeyNode};
use crate::store_error::{Store, StoreError};

/// Connect to the first of `seeds` that answers.
pub async fn dial(seeds: &[(String, u16)], tls: bool, cluster: bool, migrate: bool) -> Result<Connected, StoreError> {
    // The first seed that answers; a cluster's topology is
    // discovered from it.
    let mut last = StoreError::unreachable(Store::Connection, "connect valkey", "no seed node given");
    let mut dialed = None;
    for (host, port) in seeds {
        let mut config = ff_core::backend::BackendConfig::valkey(host.clone(), *port);
        if let ff_core::backend::BackendConnection::Valkey(v) = &mut config.connection {
            (v.tls, v.cluster) = (tls, cluster);
        }
        match ff_backend_valkey::build_client(&config).await {
            Ok(client) => {
                dialed = Some((config, client, ValkeyNode { host: host.clone(), port: *port, tls }));
                break;
            }
            Err(e) => last = StoreError::unreachable(Store::Connection, "connect valkey", format!("{host}:{port}: {e}")),
        }
    }
    let (config, client, seed) = dialed.ok_or(last)?;
    let node = format!("{}:{}", seed.host, seed.port);
    if !cluster {
        // A cluster node answers a standalone client with MOVED on
        // most keys: say so before the engine trips over it.
        let info: String = client
            .cmd("INFO")
            .arg("cluster")
            .execute()
            .await
            .map_err(|e| StoreError::new(Store::Connection, "INFO cluster", format!("valkey {node}: {e}")))?;
        if info.contains("cluster_enabled:1") {
            return Err(StoreError::invalid(
                Store::Connection,
                "connect valkey",
                format!("valkey {node} is a cluster node: add ?cluster=true to the URL (valkey://{node}?cluster=true)"),
            ));
        }
    }
    let backend = ff_backend_valkey::ValkeyBackend::connect(config.clone())
        .await
        .map_err(|e| StoreError::unreachable(Store::Connection, "connect valkey", format!("{node}: {e}")))?;
    if migrate {
        backend.prepare().await.map_err(StoreError::at(Store::Schema, "load FlowFabric library"))?;
    }
    let lanes = backend::valkey::parse_lanes(&std::env::var("FF_BOARD_LANES").unwrap_or_default())
        .map_err(|e| StoreError::invalid(Store::Lanes, "read FF_BOARD_LANES", e))?;
    let partitions = PartitionConfig::default();
    Ok(Connected {
        backend,
        reads: shared(backend::valkey::ValkeyReads::new(client.clone(), partitions, lanes)),
        side: SideStore::Valkey(client),
        partitions,
        kind: BackendKind::Valkey,
        valkey_seed: Some(seed),
    })
}
