//! What the append path counts: [`WriteStats`], the snapshot the store reports, and the
//! atomics behind it that the pipelines bump.

use std::sync::atomic::AtomicU64;

/// Counters of the append path since the store opened (for metrics and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteStats {
    /// Transactions committed by the writer pipelines.
    pub batches: u64,
    /// Appends answered from committed batches: new messages, duplicates and unknown rooms.
    pub appends: u64,
    /// Appends whose nonce had been used before (answered with the original).
    pub duplicates: u64,
    /// Attempts rolled back and planned again (nonce races, deadlocks, lost connections).
    pub retries: u64,
    /// Batches that failed, each failing all of its appends.
    pub failed_batches: u64,
    /// Committed batches that looked their nonces up before copying (the batch that hit a
    /// stored nonce and the batches after it; see the crate docs, "Nonces").
    pub lookups: u64,
}

/// The atomics behind [`WriteStats`]; relaxed, they are only read for reporting.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) batches: AtomicU64,
    pub(super) appends: AtomicU64,
    pub(super) duplicates: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) failed_batches: AtomicU64,
    pub(super) lookups: AtomicU64,
}
