//! SQLite store benchmarks (`chatcore-store-sqlite`):
//!
//! 1. **Append throughput.** Durable appends (WAL, `synchronous=NORMAL`) of 100-byte
//!    messages, each with a nonce as chatcore's clients send them (a ULID), into 8 rooms,
//!    one pipelining task per room keeping many appends in flight without awaiting each. Goal: at least 200,000
//!    messages/s. The messages are built before the clock starts, so the figure is the
//!    store's, not the message generator's. Also reports the ack latency (append call →
//!    commit reply), the average batch size, and when the search index (which trails the
//!    appends on a thread of its own) had caught up: the rate with all work included.
//! 2. **The same with `synchronous=FULL`** (an fsync per batch), smaller, for comparison.
//! 3. **History latency.** A page of 50 from a room of 1,000,000 messages at random `before`
//!    cursors, one request at a time. Goal: p99 at most 1 ms.
//! 4. **History latency while appends run** (reads never wait for the writer; on 2 cores
//!    they do share the CPU).
//!
//! ```text
//! cargo bench -p chatcore-benches --bench store_sqlite
//! ```
//!
//! Environment: `CHATCORE_BENCH_DIR` (directory for the temporary database, default the
//! system temp dir), `CHATCORE_BENCH_MESSAGES` (messages in phase 1 and in the history
//! room, default 1,000,000), `CHATCORE_BENCH_QUERIES` (history pages, default 20,000),
//! `CHATCORE_BENCH_WINDOW` (appends in flight per producer, default 1024),
//! `CHATCORE_BENCH_PHASES` (which phases to run, e.g. `1,2`; default all).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chatcore::protocol::{MessageKind, RoomKind};
use chatcore::store::{NewMessage, NewRoom, Store};
use chatcore_benches::workload::{
    Rng, body, env_usize, history, print_appends, print_latency, produce, run_on_two_workers,
};
use chatcore_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use hdrhistogram::Histogram;

/// Appends each producer keeps in flight before awaiting the oldest (default; see
/// `CHATCORE_BENCH_WINDOW`).
const WINDOW: usize = 1024;

fn window() -> usize {
    env_usize("CHATCORE_BENCH_WINDOW", WINDOW).max(1)
}
const ROOMS: usize = 8;
const BODY_BYTES: usize = 100;
const PAGE: u32 = 50;

fn message(room: &str, n: u64, rng: &mut Rng) -> NewMessage {
    NewMessage {
        room: room.to_owned(),
        id: format!("01BENCH{n:019}"),
        sender: format!("user{}", rng.below(1000)),
        kind: MessageKind::Text,
        text: body(rng, BODY_BYTES),
        ts: chatcore::now_millis(),
        // As chatcore-client makes them: time-ordered.
        nonce: Some(ulid::Ulid::generate().to_string()),
        reply_to: None,
        data: None,
        ..Default::default()
    }
}

/// The messages one producer sends, built up front.
fn messages(room: &str, count: usize, seed: u64) -> Vec<NewMessage> {
    let mut rng = Rng(seed | 1);
    (0..count)
        .map(|n| message(room, n as u64, &mut rng))
        .collect()
}

async fn create_room(store: &SqliteStore, name: &str) {
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

/// CPU seconds used so far by each kind of thread of this process (from `/proc`, Linux
/// only; empty elsewhere). Reader threads are summed as `sqlite-reader`, tokio workers as
/// `tokio`.
fn thread_cpu() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // utime and stime: fields 14 and 15 of stat(5), in clock ticks (USER_HZ = 100).
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let seconds = (ticks(11) + ticks(12)) / 100.0;
        let kind = if comm.starts_with("sqlite-reader") {
            "sqlite-reader"
        } else if comm.starts_with("tokio") {
            "tokio"
        } else if comm.starts_with("sqlite-") {
            comm
        } else {
            "other"
        };
        *out.entry(kind.to_owned()).or_insert(0.0) += seconds;
    }
    out
}

/// CPU used between two [`thread_cpu`] snapshots, per kind of thread.
fn cpu_since(before: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    thread_cpu()
        .into_iter()
        .map(|(k, v)| {
            let used = v - before.get(&k).copied().unwrap_or(0.0);
            (k, used)
        })
        .filter(|(_, v)| *v > 0.0)
        .collect()
}

struct Throughput {
    messages: usize,
    elapsed: Duration,
    /// From the first append until the search index held every message.
    indexed: Duration,
    acks: Histogram<u64>,
    commits: u64,
    writes: u64,
    largest_batch: u64,
    cpu: BTreeMap<String, f64>,
}

impl Throughput {
    fn print(&self, label: &str) {
        let batches = format!(
            "{} commits, average batch {:.0}, largest {}",
            self.commits,
            self.writes as f64 / self.commits.max(1) as f64,
            self.largest_batch,
        );
        print_appends(
            label,
            self.messages,
            self.elapsed,
            self.indexed,
            &self.acks,
            &batches,
        );
        let cpu: Vec<String> = self
            .cpu
            .iter()
            .map(|(k, v)| format!("{k} {v:.2} s"))
            .collect();
        println!("    CPU: {}", cpu.join(", "));
        if let Some(writer) = self.cpu.get("sqlite-writer") {
            let per = writer * 1e6 / self.messages as f64;
            println!(
                "    writer thread: {per:.2} µs CPU per message (a writer with a core to itself \
                 would reach about {:.0} messages/s)",
                1e6 / per
            );
        }
    }
}

/// Phase 1/2: `total` messages spread over `rooms` pipelining producers.
async fn throughput(store: &SqliteStore, prefix: &str, rooms: usize, total: usize) -> Throughput {
    for r in 0..rooms {
        create_room(store, &format!("{prefix}{r}")).await;
    }
    let work: Vec<Vec<NewMessage>> = (0..rooms)
        .map(|r| {
            let count = total / rooms + usize::from(r < total % rooms);
            messages(&format!("{prefix}{r}"), count, r as u64 * 7919 + 1)
        })
        .collect();
    let before = store.stats();
    let cpu_before = thread_cpu();
    let start = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|msgs| tokio::spawn(produce(store.clone(), msgs, window())))
        .collect();
    let mut acks = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for t in tasks {
        acks.add(t.await.expect("producer")).expect("merge");
    }
    let elapsed = start.elapsed();
    loop {
        let stats = store.stats();
        if stats.indexed >= stats.messages {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let indexed = start.elapsed();
    let cpu = cpu_since(&cpu_before);
    let after = store.stats();
    Throughput {
        messages: total,
        elapsed,
        indexed,
        acks,
        commits: after.commits - before.commits,
        writes: after.writes - before.writes,
        largest_batch: after.largest_batch,
        cpu,
    }
}

fn temp_dir() -> tempfile::TempDir {
    match std::env::var_os("CHATCORE_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir).expect("temporary directory"),
        None => tempfile::tempdir().expect("temporary directory"),
    }
}

async fn run() {
    let messages = env_usize("CHATCORE_BENCH_MESSAGES", 1_000_000);
    let queries = env_usize("CHATCORE_BENCH_QUERIES", 20_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "store_sqlite: {cores} cores, {BODY_BYTES}-byte bodies, {ROOMS} rooms, {} appends \
         in flight per room",
        window()
    );

    let dir = temp_dir();
    let store =
        SqliteStore::open_with(SqliteConfig::new(dir.path().join("bench.db"))).expect("open");

    let phases = std::env::var("CHATCORE_BENCH_PHASES").unwrap_or_else(|_| "1,2,3,4".into());
    let phase = |n: &str| phases.split(',').any(|p| p.trim() == n);

    // 1. Throughput, synchronous=NORMAL.
    if phase("1") {
        let t = throughput(&store, "room-", ROOMS, messages).await;
        t.print("append (synchronous=NORMAL)");
    }
    if phase("3") || phase("4") {
        history_phases(&store, messages, queries).await;
    }
    store.close().await.expect("close");
    drop(store);

    // 2. Throughput, synchronous=FULL, smaller.
    if phase("2") {
        let full_dir = temp_dir();
        let full = SqliteStore::open_with(
            SqliteConfig::new(full_dir.path().join("bench-full.db"))
                .with_synchronous(Synchronous::Full),
        )
        .expect("open");
        let t = throughput(&full, "room-", ROOMS, (messages / 5).max(ROOMS)).await;
        t.print("append (synchronous=FULL)");
        full.close().await.expect("close");
    }
}

/// Phases 3 and 4: history pages from a room of `messages` messages, alone and while
/// appends run.
async fn history_phases(store: &SqliteStore, messages: usize, queries: usize) {
    // 3. History: one room of `messages` messages (filled through the store itself).
    let fill = throughput(store, "big-", 1, messages).await;
    fill.print("append, 1 room (history setup)");
    let big = "big-0";
    assert_eq!(
        store.last_seq(big).await.expect("last_seq"),
        messages as u64
    );
    history(store, big, messages as u64, PAGE, queries / 10).await; // warm-up
    let h = history(store, big, messages as u64, PAGE, queries).await;
    print_latency(
        &format!("history page of {PAGE}, room of {messages}, random before"),
        &h,
    );

    // 4. The same while 8 producers append to other rooms.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { throughput(&store, "busy-", ROOMS, messages / 2).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let h = history(store, big, messages as u64, PAGE, queries / 4).await;
    print_latency("history page of 50 while appending", &h);
    writer
        .await
        .expect("writer")
        .print("append during history reads");
}

fn main() {
    run_on_two_workers(run());
}
