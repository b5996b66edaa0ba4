//! PostgreSQL store benchmarks (`chatcore-store-postgres`):
//!
//! 1. **Append throughput.** Durable appends (`synchronous_commit` as the server has it) of
//!    100-byte messages, each with a nonce as chatcore's clients send them (a ULID), into 8
//!    rooms; one pipelining task per room keeps many appends in flight without awaiting
//!    each. Goal: at least 100,000 messages/s. The messages are built before the clock
//!    starts, so the figure is the store's, not the generator's. Search indexing trails the
//!    appends (the node's indexer defers to busy pipelines); after the last ack a search
//!    brings the index up to date, and the time it took is reported too. Also reports the ack latency (append call → commit reply), the
//!    average batch size, retries and batches that looked their nonces up (0 here: no
//!    stored nonce is ever repeated, so every batch stays optimistic).
//! 2. **The same without nonces** (no `(nonce, sender)` index entry; the nonce lookup runs
//!    only after a conflict anyway, so neither phase pays for it).
//! 3. **Two nodes.** Two stores (separate pools and pipelines) on one schema write the same
//!    8 rooms at once, as two chat servers would: the rooms' row locks serialize them.
//! 4. **History latency.** A page of 50 at random `before` cursors in a room of
//!    `messages / 2` messages, one request at a time.
//!
//! ```text
//! cargo bench -p chatcore-benches --bench store_postgres
//! ```
//!
//! Environment: `CHATCORE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`; the benchmark works in a schema of its own and
//! drops it at the end), `CHATCORE_BENCH_MESSAGES` (messages in phase 1, default 500,000),
//! `CHATCORE_BENCH_QUERIES` (history pages, default 10,000), `CHATCORE_BENCH_PIPELINES` and
//! `CHATCORE_BENCH_MAX_BATCH` (store settings, default the store's defaults),
//! `CHATCORE_BENCH_PHASES` (which phases to run, e.g. `1,4`; default all).

use std::time::{Duration, Instant};

use chatcore::protocol::{MessageKind, RoomKind};
use chatcore::store::{NewMessage, NewRoom, SearchQuery, Store};
use chatcore_benches::workload::{Rng, body, history, print_appends, print_latency, produce};
use chatcore_store_postgres::{PostgresConfig, PostgresStore, WriteStats};
use hdrhistogram::Histogram;

/// Appends each producer keeps in flight before awaiting the oldest.
const WINDOW: usize = 4096;
const ROOMS: usize = 8;
const BODY_BYTES: usize = 100;
const PAGE: u32 = 50;

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
}

/// How producers make their messages.
#[derive(Clone, Copy)]
struct Shape {
    nonces: bool,
    /// Distinguishes producers writing the same room (ids and nonces stay unique).
    producer: u64,
}

fn message(room: &str, n: u64, rng: &mut Rng, shape: Shape) -> NewMessage {
    let sender = format!("user{}", rng.below(1000));
    NewMessage {
        room: room.to_owned(),
        id: format!("01BENCH{:03}{n:016}", shape.producer),
        // As chatcore-client makes them: time-ordered.
        nonce: shape.nonces.then(|| ulid::Ulid::generate().to_string()),
        sender,
        kind: MessageKind::Text,
        text: body(rng, BODY_BYTES),
        ts: chatcore::now_millis(),
        reply_to: None,
        data: None,
        ..Default::default()
    }
}

async fn create_room(store: &PostgresStore, name: &str) {
    store
        .create_room(NewRoom {
            name: name.to_owned(),
            kind: RoomKind::Public,
            creator: "bench".into(),
            created: chatcore::now_millis(),
        })
        .await
        .expect("create room");
}

/// The messages one producer sends to `room`, built before the clock starts.
fn messages(room: &str, count: usize, seed: u64, shape: Shape) -> Vec<NewMessage> {
    let mut rng = Rng(seed | 1);
    (0..count)
        .map(|n| message(room, n as u64, &mut rng, shape))
        .collect()
}

struct Throughput {
    messages: usize,
    elapsed: Duration,
    /// From the first append until a search had brought the search index up to date.
    indexed: Duration,
    acks: Histogram<u64>,
    batches: u64,
    appends: u64,
    retries: u64,
    lookups: u64,
}

impl Throughput {
    fn print(&self, label: &str) {
        let batches = format!(
            "{} commits, average batch {:.0}, {} retries, {} nonce lookups",
            self.batches,
            self.appends as f64 / self.batches.max(1) as f64,
            self.retries,
            self.lookups,
        );
        print_appends(
            label,
            self.messages,
            self.elapsed,
            self.indexed,
            &self.acks,
            &batches,
        );
    }
}

fn stats_sum(stores: &[PostgresStore]) -> WriteStats {
    let mut sum = WriteStats::default();
    for s in stores.iter().map(PostgresStore::write_stats) {
        sum.batches += s.batches;
        sum.appends += s.appends;
        sum.retries += s.retries;
        sum.lookups += s.lookups;
    }
    sum
}

/// `total` messages spread over `rooms` rooms; every store (node) runs one producer per room.
async fn throughput(
    stores: &[PostgresStore],
    prefix: &str,
    rooms: usize,
    total: usize,
    nonces: bool,
) -> Throughput {
    for r in 0..rooms {
        create_room(&stores[0], &format!("{prefix}{r}")).await;
    }
    let producers = rooms * stores.len();
    let mut work = Vec::new();
    for (node, store) in stores.iter().enumerate() {
        for r in 0..rooms {
            let p = node * rooms + r;
            let count = total / producers + usize::from(p < total % producers);
            let shape = Shape {
                nonces,
                producer: node as u64,
            };
            let msgs = messages(&format!("{prefix}{r}"), count, p as u64 * 7919 + 1, shape);
            work.push((store.clone(), msgs));
        }
    }
    let before = stats_sum(stores);
    let start = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(store, msgs)| tokio::spawn(produce(store, msgs, WINDOW)))
        .collect();
    let mut acks = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for t in tasks {
        acks.add(t.await.expect("producer")).expect("merge");
    }
    let elapsed = start.elapsed();
    // A search first indexes everything acknowledged before it (waiting for the indexers).
    stores[0]
        .search(SearchQuery {
            room: None,
            text: "caughtup".into(),
            limit: 1,
        })
        .await
        .expect("search");
    let indexed = start.elapsed();
    let after = stats_sum(stores);
    Throughput {
        messages: total,
        elapsed,
        indexed,
        acks,
        batches: after.batches - before.batches,
        appends: after.appends - before.appends,
        retries: after.retries - before.retries,
        lookups: after.lookups - before.lookups,
    }
}

async fn run() {
    let url = std::env::var("CHATCORE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let messages = env_usize("CHATCORE_BENCH_MESSAGES").unwrap_or(500_000);
    let queries = env_usize("CHATCORE_BENCH_QUERIES").unwrap_or(10_000);
    let mut config = PostgresConfig::new(url)
        .with_schema(format!("chatcore_bench_{}", std::process::id()))
        .expect("schema");
    if let Some(p) = env_usize("CHATCORE_BENCH_PIPELINES") {
        config = config.with_pipelines(p).expect("pipelines");
    }
    if let Some(b) = env_usize("CHATCORE_BENCH_MAX_BATCH") {
        config = config.with_max_batch(b).expect("max_batch");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "store_postgres: {cores} cores, {BODY_BYTES}-byte bodies, {ROOMS} rooms, {WINDOW} appends \
         in flight per room, {} pipelines, max batch {}, schema {}",
        config.pipelines, config.max_batch, config.schema
    );
    let _ = PostgresStore::drop_schema(&config).await;
    let store = match PostgresStore::connect(config.clone()).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("store_postgres: {e}");
            std::process::exit(1);
        }
    };
    let nodes = [store.clone()];
    let phases = std::env::var("CHATCORE_BENCH_PHASES").unwrap_or_else(|_| "1,2,3,4".into());
    let run = |phase: &str| phases.split(',').any(|p| p.trim() == phase);

    // 1. Throughput with nonces.
    if run("1") {
        let t = throughput(&nodes, "room-", ROOMS, messages, true).await;
        t.print("append with nonces");
    }

    // 2. Without nonces.
    if run("2") {
        let t = throughput(&nodes, "plain-", ROOMS, messages / 2, false).await;
        t.print("append without nonces");
    }

    // 3. Two nodes on the same rooms.
    if run("3") {
        let second = PostgresStore::connect(config.clone())
            .await
            .expect("second node");
        let both = [store.clone(), second.clone()];
        let t = throughput(&both, "shared-", ROOMS, messages / 2, true).await;
        t.print("append from 2 nodes into the same rooms");
        second.close().await.expect("close");
    }

    // 4. History: one room of `messages / 2` messages.
    if !run("4") {
        store.close().await.expect("close");
        drop((store, nodes));
        let _ = PostgresStore::drop_schema(&config).await;
        return;
    }
    let size = (messages / 2).max(PAGE as usize + 1);
    let fill = throughput(&nodes, "big-", 1, size, true).await;
    fill.print("append, 1 room (history setup)");
    let big = "big-0";
    assert_eq!(store.last_seq(big).await.expect("last_seq"), size as u64);
    history(&store, big, size as u64, PAGE, queries / 10).await; // warm-up
    let h = history(&store, big, size as u64, PAGE, queries).await;
    print_latency(
        &format!("history page of {PAGE}, room of {size}, random before"),
        &h,
    );

    store.close().await.expect("close");
    drop((store, nodes));
    if let Err(e) = PostgresStore::drop_schema(&config).await {
        eprintln!(
            "store_postgres: could not drop schema {}: {e}",
            config.schema
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}
