//! The store benchmarks' shared workload: deterministic message bodies (so runs and stores
//! compare) and the history-latency phase.

use std::collections::VecDeque;
use std::time::Instant;

use chatcore::store::{HistoryQuery, NewMessage, Pending, Store};
use hdrhistogram::Histogram;

/// The number in environment variable `name` (`_` allowed as a digit separator), or
/// `default` when it is unset or not a number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Runs `bench` to completion on a tokio runtime of two workers, as the store benchmarks do
/// (the machine they are written for has two cores).
///
/// # Panics
///
/// When the runtime cannot be built.
pub fn run_on_two_workers<F: std::future::Future>(bench: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(bench)
}

/// A small deterministic PRNG (xorshift64*), so runs are comparable.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A pseudo-random number below `n` (which must not be 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const WORDS: &[&str] = &[
    "hello",
    "world",
    "chat",
    "room",
    "message",
    "rust",
    "store",
    "async",
    "batch",
    "commit",
    "latency",
    "throughput",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "this",
    "was",
    "but",
    "be",
    "have",
    "from",
    "or",
    "one",
    "all",
    "would",
    "there",
    "their",
    "what",
    "so",
    "up",
    "out",
    "if",
    "about",
    "who",
    "get",
    "which",
    "go",
    "me",
    "when",
    "make",
    "can",
    "like",
    "time",
    "no",
    "just",
    "him",
    "know",
    "take",
    "people",
    "into",
    "year",
    "your",
    "good",
    "some",
    "could",
    "them",
    "see",
    "other",
    "than",
    "then",
    "now",
    "look",
    "only",
    "come",
    "its",
    "over",
    "think",
    "also",
    "back",
    "after",
    "use",
    "two",
    "how",
    "our",
    "work",
    "first",
    "well",
    "way",
    "even",
    "new",
    "want",
    "because",
    "any",
    "these",
    "give",
    "day",
    "most",
    "us",
    "deploy",
    "ship",
];

/// A body of exactly `bytes` bytes of words (so full-text indexing does real work).
pub fn body(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s.truncate(bytes);
    s
}

/// `queries` history pages of `page` messages at random `before` cursors in a room of `size`
/// messages, one request at a time; the latency of each, in nanoseconds.
///
/// # Panics
///
/// When a page fails or is not full: the benchmark must measure real pages.
pub async fn history(
    store: &dyn Store,
    room: &str,
    size: u64,
    page: u32,
    queries: usize,
) -> Histogram<u64> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let page64 = u64::from(page);
    for _ in 0..queries {
        // before in [page + 1, size + 1]: every page is full.
        let before = page64 + 1 + rng.below(size - page64 + 1);
        let start = Instant::now();
        let got = store
            .history(room, HistoryQuery::before(before, page))
            .await
            .expect("history");
        hist.saturating_record(start.elapsed().as_nanos() as u64);
        assert_eq!(got.messages.len(), page as usize);
        assert_eq!(got.messages[page as usize - 1].seq, before - 1);
    }
    hist
}

/// Prints a history latency histogram (recorded in nanoseconds) as one line in µs.
pub fn print_latency(label: &str, hist: &Histogram<u64>) {
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{label}: {} pages; p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        hist.len(),
        us(0.50),
        us(0.90),
        us(0.99),
        us(0.999),
        hist.max() as f64 / 1000.0,
    );
}

/// Appends `msgs` to `store`, keeping up to `window` appends in flight (awaiting the oldest
/// before adding another); returns the ack latency of each (µs), append call to reply.
pub async fn produce<S: Store>(store: S, msgs: Vec<NewMessage>, window: usize) -> Histogram<u64> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut in_flight: VecDeque<(Instant, Pending<_>)> = VecDeque::with_capacity(window);
    for (n, m) in msgs.into_iter().enumerate() {
        if in_flight.len() >= window.max(1) {
            let (start, p) = in_flight.pop_front().expect("non-empty");
            p.await.expect("append");
            hist.saturating_record(start.elapsed().as_micros() as u64);
        }
        in_flight.push_back((Instant::now(), store.append(m)));
        // Let the other producers and the reply wake-ups run now and then.
        if n % 256 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for (start, p) in in_flight {
        p.await.expect("append");
        hist.saturating_record(start.elapsed().as_micros() as u64);
    }
    hist
}

/// Prints one append phase: `messages` acknowledged in `acked` (with the ack latency
/// percentiles), then how long after the last ack the search index held them all
/// (`indexed`, measured from the same start). `batches` describes the store's batching.
pub fn print_appends(
    label: &str,
    messages: usize,
    acked: std::time::Duration,
    indexed: std::time::Duration,
    acks: &Histogram<u64>,
    batches: &str,
) {
    println!(
        "{label}: {messages} messages in {:.2} s = {:.0} messages/s; {batches}; ack latency \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        acked.as_secs_f64(),
        messages as f64 / acked.as_secs_f64(),
        acks.value_at_quantile(0.50) as f64 / 1000.0,
        acks.value_at_quantile(0.99) as f64 / 1000.0,
        acks.max() as f64 / 1000.0,
    );
    println!(
        "    search index caught up {:.2} s after the last ack: {:.0} messages/s with \
         indexing included",
        indexed.saturating_sub(acked).as_secs_f64(),
        messages as f64 / indexed.as_secs_f64(),
    );
}
