//! [`FlakyBus`]: a local bus whose readiness can be switched off and, with [`BusChaos`],
//! that drops, duplicates, delays, reorders and partitions what it carries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chatcore::bus::{Bus, BusEvent, BusHandler, Envelope, LocalBus};

use crate::chaos::BusChaos;

/// A [`LocalBus`] whose readiness probe can be made to fail and whose traffic can be put
/// under a [`BusChaos`] shared by every node of a simulated cluster.
#[derive(Debug, Clone, Default)]
pub struct FlakyBus {
    /// The bus doing the real work.
    inner: LocalBus,
    /// While set, [`Bus::ping`] fails as a Redis connection would.
    pub down: Arc<AtomicBool>,
    /// The faults this node's traffic suffers; `None` delivers everything.
    chaos: Option<Arc<BusChaos>>,
}

impl FlakyBus {
    /// `inner` (a node of a [`LocalNetwork`](chatcore::bus::LocalNetwork)) under `chaos`.
    pub fn chaotic(inner: LocalBus, chaos: Arc<BusChaos>) -> Self {
        Self {
            inner,
            down: Arc::default(),
            chaos: Some(chaos),
        }
    }
}

/// Hands events to the hub unless this node is cut off (what a partitioned node would not
/// hear).
struct ChaosHandler {
    node: String,
    chaos: Arc<BusChaos>,
    inner: Arc<dyn BusHandler>,
}

impl BusHandler for ChaosHandler {
    fn on_event(&self, envelope: Envelope) {
        if !self.chaos.is_cut(&self.node) {
            self.inner.on_event(envelope);
        }
    }

    fn on_gap_suspected(&self) {
        self.inner.on_gap_suspected();
    }
}

#[async_trait::async_trait]
impl Bus for FlakyBus {
    fn node_id(&self) -> &str {
        self.inner.node_id()
    }

    async fn start(&self, handler: Arc<dyn BusHandler>) -> chatcore::Result<()> {
        let handler = match &self.chaos {
            Some(chaos) => {
                chaos.register(self.node_id(), Arc::clone(&handler));
                Arc::new(ChaosHandler {
                    node: self.node_id().to_owned(),
                    chaos: Arc::clone(chaos),
                    inner: handler,
                })
            }
            None => handler,
        };
        self.inner.start(handler).await
    }

    async fn subscribe(&self, room: &str) -> chatcore::Result<()> {
        self.inner.subscribe(room).await
    }

    async fn unsubscribe(&self, room: &str) -> chatcore::Result<()> {
        self.inner.unsubscribe(room).await
    }

    fn publish(&self, event: BusEvent) {
        let Some(chaos) = &self.chaos else {
            self.inner.publish(event);
            return;
        };
        let fate = chaos.fate(self.node_id());
        for &delay in fate.deliveries() {
            match delay {
                None => self.inner.publish(event.clone()),
                Some(delay) => {
                    let (bus, event) = (self.inner.clone(), event.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        bus.publish(event);
                    });
                }
            }
        }
    }

    async fn ping(&self) -> chatcore::Result<()> {
        let cut = self
            .chaos
            .as_ref()
            .is_some_and(|c| c.is_cut(self.node_id()));
        if cut || self.down.load(Ordering::Relaxed) {
            return Err(chatcore::Error::bus("redis: connection refused"));
        }
        self.inner.ping().await
    }

    async fn close(&self) -> chatcore::Result<()> {
        self.inner.close().await
    }
}
