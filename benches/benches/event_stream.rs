//! Event-stream throughput: a backlog of committed messages in 8 rooms, read by one consumer
//! that commits its cursor every 100 events, from SQLite and from PostgreSQL
//! (`CHATCORE_TEST_POSTGRES_URL`; skipped without it). `BENCHMARKS.md`, "Event stream".
//!
//! `CHATCORE_BENCH_EVENTS=100000 cargo bench -p chatcore-benches --bench event_stream`

#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use chatcore::Hub;
use chatcore::events::StreamConfig;
use chatcore::protocol::{MessageKind, RoomKind};
use chatcore::store::{NewMessage, NewRoom, Store};
use chatcore_store_postgres::{PostgresConfig, PostgresStore};
use chatcore_store_sqlite::SqliteStore;

const ROOMS: usize = 8;

async fn fill(store: &Arc<dyn Store>, events: usize) {
    for r in 0..ROOMS {
        store
            .create_room(NewRoom {
                name: format!("room-{r}"),
                kind: RoomKind::Public,
                creator: "bench".into(),
                created: chatcore::now_millis(),
            })
            .await
            .expect("room");
    }
    for chunk in (0..events).collect::<Vec<_>>().chunks(1024) {
        let pending: Vec<_> = chunk
            .iter()
            .map(|i| {
                store.append(NewMessage {
                    room: format!("room-{}", i % ROOMS),
                    id: ulid::Ulid::generate().to_string(),
                    sender: "bench".into(),
                    kind: MessageKind::Text,
                    text: "x".repeat(100),
                    ts: chatcore::now_millis(),
                    nonce: None,
                    reply_to: None,
                    data: None,
                    ..Default::default()
                })
            })
            .collect();
        for p in pending {
            p.await.expect("append");
        }
    }
}

async fn consume(name: &str, store: Arc<dyn Store>, events: usize) {
    fill(&store, events).await;
    let hub = Hub::builder()
        .shared_store(Arc::clone(&store))
        .build()
        .await
        .expect("hub");
    let mut stream = hub
        .event_stream(StreamConfig::new("bench").with_page(500))
        .expect("stream");
    let start = Instant::now();
    for i in 1..=events {
        let event = stream.next().await.expect("next");
        if i % 100 == 0 || i == events {
            stream.commit(&event).await.expect("commit");
        }
    }
    let took = start.elapsed();
    println!(
        "{name}: {events} events in {:.2} s = {:.0} events/s (cursor committed every 100)",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64()
    );
    hub.shutdown(std::time::Duration::from_secs(5))
        .await
        .expect("shutdown");
}

fn main() {
    let events: usize = std::env::var("CHATCORE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir_in("/var/tmp").expect("tempdir");
        let sqlite: Arc<dyn Store> =
            Arc::new(SqliteStore::open(dir.path().join("events.db")).expect("sqlite"));
        consume("sqlite", sqlite, events).await;
        match std::env::var("CHATCORE_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => {
                let schema = format!("bench_events_{}", std::process::id());
                let config = PostgresConfig::new(url)
                    .with_schema(schema)
                    .expect("schema");
                let pg: Arc<dyn Store> =
                    Arc::new(PostgresStore::connect(config).await.expect("postgres"));
                consume("postgres", pg, events).await;
            }
            _ => println!("postgres: skipped (set CHATCORE_TEST_POSTGRES_URL)"),
        }
    });
}
