//! [`LocalBus`]: the in-process bus. A lone node by default; several hubs in one process
//! (tests, benchmarks) can share a [`LocalNetwork`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::mpsc;

use super::backend::{Bus, BusEvent, BusHandler, Channel, Envelope};
use crate::Result;

/// A set of nodes that see each other's events, all in one process.
///
/// Clones share the network.
#[derive(Debug, Clone, Default)]
pub struct LocalNetwork {
    // std mutex: held only for map lookups, never across an await.
    nodes: Arc<Mutex<HashMap<String, NodeSlot>>>,
}

#[derive(Debug, Default)]
struct NodeSlot {
    rooms: HashSet<String>,
    inbox: Option<mpsc::UnboundedSender<Envelope>>,
}

impl LocalNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// A bus for a new node named `node_id` on this network.
    pub fn node(&self, node_id: impl Into<String>) -> LocalBus {
        LocalBus {
            node_id: node_id.into(),
            network: self.clone(),
            task: Arc::new(OnceLock::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, NodeSlot>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The in-process [`Bus`]. `LocalBus::default()` is a lone node: publishing goes nowhere, which
/// is exactly right for a single server.
#[derive(Debug, Clone)]
pub struct LocalBus {
    node_id: String,
    network: LocalNetwork,
    /// The delivery task, aborted when the last clone is dropped.
    task: Arc<OnceLock<AbortOnDrop>>,
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalNetwork::new().node("local")
    }
}

#[async_trait::async_trait]
impl Bus for LocalBus {
    fn node_id(&self) -> &str {
        &self.node_id
    }

    async fn start(&self, handler: Arc<dyn BusHandler>) -> Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Envelope>();
        self.network
            .lock()
            .entry(self.node_id.clone())
            .or_default()
            .inbox = Some(tx);
        let task = tokio::spawn(async move {
            while let Some(envelope) = rx.recv().await {
                handler.on_event(envelope);
            }
        });
        let _ = self.task.set(AbortOnDrop(task));
        Ok(())
    }

    async fn subscribe(&self, room: &str) -> Result<()> {
        self.network
            .lock()
            .entry(self.node_id.clone())
            .or_default()
            .rooms
            .insert(room.to_owned());
        Ok(())
    }

    async fn unsubscribe(&self, room: &str) -> Result<()> {
        if let Some(slot) = self.network.lock().get_mut(&self.node_id) {
            slot.rooms.remove(room);
        }
        Ok(())
    }

    fn publish(&self, event: BusEvent) {
        let nodes = self.network.lock();
        for (id, slot) in nodes.iter() {
            let wanted = match event.channel() {
                Channel::Room(room) => slot.rooms.contains(room),
                Channel::AllNodes => true,
            };
            if *id == self.node_id || !wanted {
                continue;
            }
            if let Some(inbox) = &slot.inbox {
                let _ = inbox.send(Envelope {
                    origin: self.node_id.clone(),
                    event: event.clone(),
                });
            }
        }
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        if let Some(slot) = self.network.lock().get_mut(&self.node_id) {
            slot.inbox = None;
            slot.rooms.clear();
        }
        Ok(())
    }
}
