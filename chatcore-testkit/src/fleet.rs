//! [`Fleet`]: several hubs on one memory store and one in-process bus network, the
//! multi-node setup of the hub's own tests (no sockets, no Redis: `ChatServerProcess` is
//! for those).

use std::sync::Arc;

use chatcore::Hub;
use chatcore::bus::LocalNetwork;
use chatcore::store::{MemoryStore, Store};

/// Hubs sharing one [`MemoryStore`] and one [`LocalNetwork`], as nodes of one fleet.
#[derive(Debug)]
pub struct Fleet {
    /// The store every node writes to (tests read it directly).
    pub store: Arc<MemoryStore>,
    /// The bus network joining the nodes.
    pub net: LocalNetwork,
    /// The nodes, in the order of their ids.
    pub nodes: Vec<Hub>,
}

impl Fleet {
    /// Nodes named `ids` on a fresh store and network.
    pub async fn of(ids: &[&str]) -> Self {
        let store = Arc::new(MemoryStore::new());
        let net = LocalNetwork::new();
        let mut nodes = Vec::with_capacity(ids.len());
        for id in ids {
            nodes.push(node(store.clone(), &net, id).await);
        }
        Self { store, net, nodes }
    }

    /// Two nodes, `a` and `b`: the store and both hubs.
    pub async fn pair() -> (Arc<MemoryStore>, Hub, Hub) {
        let mut fleet = Self::of(&["a", "b"]).await;
        let b = fleet.nodes.pop().expect("b");
        let a = fleet.nodes.pop().expect("a");
        (fleet.store, a, b)
    }
}

/// A hub on `store` joined to `net` as node `id`.
pub async fn node(store: Arc<dyn Store>, net: &LocalNetwork, id: &str) -> Hub {
    Hub::builder()
        .shared_store(store)
        .bus(net.node(id))
        .build()
        .await
        .expect("hub")
}
