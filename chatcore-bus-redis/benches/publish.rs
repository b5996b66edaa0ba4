//! Publish throughput of the Redis bus: one node publishes message events with a 100-byte
//! text as fast as its queue drains (pipelined), a second node subscribed to the rooms counts
//! what it receives.
//!
//! ```text
//! cargo bench -p chatcore-bus-redis --bench publish
//! ```
//!
//! Redis comes from `CHATCORE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`); without a
//! reachable Redis the benchmark says so and exits. `BENCH_MESSAGES` sets the number of
//! events per scenario (default 1,000,000), `BENCH_FILTER` runs only the scenarios whose name
//! contains it. Both nodes and Redis share this machine's cores,
//! so the figures are a floor for separate machines.

#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chatcore::bus::{Bus, BusEvent, BusHandler, Envelope};
use chatcore::protocol::{Message, MessageKind};
use chatcore_bus_redis::{RedisBus, RedisBusConfig};

/// Counts received events and remembers when the last one came.
struct Counter {
    received: AtomicU64,
    start: Instant,
    last_us: AtomicU64,
}

impl BusHandler for Counter {
    fn on_event(&self, _envelope: Envelope) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.last_us
            .store(self.start.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

struct Scenario {
    name: &'static str,
    rooms: usize,
    sharded: bool,
}

fn event(room: &str, seq: u64, text: &str) -> BusEvent {
    BusEvent::Message(Message {
        room: room.to_owned(),
        seq,
        id: "01JBENCHMARK0000000000000".to_owned(),
        sender: "benchmark".to_owned(),
        kind: MessageKind::Text,
        text: text.to_owned(),
        ts: 1_700_000_000_000,
        nonce: None,
        reply_to: None,
        data: None,
        ..Default::default()
    })
}

type BoxError = Box<dyn std::error::Error>;

async fn run(url: &str, scenario: &Scenario, total: u64) -> Result<(), BoxError> {
    let prefix = format!("bench-{}:", ulid::Ulid::generate());
    let config = |node: &str| -> Result<RedisBusConfig, chatcore_bus_redis::Error> {
        Ok(RedisBusConfig::new(url)
            .with_node_id(node)?
            .with_prefix(prefix.clone())
            .with_sharded(scenario.sharded))
    };
    let publisher = RedisBus::connect(config("publisher")?).await?;
    let receiver = RedisBus::connect(config("receiver")?).await?;
    let start = Instant::now();
    let counter = Arc::new(Counter {
        received: AtomicU64::new(0),
        start,
        last_us: AtomicU64::new(0),
    });
    receiver.start(counter.clone()).await?;
    publisher
        .start(Arc::new(Counter {
            received: AtomicU64::new(0),
            start,
            last_us: AtomicU64::new(0),
        }))
        .await?;
    let rooms: Vec<String> = (0..scenario.rooms.max(1))
        .map(|i| format!("room-{i}"))
        .collect();
    for room in rooms.iter().take(scenario.rooms) {
        receiver.subscribe(room).await?;
    }
    let text = "x".repeat(100);
    let half_queue = RedisBusConfig::default().publish_queue as u64 / 2;

    let start = Instant::now();
    // The producer runs on the runtime's workers, like a hub would. It publishes in chunks
    // and, when the queue is half full, sleeps a little: publish itself never waits (it would
    // drop), and the figure wanted is throughput, not drops.
    let producer = {
        let publisher = publisher.clone();
        let rooms = rooms.clone();
        tokio::spawn(async move {
            let mut seq = 0u64;
            while seq < total {
                for _ in 0..1024.min(total - seq) {
                    seq += 1;
                    let room = &rooms[(seq as usize) % rooms.len()];
                    publisher.publish(event(room, seq, &text));
                }
                while publisher.stats().queued > half_queue {
                    tokio::time::sleep(Duration::from_micros(100)).await;
                }
            }
        })
    };
    producer.await?;
    while {
        let s = publisher.stats();
        s.published + s.dropped < total
    } {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let publish_elapsed = start.elapsed();
    let counter_start = counter.start;
    // Wait for the receiver to catch up, or to stop making progress.
    let mut last = 0;
    let mut idle = 0;
    while counter.received.load(Ordering::Relaxed) < total && idle < 20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = counter.received.load(Ordering::Relaxed);
        idle = if now == last { idle + 1 } else { 0 };
        last = now;
    }
    let received = counter.received.load(Ordering::Relaxed);
    let receive_elapsed = (counter_start
        + Duration::from_micros(counter.last_us.load(Ordering::Relaxed)))
    .saturating_duration_since(start);
    let p = publisher.stats();
    let r = receiver.stats();
    println!(
        "{:<28} {:>9} {:>11.0}/s {:>9} {:>9} {:>11.0}/s {:>7} {:>7}",
        scenario.name,
        p.published,
        p.published as f64 / publish_elapsed.as_secs_f64(),
        p.dropped,
        received,
        received as f64 / receive_elapsed.as_secs_f64().max(1e-9),
        r.lagged,
        r.decode_errors,
    );
    publisher.close().await?;
    receiver.close().await?;
    Ok(())
}

fn main() {
    let url = std::env::var("CHATCORE_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let total: u64 = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a Tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let sample = chatcore_bus_redis_wire_len(&"x".repeat(100));
    println!(
        "Redis bus publish throughput: {total} message events per scenario, 100-byte text ({sample} bytes on the wire), {url}"
    );
    println!(
        "{:<28} {:>9} {:>13} {:>9} {:>9} {:>13} {:>7} {:>7}",
        "scenario",
        "published",
        "publish rate",
        "dropped",
        "received",
        "receive rate",
        "lagged",
        "bad"
    );
    let scenarios = [
        Scenario {
            name: "no subscriber",
            rooms: 0,
            sharded: false,
        },
        Scenario {
            name: "classic, 1 room",
            rooms: 1,
            sharded: false,
        },
        Scenario {
            name: "classic, 100 rooms",
            rooms: 100,
            sharded: false,
        },
        Scenario {
            name: "sharded, 1 room",
            rooms: 1,
            sharded: true,
        },
    ];
    let filter = std::env::var("BENCH_FILTER").unwrap_or_default();
    runtime.block_on(async {
        for scenario in scenarios
            .iter()
            .filter(|s| s.name.contains(filter.as_str()))
        {
            if let Err(e) = run(&url, scenario, total).await {
                eprintln!("skipped: {e}");
                return;
            }
        }
    });
}

/// The encoded size of one benchmark event (the same MessagePack the bus sends).
fn chatcore_bus_redis_wire_len(text: &str) -> usize {
    rmp_serde::to_vec_named(&Envelope {
        origin: "publisher".into(),
        event: event("room-0", 1, text),
    })
    .map_or(0, |v| v.len())
}
