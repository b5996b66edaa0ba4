//! [`FlakyBus`]: a local bus whose readiness probe can be made to fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chatcore::bus::{Bus, BusEvent, BusHandler, LocalBus};

/// A [`LocalBus`] whose readiness probe can be made to fail.
#[derive(Debug, Clone, Default)]
pub struct FlakyBus {
    /// The bus doing the real work.
    inner: LocalBus,
    /// While set, [`Bus::ping`] fails as a Redis connection would.
    pub down: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl Bus for FlakyBus {
    fn node_id(&self) -> &str {
        self.inner.node_id()
    }

    async fn start(&self, handler: Arc<dyn BusHandler>) -> chatcore::Result<()> {
        self.inner.start(handler).await
    }

    async fn subscribe(&self, room: &str) -> chatcore::Result<()> {
        self.inner.subscribe(room).await
    }

    async fn unsubscribe(&self, room: &str) -> chatcore::Result<()> {
        self.inner.unsubscribe(room).await
    }

    fn publish(&self, event: BusEvent) {
        self.inner.publish(event);
    }

    async fn ping(&self) -> chatcore::Result<()> {
        if self.down.load(Ordering::Relaxed) {
            return Err(chatcore::Error::bus("redis: connection refused"));
        }
        self.inner.ping().await
    }

    async fn close(&self) -> chatcore::Result<()> {
        self.inner.close().await
    }
}
