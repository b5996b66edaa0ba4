//! History with current state (issue #13): the latency of a `history` page, each message as it
//! is now (edits applied, reactions aggregated with `me`, thread summaries), in a room of
//! 1,000,000 messages carrying 100,000 reactions and 10,000 edits. Goal: p99 at most 1 ms.
//!
//! The room is filled through the store's own append pipeline (the change events are
//! ordinary appends of kind `react` and `edit`, checked by the store as the hub's would be),
//! interleaved with the messages as a live room makes them: each change targets one of the
//! 200 newest messages, a reaction by one of 1,000 users with one of 8 emoji, an edit by the
//! message's sender. The file is kept (named after the sizes) and reused by later runs, so
//! only the first run pays for the fill.
//!
//! Measured, one request at a time, `viewer` set (so `me` is computed), default page size
//! (50, the protocol's `history_on_join`):
//! 1. the latest page (what `joined` and a client opening the room ask for);
//! 2. pages at random `before` cursors anywhere in the room (scrolling back, deep pages).
//!
//! ```text
//! cargo bench -p chatcore-benches --bench history_current
//! ```
//!
//! With `CHATCORE_BENCH_STORE=postgres` the same room is built in PostgreSQL
//! (`CHATCORE_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`), in a
//! schema named after the sizes that is kept for later runs (drop it by hand when done).
//!
//! Environment: `CHATCORE_BENCH_DIR` (where the room's file is kept, default
//! `/var/tmp/chatcore-history-current`), `CHATCORE_BENCH_MESSAGES` (default 1,000,000),
//! `CHATCORE_BENCH_REACTIONS` (default 100,000), `CHATCORE_BENCH_EDITS` (default 10,000),
//! `CHATCORE_BENCH_QUERIES` (pages per measurement, default 20,000).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use chatcore::protocol::{MessageKind, RoomKind};
use chatcore::store::{HistoryQuery, NewMessage, NewRoom, Store};
use chatcore_benches::load::changes::EMOJI;
use chatcore_benches::workload::{
    Rng, body, env_usize, print_latency, produce, run_on_two_workers,
};
use chatcore_store_postgres::{PostgresConfig, PostgresStore};
use chatcore_store_sqlite::{SqliteConfig, SqliteStore};
use hdrhistogram::Histogram;

const ROOM: &str = "big";
/// The protocol's default page (`history_on_join`).
const PAGE: u32 = 50;
const BODY_BYTES: usize = 100;
const USERS: u64 = 1_000;
/// Changes target one of this many newest messages.
const RECENT: u64 = 200;
/// Appends kept in flight by the fill.
const WINDOW: usize = 1024;

/// The sizes of the room.
#[derive(Debug, Clone, Copy)]
struct Shape {
    messages: u64,
    reactions: u64,
    edits: u64,
}

impl Shape {
    fn events(&self) -> u64 {
        self.messages + self.reactions + self.edits
    }
}

fn user(n: u64) -> String {
    format!("user{n}")
}

/// Every event of the room in seq order: messages, with the change events spread evenly
/// among them, each on a recent message.
fn events(shape: Shape) -> Vec<NewMessage> {
    let mut rng = Rng(0x5eed_0001);
    let mut out = Vec::with_capacity(shape.events() as usize);
    // Sender of each seq (index seq - 1); `None` for change events.
    let mut senders: Vec<Option<u64>> = Vec::with_capacity(shape.events() as usize);
    // Message seqs, newest last.
    let mut messages: Vec<u64> = Vec::with_capacity(shape.messages as usize);
    let mut reacted: HashSet<(u64, usize, u64)> = HashSet::new();
    let (mut reactions, mut edits) = (0u64, 0u64);
    let event = |out: &Vec<NewMessage>, sender: u64, kind: MessageKind, text: String| {
        let n = out.len() as u64 + 1;
        NewMessage {
            room: ROOM.to_owned(),
            id: format!("01HIST{n:020}"),
            sender: user(sender),
            kind,
            text,
            ts: 1_700_000_000_000 + n as i64 * 100,
            ..Default::default()
        }
    };
    for m in 0..shape.messages {
        let sender = rng.below(USERS);
        let msg = event(&out, sender, MessageKind::Text, body(&mut rng, BODY_BYTES));
        out.push(msg);
        senders.push(Some(sender));
        messages.push(out.len() as u64);
        // Changes owed by now, in proportion to the messages written.
        let due = |total: u64| total * (m + 1) / shape.messages;
        while reactions < due(shape.reactions) {
            let back = rng.below(RECENT.min(messages.len() as u64)) as usize;
            let target = messages[messages.len() - 1 - back];
            let emoji = rng.below(EMOJI.len() as u64) as usize;
            let who = rng.below(USERS);
            if !reacted.insert((target, emoji, who)) {
                continue;
            }
            let mut r = event(&out, who, MessageKind::React, EMOJI[emoji].to_owned());
            r.target = Some(target);
            out.push(r);
            senders.push(None);
            reactions += 1;
        }
        while edits < due(shape.edits) {
            let back = rng.below(RECENT.min(messages.len() as u64)) as usize;
            let target = messages[messages.len() - 1 - back];
            let Some(owner) = senders[target as usize - 1] else {
                continue;
            };
            let mut e = event(&out, owner, MessageKind::Edit, body(&mut rng, BODY_BYTES));
            e.target = Some(target);
            out.push(e);
            senders.push(None);
            edits += 1;
        }
    }
    out
}

/// Creates the room in an empty `store` and appends every event, as fast as the store's
/// pipeline takes them.
async fn fill<S: Store + Clone>(store: &S, shape: Shape, place: &str) {
    store
        .create_room(NewRoom {
            name: ROOM.to_owned(),
            kind: RoomKind::Public,
            creator: "bench".into(),
            created: 1_700_000_000_000,
        })
        .await
        .expect("create room");
    let all = events(shape);
    let start = Instant::now();
    produce(store.clone(), all, WINDOW).await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "filled {place} with {} events in {secs:.1} s ({:.0} events/s)",
        shape.events(),
        shape.events() as f64 / secs
    );
    assert_eq!(
        store.last_seq(ROOM).await.expect("last_seq"),
        shape.events()
    );
}

/// Opens the kept PostgreSQL schema, filling it first when it does not hold the whole room.
async fn open_postgres(shape: Shape) -> PostgresStore {
    let url = std::env::var("CHATCORE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let config = PostgresConfig::new(url)
        .with_schema(format!(
            "chatcore_history_{}_{}_{}",
            shape.messages, shape.reactions, shape.edits
        ))
        .expect("schema");
    let store = PostgresStore::connect(config.clone())
        .await
        .expect("connect");
    let have = store.last_seq(ROOM).await.expect("last_seq");
    if have == shape.events() {
        println!("reusing schema {} ({have} events)", config.schema);
        return store;
    }
    store.close().await.expect("close");
    drop(store);
    PostgresStore::drop_schema(&config)
        .await
        .expect("drop schema");
    let store = PostgresStore::connect(config.clone())
        .await
        .expect("connect");
    fill(&store, shape, &format!("schema {}", config.schema)).await;
    store
}

/// Opens the kept room file, filling it first when it does not hold the whole room.
async fn open_sqlite(shape: Shape) -> SqliteStore {
    let dir = std::env::var_os("CHATCORE_BENCH_DIR").map_or_else(
        || PathBuf::from("/var/tmp/chatcore-history-current"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("bench directory");
    let path = dir.join(format!(
        "room-{}-{}-{}.db",
        shape.messages, shape.reactions, shape.edits
    ));
    let store = SqliteStore::open_with(SqliteConfig::new(&path)).expect("open");
    let have = store.last_seq(ROOM).await.expect("last_seq");
    if have == shape.events() {
        println!("reusing {} ({have} events)", path.display());
        return store;
    }
    store.close().await.expect("close");
    drop(store);
    // The database, its WAL, and the search index beside it (`-search`, with its own WAL).
    for suffix in ["", "-wal", "-shm", "-search", "-search-wal", "-search-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let store = SqliteStore::open_with(SqliteConfig::new(&path)).expect("open");
    fill(&store, shape, &path.display().to_string()).await;
    store
}

/// What the measured pages held, to show they were real.
#[derive(Default)]
struct Seen {
    pages: u64,
    messages: u64,
    edited: u64,
    reactions: u64,
    mine: u64,
}

async fn page<S: Store>(store: &S, query: HistoryQuery, viewer: &str, seen: &mut Seen) -> u64 {
    let start = Instant::now();
    let got = store
        .history_current(ROOM, query, Some(viewer))
        .await
        .expect("history");
    let ns = start.elapsed().as_nanos() as u64;
    assert_eq!(got.messages.len(), PAGE as usize, "a full page");
    seen.pages += 1;
    for m in &got.messages {
        seen.messages += 1;
        seen.edited += u64::from(m.edited_ts.is_some());
        seen.reactions += m.reactions.iter().map(|r| r.count).sum::<u64>();
        seen.mine += m.reactions.iter().filter(|r| r.me).count() as u64;
    }
    ns
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram")
}

fn report(label: &str, hist: &Histogram<u64>, seen: &Seen) {
    print_latency(label, hist);
    println!(
        "    per page on average: {:.1} edited messages, {:.1} reactions ({:.2} of the viewer's)",
        seen.edited as f64 / seen.pages as f64,
        seen.reactions as f64 / seen.pages as f64,
        seen.mine as f64 / seen.pages as f64,
    );
}

async fn run() {
    let shape = Shape {
        messages: env_usize("CHATCORE_BENCH_MESSAGES", 1_000_000) as u64,
        reactions: env_usize("CHATCORE_BENCH_REACTIONS", 100_000) as u64,
        edits: env_usize("CHATCORE_BENCH_EDITS", 10_000) as u64,
    };
    assert!(
        shape.messages >= u64::from(PAGE) * 2,
        "a room of a few pages"
    );
    let queries = env_usize("CHATCORE_BENCH_QUERIES", 20_000);
    if std::env::var("CHATCORE_BENCH_STORE").as_deref() == Ok("postgres") {
        let store = open_postgres(shape).await;
        measure(&store, shape, queries).await;
        store.close().await.expect("close");
    } else {
        let store = open_sqlite(shape).await;
        measure(&store, shape, queries).await;
        store.close().await.expect("close");
    }
}

/// The two measurements of `queries` pages each.
async fn measure<S: Store>(store: &S, shape: Shape, queries: usize) {
    let total = shape.events();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);

    // 1. The latest page.
    let mut seen = Seen::default();
    for _ in 0..queries / 10 {
        page(store, HistoryQuery::latest(PAGE), "user7", &mut seen).await; // warm-up
    }
    let (mut hist, mut seen) = (histogram(), Seen::default());
    for i in 0..queries {
        let viewer = user(i as u64 % USERS);
        let ns = page(store, HistoryQuery::latest(PAGE), &viewer, &mut seen).await;
        hist.saturating_record(ns);
    }
    report(
        &format!("history_current, latest page of {PAGE}, room of {total} events"),
        &hist,
        &seen,
    );

    // 2. Pages at random cursors (mostly deep in the room).
    let (mut hist, mut seen) = (histogram(), Seen::default());
    for i in 0..queries {
        let viewer = user(i as u64 % USERS);
        // A cursor with at least a page of events below it.
        let before = u64::from(PAGE) * 2 + rng.below(total - u64::from(PAGE) * 2);
        let query = HistoryQuery::before(before, PAGE);
        let ns = page(store, query, &viewer, &mut seen).await;
        hist.saturating_record(ns);
    }
    report(
        &format!("history_current, page of {PAGE} at a random cursor, room of {total} events"),
        &hist,
        &seen,
    );
}

fn main() {
    run_on_two_workers(run());
}
