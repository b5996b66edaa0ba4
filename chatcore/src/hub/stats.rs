//! Counters a transport exports as metrics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Live counters of one hub. Cheap to bump (relaxed atomics); read with [`Stats::snapshot`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) sessions_opened: AtomicU64,
    pub(crate) sessions_closed: AtomicU64,
    pub(crate) messages_in: AtomicU64,
    pub(crate) deliveries: AtomicU64,
    pub(crate) dropped_ephemeral: AtomicU64,
    pub(crate) slow_consumers: AtomicU64,
    pub(crate) gaps_repaired: AtomicU64,
    pub(crate) bus_received: AtomicU64,
    pub(crate) fanout_nanos: AtomicU64,
    pub(crate) fanouts: AtomicU64,
}

/// A point-in-time copy of the hub's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Sessions currently connected.
    pub sessions: u64,
    /// Rooms loaded in memory.
    pub rooms: u64,
    /// Messages committed from local senders.
    pub messages_in: u64,
    /// Frames queued to sessions (every message × recipient, plus other events).
    pub deliveries: u64,
    /// Typing/presence frames dropped for lagging sessions.
    pub dropped_ephemeral: u64,
    /// Sessions disconnected because their queue was full.
    pub slow_consumers: u64,
    /// Messages read back from the store to fill a seq gap.
    pub gaps_repaired: u64,
    /// Events received from other nodes.
    pub bus_received: u64,
    /// Total time spent queueing committed messages to local members, nanoseconds.
    pub fanout_nanos: u64,
    /// Number of message fan-outs.
    pub fanouts: u64,
}

impl Stats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self, rooms: u64) -> StatsSnapshot {
        let opened = self.sessions_opened.load(Relaxed);
        let closed = self.sessions_closed.load(Relaxed);
        StatsSnapshot {
            sessions: opened.saturating_sub(closed),
            rooms,
            messages_in: self.messages_in.load(Relaxed),
            deliveries: self.deliveries.load(Relaxed),
            dropped_ephemeral: self.dropped_ephemeral.load(Relaxed),
            slow_consumers: self.slow_consumers.load(Relaxed),
            gaps_repaired: self.gaps_repaired.load(Relaxed),
            bus_received: self.bus_received.load(Relaxed),
            fanout_nanos: self.fanout_nanos.load(Relaxed),
            fanouts: self.fanouts.load(Relaxed),
        }
    }
}
