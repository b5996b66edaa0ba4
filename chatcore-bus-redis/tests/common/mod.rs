//! Shared fixture of the integration tests: the Redis under test, node factories with a
//! random prefix per test, and a bounded wait for a condition. The inbox handler, bus
//! messages and the private `redis-server` come from `chatcore-testkit`.

#![allow(dead_code, unreachable_pub)] // each test file uses a part

use std::sync::Arc;
use std::time::Duration;

use chatcore::bus::{Bus, Envelope};
use chatcore::testing::{BusFactory, service_url};
use chatcore_bus_redis::{RedisBus, RedisBusConfig};
use chatcore_testkit::fixtures::Inbox;
use tokio::sync::mpsc;

/// The Redis under test, or `None` (test skipped) when `CHATCORE_TEST_REDIS_URL` is unset.
pub fn redis_url() -> Option<String> {
    service_url("CHATCORE_TEST_REDIS_URL")
}

/// A prefix no other test uses, so tests sharing one Redis never see each other.
pub fn unique_prefix() -> String {
    format!("{}:", chatcore_testkit::unique_name("test"))
}

/// Nodes on one Redis under one random prefix.
#[derive(Debug, Clone)]
pub struct RedisFactory {
    pub url: String,
    pub prefix: String,
    pub sharded: bool,
}

impl RedisFactory {
    pub fn new(url: String, sharded: bool) -> Self {
        Self {
            url,
            prefix: unique_prefix(),
            sharded,
        }
    }

    pub fn config(&self, node_id: &str) -> RedisBusConfig {
        RedisBusConfig::new(self.url.clone())
            .with_node_id(node_id)
            .expect("node id")
            .with_prefix(self.prefix.clone())
            .with_sharded(self.sharded)
            .with_reconnect_backoff(Duration::from_millis(50), Duration::from_millis(500))
            .expect("backoff")
    }

    pub async fn bus(&self, node_id: &str) -> RedisBus {
        RedisBus::connect(self.config(node_id))
            .await
            .expect("connect to the Redis under test")
    }

    /// A started node and what it receives.
    pub async fn started(&self, node_id: &str) -> (RedisBus, mpsc::UnboundedReceiver<Envelope>) {
        let (bus, _inbox, rx) = self.started_with_inbox(node_id).await;
        (bus, rx)
    }

    /// A started node, its handler (to read [`Inbox::gaps`]) and what it receives.
    pub async fn started_with_inbox(
        &self,
        node_id: &str,
    ) -> (RedisBus, Arc<Inbox>, mpsc::UnboundedReceiver<Envelope>) {
        let bus = self.bus(node_id).await;
        let (inbox, rx) = Inbox::new();
        bus.start(inbox.clone()).await.expect("start");
        (bus, inbox, rx)
    }
}

#[async_trait::async_trait]
impl BusFactory for RedisFactory {
    async fn node(&self, node_id: &str) -> Arc<dyn Bus> {
        Arc::new(self.bus(node_id).await)
    }
}

/// Polls `done` every 20 ms, failing after 30 s.
pub async fn wait_for<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while !done().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}
