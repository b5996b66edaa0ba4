//! Counters of the bus, for metrics.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a [`RedisBus`](crate::RedisBus)'s counters, from
/// [`RedisBus::stats`](crate::RedisBus::stats). Counters only grow, from the bus's creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusStats {
    /// Events Redis accepted (one `PUBLISH` each).
    pub published: u64,
    /// Outgoing events discarded: the publish queue was full, Redis was disconnected, a batch
    /// failed, or the bus was closed. The bus is at most once; the hub repairs by seq.
    pub dropped: u64,
    /// Events of other nodes handed to the hub.
    pub received: u64,
    /// This node's own events that came back from Redis and were ignored.
    pub own: u64,
    /// Payloads on a room channel that were not a valid envelope (logged, ignored).
    pub decode_errors: u64,
    /// Incoming messages lost because the reader fell behind the client's buffer
    /// ([`RedisBusConfig::broadcast_capacity`](crate::RedisBusConfig::broadcast_capacity)).
    pub lagged: u64,
    /// Times the hub was told that events may have been lost (the reader fell behind, or the
    /// subscribed connection came back after a disconnect), so it checked its rooms against
    /// the store.
    pub gaps_suspected: u64,
    /// `Head` events published again because the events announcing a room's newest messages
    /// were dropped here (queue full, Redis away): other nodes then repair from the store.
    pub heads_reannounced: u64,
    /// Successful reconnections of either of the bus's two connections (publishing, subscribed).
    pub reconnects: u64,
    /// Events waiting in the publish queue right now.
    pub queued: u64,
    /// Whether both connections are up right now.
    pub connected: bool,
    /// Rooms this node is subscribed to right now.
    pub rooms: u64,
}

/// The live counters behind [`BusStats`], shared by the bus and its tasks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) received: AtomicU64,
    pub(crate) own: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    pub(crate) lagged: AtomicU64,
    pub(crate) gaps_suspected: AtomicU64,
    pub(crate) heads_reannounced: AtomicU64,
}

impl Counters {
    /// Adds `n` to `counter` and returns the new value. Relaxed: these are statistics, they
    /// order nothing.
    pub(crate) fn add(counter: &AtomicU64, n: u64) -> u64 {
        counter.fetch_add(n, Ordering::Relaxed).wrapping_add(n)
    }

    /// Reads a counter.
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Whether the `n`th occurrence of something noisy should be logged: the first ten, then
/// every power of two, so a flood of bad input cannot flood the log.
pub(crate) fn worth_logging(n: u64) -> bool {
    n <= 10 || n.is_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logging_thins_out() {
        let logged = (1..=100_000).filter(|n| worth_logging(*n)).count();
        assert!(logged < 30, "{logged}");
        assert!(worth_logging(1));
    }
}
