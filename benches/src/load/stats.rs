//! What the connections count: shared counters (relaxed atomics, read live by the progress
//! bar), latency histograms (one pair per load-generator thread, merged at the end), and a
//! tally of error kinds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use hdrhistogram::Histogram;

/// Counters shared by every task of a run.
#[derive(Debug, Default)]
pub struct Counters {
    /// Message frames received (one per member per message).
    pub deliveries: AtomicU64,
    /// Messages sent by publishers.
    pub sent: AtomicU64,
    /// Acks received (baseline: own echoes).
    pub acks: AtomicU64,
    /// Connections that finished the handshake and joined their room.
    pub ready: AtomicU64,
    /// Connections that failed to connect or join.
    pub failed: AtomicU64,
    /// Error frames and failed sends.
    pub errors: AtomicU64,
    /// Connections the server closed (or lost) during the run.
    pub disconnects: AtomicU64,
    /// Of `sent`, the edits and reactions (`--changes`).
    pub changes: AtomicU64,
    /// `read` commands sent (`--read-every`).
    pub reads: AtomicU64,
    /// Answers to those `read` commands.
    pub read_replies: AtomicU64,
    /// `receipts` frames received (members' read positions, one frame per room per second).
    pub receipts: AtomicU64,
    errors_by_kind: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads `counter`.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts an error of `kind` (e.g. `rate_limited`, `close 4008`, `connect: …`).
    pub fn error(&self, kind: impl Into<String>) {
        Self::bump(&self.errors);
        self.tally(kind.into());
    }

    /// Counts a disconnect for `reason`.
    pub fn disconnect(&self, reason: impl Into<String>) {
        Self::bump(&self.disconnects);
        self.tally(reason.into());
    }

    /// Counts a connection that could not be opened.
    pub fn connect_failed(&self, reason: impl Into<String>) {
        Self::bump(&self.failed);
        self.tally(reason.into());
    }

    fn tally(&self, kind: String) {
        let mut kinds = self
            .errors_by_kind
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Bound the tally: messages can embed addresses or numbers.
        if kinds.len() < 32 || kinds.contains_key(&kind) {
            *kinds.entry(kind).or_default() += 1;
        } else {
            *kinds.entry("(other)".into()).or_default() += 1;
        }
    }

    /// The error kinds seen so far.
    pub fn kinds(&self) -> BTreeMap<String, u64> {
        self.errors_by_kind
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Highest latency recorded, in microseconds (larger values are clamped): 60 s.
const MAX_US: u64 = 60_000_000;

/// Latency histograms of one task, in microseconds.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Send → receipt at a member.
    pub delivery: Histogram<u64>,
    /// Send → ack at the publisher.
    pub ack: Histogram<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

fn histogram() -> Histogram<u64> {
    // Auto-resizing: it starts at 16 KiB and grows to the largest value recorded. With its
    // range fixed at 1 µs to 60 s each histogram took 139 KiB up front, two per connection
    // then, and zeroing them for 10,000 connections was most of the load generator's work
    // while they connected (it, not the server, set the pace of every ramp).
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are accepted"))
}

/// Records `us`, clamped to 1 µs..60 s; the histogram grows to it (`saturating_record` would
/// pin it to the histogram's current top instead).
fn record(h: &mut Histogram<u64>, us: u64) {
    // Fails only when growing the histogram cannot allocate; the sample is then dropped.
    let _ = h.record(us.clamp(1, MAX_US));
}

impl Recorder {
    /// Empty histograms (from 1 µs, 3 significant digits, values clamped to 60 s).
    pub fn new() -> Self {
        Self {
            delivery: histogram(),
            ack: histogram(),
        }
    }

    /// Records a delivery latency.
    pub fn delivery(&mut self, us: u64) {
        record(&mut self.delivery, us);
    }

    /// Records an ack latency.
    pub fn ack(&mut self, us: u64) {
        record(&mut self.ack, us);
    }

    /// Adds `other`'s samples to this one.
    pub fn merge(&mut self, other: &Recorder) {
        // Both sides resize automatically, so adding cannot fail.
        let _ = self.delivery.add(&other.delivery);
        let _ = self.ack.add(&other.ack);
    }
}

/// The latencies of one run, recorded by every task: one [`Recorder`] per load-generator
/// thread, so that a task records into histograms its thread used a moment ago. With a pair
/// per connection, `fanout`'s 1,000 pairs (tens of KiB each) did not fit the caches, and
/// recording a delivery was 11 % of the load generator's CPU, the run's bottleneck.
#[derive(Debug)]
pub struct Latencies {
    shards: Vec<Mutex<Recorder>>,
}

/// Numbers the threads that record, in the order they first do.
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's number.
    static THREAD: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

impl Latencies {
    /// Histograms for `threads` recording threads (a thread past them shares one).
    pub fn new(threads: usize) -> Self {
        Self {
            shards: (0..threads.max(1))
                .map(|_| Mutex::new(Recorder::new()))
                .collect(),
        }
    }

    /// The calling thread's histograms (uncontended unless threads outnumber them).
    fn mine(&self) -> MutexGuard<'_, Recorder> {
        let i = THREAD.with(|t| *t) % self.shards.len();
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a delivery latency.
    pub fn delivery(&self, us: u64) {
        self.mine().delivery(us);
    }

    /// Records an ack latency.
    pub fn ack(&self, us: u64) {
        self.mine().ack(us);
    }

    /// Every thread's samples together.
    pub fn merged(&self) -> Recorder {
        let mut all = Recorder::new();
        for shard in &self.shards {
            all.merge(&shard.lock().unwrap_or_else(|p| p.into_inner()));
        }
        all
    }
}

/// Percentiles of a histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest sample.
    pub max: u64,
}

impl Percentiles {
    /// The percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_samples() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for us in 1..=900 {
            a.delivery(us);
        }
        for _ in 0..100 {
            b.delivery(10_000);
        }
        b.ack(500);
        a.merge(&b);
        let p = Percentiles::of(&a.delivery);
        assert_eq!(p.count, 1_000);
        assert!((499..=501).contains(&p.p50), "{p:?}");
        assert!((899..=901).contains(&p.p90), "{p:?}");
        assert!((9_990..=10_010).contains(&p.p99), "{p:?}");
        assert!((9_990..=10_010).contains(&p.max), "{p:?}");
        assert_eq!(Percentiles::of(&a.ack).count, 1);
    }

    #[test]
    fn extremes_are_clamped() {
        let mut r = Recorder::new();
        r.delivery(0);
        r.delivery(u64::MAX);
        let p = Percentiles::of(&r.delivery);
        assert_eq!(p.count, 2);
        assert!(p.max >= MAX_US);
        assert_eq!(
            Percentiles::of(&Recorder::new().ack),
            Percentiles::default()
        );
    }

    #[test]
    fn a_new_recorder_is_small_and_grows_to_what_it_records() {
        // Two per connection: with a fixed 1 µs..60 s range each was 17,408 counts (139 KiB).
        let mut r = Recorder::new();
        assert!(
            r.delivery.distinct_values() <= 2_048,
            "{}",
            r.delivery.distinct_values()
        );
        r.delivery(30_000_000);
        assert!(r.delivery.distinct_values() > 2_048);
        assert!(Percentiles::of(&r.delivery).max >= 29_990_000);
    }

    #[test]
    fn latencies_from_every_thread_are_merged() {
        let l = std::sync::Arc::new(Latencies::new(2));
        let threads: Vec<_> = (0..3u64)
            .map(|t| {
                let l = std::sync::Arc::clone(&l);
                std::thread::spawn(move || {
                    for us in 1..=100 {
                        l.delivery(us * (t + 1));
                    }
                    l.ack(7);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("recording thread");
        }
        let all = l.merged();
        let p = Percentiles::of(&all.delivery);
        assert_eq!(p.count, 300, "three threads into two shards");
        assert!((299..=301).contains(&p.max), "{p:?}");
        assert_eq!(Percentiles::of(&all.ack).count, 3);
    }

    #[test]
    fn error_tally_is_bounded() {
        let c = Counters::default();
        for i in 0..100 {
            c.error(format!("kind {i}"));
        }
        c.error("kind 0");
        let kinds = c.kinds();
        assert!(kinds.len() <= 33);
        assert_eq!(kinds.get("kind 0"), Some(&2));
        assert_eq!(Counters::get(&c.errors), 101);
    }
}
