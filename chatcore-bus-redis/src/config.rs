//! [`RedisBusConfig`]: where Redis is and how the bus uses it.

use std::time::Duration;

use crate::{Error, Result};

/// How a [`RedisBus`](crate::RedisBus) connects and behaves. Every field has a default chosen
/// for a small cluster of chat servers on one Redis; change them with the `with_*` setters,
/// which check invariants (setting the public fields directly is checked again by
/// [`RedisBus::connect`](crate::RedisBus::connect)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisBusConfig {
    /// Redis URL: `redis://[[user]:password@]host[:port][/db]`, or
    /// `redis-cluster://host:port?node=host2:port2…` for Redis Cluster. Default
    /// `redis://127.0.0.1:6379`, a Redis on this machine.
    pub url: String,
    /// This node's id, unique among the nodes sharing the Redis: events carrying it are this
    /// node's own and are ignored when they come back. Default `node-<ULID>`, random per
    /// process, so two servers never collide by accident.
    pub node_id: String,
    /// Prefix of every channel, so several deployments (or tests) can share one Redis.
    /// Default `chatcore:`.
    pub prefix: String,
    /// Use sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7+). Default `false`. Turn it on
    /// with Redis Cluster: classic pub/sub copies every message to every cluster node, while
    /// sharded pub/sub keeps a room's traffic on the shard that owns its channel.
    pub sharded: bool,
    /// Events waiting to be published, at most. Default 65 536: about a quarter of a second at
    /// full speed, and a few MiB at worst. When full, or while Redis is down, `publish` drops
    /// the event and counts it ([`BusStats::dropped`](crate::BusStats::dropped)); the hub
    /// repairs the gap from the store.
    pub publish_queue: usize,
    /// Most `PUBLISH` commands sent in one pipeline. Default 1024: large enough to amortize a
    /// round trip, small enough to keep a batch's latency well under a millisecond.
    pub max_batch: usize,
    /// Capacity of the client's buffer of received messages (fred's broadcast channel, 32 by
    /// default there). Default 4096: room for bursts while the handler is busy. A reader that
    /// falls further behind loses messages, counted in
    /// [`BusStats::lagged`](crate::BusStats::lagged) and repaired by seq. The client keeps
    /// several notification channels of this capacity, so each slot costs a few hundred bytes.
    pub broadcast_capacity: usize,
    /// First delay before reconnecting after Redis went away. Default 100 ms. Later attempts
    /// double it, up to [`reconnect_max`](Self::reconnect_max); attempts never stop.
    pub reconnect_min: Duration,
    /// Longest delay between reconnection attempts. Default 500 ms: a restarted Redis is used
    /// again within half a second whatever the length of the outage (contract 8 promises every
    /// member live again about a second after the bus returns), while one attempt every half
    /// second, a refused loopback or LAN connect, does not hammer a Redis that is down.
    pub reconnect_max: Duration,
    /// How long one connection attempt may take. Default 5 s.
    pub connect_timeout: Duration,
    /// How long a command (subscribe, ping, a publish batch) may take before it counts as
    /// failed. Default 5 s.
    pub command_timeout: Duration,
}

impl Default for RedisBusConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            node_id: format!("node-{}", ulid::Ulid::generate()),
            prefix: "chatcore:".into(),
            sharded: false,
            publish_queue: 65_536,
            max_batch: 1024,
            broadcast_capacity: 4096,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(5),
        }
    }
}

impl RedisBusConfig {
    /// The defaults with Redis at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Sets [`node_id`](Self::node_id) (not empty).
    pub fn with_node_id(mut self, node_id: impl Into<String>) -> Result<Self> {
        self.node_id = node_id.into();
        self.check_node_id()?;
        Ok(self)
    }

    /// Sets [`prefix`](Self::prefix) (may be empty).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets [`sharded`](Self::sharded).
    pub fn with_sharded(mut self, sharded: bool) -> Self {
        self.sharded = sharded;
        self
    }

    /// Sets [`publish_queue`](Self::publish_queue) (at least 1).
    pub fn with_publish_queue(mut self, events: usize) -> Result<Self> {
        self.publish_queue = events;
        self.check_sizes()?;
        Ok(self)
    }

    /// Sets [`max_batch`](Self::max_batch) (at least 1).
    pub fn with_max_batch(mut self, commands: usize) -> Result<Self> {
        self.max_batch = commands;
        self.check_sizes()?;
        Ok(self)
    }

    /// Sets [`broadcast_capacity`](Self::broadcast_capacity) (at least 16).
    pub fn with_broadcast_capacity(mut self, messages: usize) -> Result<Self> {
        self.broadcast_capacity = messages;
        self.check_sizes()?;
        Ok(self)
    }

    /// Sets [`reconnect_min`](Self::reconnect_min) and [`reconnect_max`](Self::reconnect_max)
    /// (at least 1 ms, `min <= max`, `max` under 50 days).
    pub fn with_reconnect_backoff(mut self, min: Duration, max: Duration) -> Result<Self> {
        self.reconnect_min = min;
        self.reconnect_max = max;
        self.check_durations()?;
        Ok(self)
    }

    /// Sets [`connect_timeout`](Self::connect_timeout) (not zero).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.connect_timeout = timeout;
        self.check_durations()?;
        Ok(self)
    }

    /// Sets [`command_timeout`](Self::command_timeout) (not zero).
    pub fn with_command_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.command_timeout = timeout;
        self.check_durations()?;
        Ok(self)
    }

    /// Checks every invariant the setters check.
    pub fn validate(&self) -> Result<()> {
        self.check_node_id()?;
        self.check_sizes()?;
        self.check_durations()
    }

    fn check_node_id(&self) -> Result<()> {
        if self.node_id.is_empty() {
            return Err(Error::Config("node_id must not be empty".into()));
        }
        Ok(())
    }

    fn check_sizes(&self) -> Result<()> {
        if self.publish_queue == 0 {
            return Err(Error::Config("publish_queue must be at least 1".into()));
        }
        if self.max_batch == 0 {
            return Err(Error::Config("max_batch must be at least 1".into()));
        }
        if self.broadcast_capacity < 16 {
            return Err(Error::Config(
                "broadcast_capacity must be at least 16".into(),
            ));
        }
        Ok(())
    }

    fn check_durations(&self) -> Result<()> {
        let max_ms = Duration::from_millis(u64::from(u32::MAX));
        if self.reconnect_min < Duration::from_millis(1) || self.reconnect_min > self.reconnect_max
        {
            return Err(Error::Config(
                "reconnect backoff needs 1 ms <= min <= max".into(),
            ));
        }
        if self.reconnect_max > max_ms {
            return Err(Error::Config("reconnect_max must be under 49 days".into()));
        }
        if self.connect_timeout.is_zero() || self.command_timeout.is_zero() {
            return Err(Error::Config("timeouts must not be zero".into()));
        }
        Ok(())
    }

    /// The channel prefix of room channels: `{prefix}room:`.
    pub(crate) fn room_channel_prefix(&self) -> String {
        format!("{}room:", self.prefix)
    }

    /// The channel of node-wide events: `{prefix}nodes`. Never a room channel, since those
    /// all start with `{prefix}room:`.
    pub(crate) fn nodes_channel(&self) -> String {
        format!("{}nodes", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_random() {
        let a = RedisBusConfig::default();
        let b = RedisBusConfig::default();
        a.validate().expect("defaults are valid");
        assert_ne!(a.node_id, b.node_id);
        assert_eq!(a.room_channel_prefix(), "chatcore:room:");
        assert_eq!(a.nodes_channel(), "chatcore:nodes");
    }

    #[test]
    fn setters_check_invariants() {
        let c = RedisBusConfig::new("redis://x");
        assert!(c.clone().with_node_id("").is_err());
        assert!(c.clone().with_publish_queue(0).is_err());
        assert!(c.clone().with_max_batch(0).is_err());
        assert!(c.clone().with_broadcast_capacity(8).is_err());
        assert!(
            c.clone()
                .with_reconnect_backoff(Duration::from_secs(2), Duration::from_secs(1))
                .is_err()
        );
        assert!(c.clone().with_command_timeout(Duration::ZERO).is_err());
        let ok = c
            .with_node_id("n1")
            .and_then(|c| c.with_publish_queue(10))
            .and_then(|c| {
                c.with_reconnect_backoff(Duration::from_millis(5), Duration::from_secs(1))
            })
            .expect("valid");
        assert_eq!(ok.node_id, "n1");
        assert_eq!(ok.publish_queue, 10);
    }
}
