//! # chatcore-bus-redis
//!
//! A [`Bus`] for [chatcore] on Redis pub/sub, so several chat servers behind a load
//! balancer serve the same rooms: a message committed on one node reaches the members
//! connected to every other node. Built on [fred](https://docs.rs/fred).
//!
//! - **Fan-out per room**: one channel per room, subscribed only while the room has local
//!   members, plus one node-wide channel every node hears; one `PUBLISH` per event, never per
//!   recipient.
//! - **Never in the way**: [`publish`](Bus::publish) only queues; a task sends the queue in
//!   pipelines. A full queue or a Redis outage drops events (counted), never blocks or grows.
//! - **Survives Redis restarts**: reconnects with exponential backoff, re-subscribes, and
//!   [`ping`](Bus::ping) fails while disconnected, so a readiness probe reports it.
//! - **Repairs what it loses**: after a reconnect, or when its reader fell behind, it tells
//!   the hub ([`BusHandler::on_gap_suspected`]) to check its rooms against the store; when
//!   its own events were dropped it announces the rooms' heads again once Redis is back.
//! - **Observable**: [`RedisBus::stats`] counts published, dropped, received, own, undecodable
//!   and lagged events, suspected gaps, re-announced heads and reconnects.
//!
//! ## Example
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use chatcore::Hub;
//! use chatcore_bus_redis::{RedisBus, RedisBusConfig};
//!
//! let config = RedisBusConfig::new("redis://127.0.0.1:6379")
//!     .with_node_id("chat-1")?
//!     .with_prefix("mychat:");
//! // Fails at once, in one line, when Redis is not there.
//! let bus = RedisBus::connect(config).await?;
//! let hub = Hub::builder().bus(bus.clone()).build().await?;
//! // … serve sessions; a readiness probe calls hub.ping(), metrics read bus.stats() …
//! println!("published so far: {}", bus.stats().published);
//! hub.shutdown(std::time::Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
//!
//! ## How it works
//!
//! **Connections.** Two per node: one publishes (pipelined), one is subscribed (a subscribed
//! Redis connection can do nothing else).
//!
//! **Channels.** An event's [`Channel`](chatcore::bus::Channel) picks its Redis channel
//! (`{prefix}` is `chatcore:` by default):
//!
//! | channel | carries | subscribed |
//! |---|---|---|
//! | `{prefix}room:{name}` | room `name`'s messages, heads, typing, presence and rosters | while the room has local members: the hub subscribes it when the first joins and unsubscribes it when the last leaves, so a node hears only rooms it serves |
//! | `{prefix}nodes` | node-wide events ([`Channel::AllNodes`](chatcore::bus::Channel::AllNodes)): a [`BusEvent::Invite`] telling the recipient's node about a direct message, the host's [`BusEvent::Removed`] and [`BusEvent::Disconnect`], an account's [`BusEvent::Revoke`] | by every node, from [`start`](Bus::start) until [`close`](Bus::close), whatever rooms it serves |
//!
//! Both kinds are subscribed again after a reconnect. No room channel can be mistaken for the
//! node-wide one: every room channel starts with `{prefix}room:`. With
//! [`sharded`](RedisBusConfig::sharded), `SPUBLISH`/`SSUBSCRIBE` keep each channel on the
//! Redis Cluster shard owning it instead of broadcasting it to every cluster node.
//!
//! **Keys.** None. Pub/sub stores nothing, and the bus writes no key: messages live in the
//! store, and presence travels as events (below).
//!
//! **Wire format.** Each payload is an [`Envelope`](chatcore::bus::Envelope) (`origin`, the
//! publishing node's id, and `event`) encoded as MessagePack with named fields
//! (`rmp_serde::to_vec_named`), so a newer node may add fields without breaking older ones
//! during a rolling upgrade. Redis delivers a node's own publications back to it; they are
//! recognized by `origin` and ignored. A payload that does not decode, or whose event travels
//! on another channel than the one it came on (another room's, or a room event on the
//! node-wide channel, or the reverse), is logged (sparingly) and counted in
//! [`BusStats::decode_errors`], never delivered, never a panic.
//!
//! **Publishing.** [`publish`](Bus::publish) encodes the event and puts it on a bounded queue
//! ([`publish_queue`](RedisBusConfig::publish_queue)) without waiting. A task takes whatever
//! is queued, up to [`max_batch`](RedisBusConfig::max_batch), and sends it as one pipeline,
//! with a few pipelines in flight and in order. Events of one room therefore leave in publish
//! order. [`close`](Bus::close) flushes the queue before disconnecting.
//!
//! **Loss and repair.** Redis pub/sub is at most once: messages published while a node is
//! disconnected, dropped from a full queue, or lost by a reader that fell behind never arrive.
//! That is by design. Every [`BusEvent::Message`] carries
//! its room's `seq`; the hub notices a gap (or waits for a missing seq for its gap timeout)
//! and reads the missing messages from the store, which is the source of truth. The bus makes
//! delivery fast; the store and seq make it complete. Two things close the remaining holes:
//!
//! - after the subscribed connection comes back and has re-subscribed every wanted room, and
//!   whenever the client's receive buffer overflowed, the bus calls
//!   [`BusHandler::on_gap_suspected`]: the hub compares every room with local members against
//!   the store's last seq and reads what it missed;
//! - when this node's own `Message` or `Head` events are dropped (queue full, Redis away), the
//!   bus remembers each room's newest dropped seq and publishes a `Head` for it once Redis
//!   answers again, so other nodes learn of messages that no later message would reveal.
//!
//! **Presence across nodes.** The hub publishes `Presence` events as users come and go, and
//! every 2 s a `Roster` of each room's local users with a 7 s lease. A node that dies stops
//! renewing, and the others drop its users (and tell their members they left) within 7.25 s
//! (lease plus the expiry sweep of at most 250 ms), inside the promised 10 s. Each roster carries the node's presence version, so a
//! late diff never undoes a newer snapshot. This is the core's mechanism, carried over this
//! bus; the bus keeps no presence keys in Redis. Typing events are ephemeral: losing one is
//! harmless.
//!
//! **Reconnecting.** When Redis goes away both connections retry with exponential backoff
//! ([`reconnect_min`](RedisBusConfig::reconnect_min) doubling up to
//! [`reconnect_max`](RedisBusConfig::reconnect_max)), forever. Meanwhile `ping` fails, publishing
//! drops and counts, and `subscribe` records the wish. After reconnecting, the node-wide channel
//! and every wanted room are subscribed again, then the hub is told to repair (above). A connection that dies without
//! being closed (a network partition, a host that vanished) is noticed too: every 5 s the bus
//! pings both connections, and one that leaves a command unanswered for
//! [`command_timeout`](RedisBusConfig::command_timeout) is closed and reopened.
//!
//! ## Features
//!
//! This crate has no cargo features of its own. TLS (`rediss://`) would need one of fred's TLS
//! features.

mod config;
mod driver;
mod engine;
mod error;
mod stats;
mod wire;

use std::sync::Arc;

use chatcore::bus::{Bus, BusEvent, BusHandler};

pub use config::RedisBusConfig;
pub use error::{Error, RedisError, Result};
pub use stats::BusStats;

use driver::fred::FredDriver;
use engine::{Engine, Settings};

/// The Redis [`Bus`]. One per node; clones share the connections, the queue and the counters.
///
/// Dropping the last clone flushes the queue in the background and disconnects; call
/// [`close`](Bus::close) to wait for that.
#[derive(Clone, Debug)]
pub struct RedisBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    engine: Engine<FredDriver>,
}

impl RedisBus {
    /// Connects to Redis and starts the publishing task. Fails with a one-line
    /// [`Error::Connect`] when Redis cannot be reached, or [`Error::Config`] when the
    /// configuration is invalid. Must run inside a Tokio runtime.
    pub async fn connect(config: RedisBusConfig) -> Result<Self> {
        config.validate()?;
        let driver = FredDriver::connect(&config).await?;
        let settings = Settings {
            node_id: config.node_id.clone(),
            room_prefix: config.room_channel_prefix(),
            nodes_channel: config.nodes_channel(),
            publish_queue: config.publish_queue,
            max_batch: config.max_batch,
            flush_timeout: config.command_timeout,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                engine: Engine::new(driver, settings),
            }),
        })
    }

    /// A snapshot of the counters, for metrics.
    pub fn stats(&self) -> BusStats {
        self.inner.engine.stats()
    }
}

#[async_trait::async_trait]
impl Bus for RedisBus {
    fn node_id(&self) -> &str {
        self.inner.engine.node_id()
    }

    async fn start(&self, handler: Arc<dyn BusHandler>) -> chatcore::Result<()> {
        Ok(self.inner.engine.start(handler).await?)
    }

    async fn subscribe(&self, room: &str) -> chatcore::Result<()> {
        Ok(self.inner.engine.subscribe(room).await?)
    }

    async fn unsubscribe(&self, room: &str) -> chatcore::Result<()> {
        Ok(self.inner.engine.unsubscribe(room).await?)
    }

    fn publish(&self, event: BusEvent) {
        self.inner.engine.publish(event);
    }

    async fn ping(&self) -> chatcore::Result<()> {
        Ok(self.inner.engine.ping().await?)
    }

    async fn close(&self) -> chatcore::Result<()> {
        Ok(self.inner.engine.close().await?)
    }
}
