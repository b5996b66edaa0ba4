//! [`Ctx`]: what every task of one run shares.

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::load::plan::Plan;
use crate::load::stats::{Counters, Latencies};

/// The plan, the counters, and the phase signals of one run.
#[derive(Debug)]
pub struct Ctx {
    /// The validated settings.
    pub plan: Plan,
    /// Shared counters.
    pub counters: Counters,
    /// Latency histograms, one pair per thread of the runtime.
    pub latencies: Latencies,
    /// Bounds the handshakes in progress.
    pub handshakes: Semaphore,
    /// Cancelled when every connection is ready: publishers start.
    pub go: CancellationToken,
    /// Cancelled at the end of `--duration`: publishers stop sending (in-flight sends and
    /// deliveries still complete).
    pub stop_publishing: CancellationToken,
    /// Cancelled after the drain: every task returns its histograms.
    pub stop: CancellationToken,
}

impl Ctx {
    /// A context for `plan`.
    pub fn new(plan: Plan) -> Self {
        Self {
            handshakes: Semaphore::new(plan.handshakes),
            plan,
            counters: Counters::default(),
            latencies: Latencies::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            ),
            go: CancellationToken::new(),
            stop_publishing: CancellationToken::new(),
            stop: CancellationToken::new(),
        }
    }

    /// Publisher number of connection `i`: its index, tagged with the user prefix so that
    /// publishers of several load processes in one room stay distinct.
    pub fn publisher_id(&self, i: usize) -> u32 {
        let tag = self
            .plan
            .user_prefix
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        (tag << 16) ^ (i as u32)
    }
}
