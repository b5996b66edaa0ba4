//! Cross-node delivery latency against same-node delivery, through two real hubs.
//!
//! Two `Hub`s share one in-memory store (so storage costs the same on both paths) and talk
//! over two `RedisBus`es. A sender on hub A sends at a fixed rate to one room; a member on
//! hub A (same node) and a member on hub B (other node) receive every message. For each
//! message the bench records when it was sent and when each member's outbound queue yielded
//! it, and reports same-node latency, cross-node latency, and what crossing nodes adds (the
//! difference, message by message).
//!
//! ```text
//! cargo bench -p chatcore-bus-redis --bench latency
//! ```
//!
//! Redis comes from `CHATCORE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`).
//! `BENCH_RATE` sets messages per second (default 10,000), `BENCH_SECONDS` the duration
//! (default 5). Hubs, Redis and the load share this machine's cores.

#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatcore::auth::Credentials;
use chatcore::protocol::{Codec, Command, Event, MessageKind, Request};
use chatcore::store::{MemoryStore, Store};
use chatcore::{Hub, Outgoing};
use chatcore_bus_redis::{RedisBus, RedisBusConfig};
use hdrhistogram::Histogram;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Arrival instants by message index (the text of each message is its index).
type Arrivals = Vec<Option<Instant>>;

/// Joins `user` to `room` on `hub` and collects message arrivals until `total` arrived or
/// the session ends (`total` 0: drains the session's queue until it ends).
async fn member(
    hub: &Hub,
    user: &str,
    room: &str,
    total: usize,
) -> Result<(chatcore::Session, tokio::task::JoinHandle<Arrivals>), BoxError> {
    let me = hub
        .authenticate(&Credentials::Guest(user.to_owned()))
        .await?;
    let (mut session, mut outbound) = hub.connect(me, Codec::Json)?;
    session
        .handle(Request::new(
            1,
            Command::Join {
                room: room.to_owned(),
                resume_after: None,
            },
        ))
        .await;
    // Wait for the join to complete before the load starts.
    loop {
        match outbound.recv().await {
            Outgoing::Frame(frame) if matches!(frame.event(), Event::Joined { .. }) => break,
            Outgoing::Frame(_) | Outgoing::Flush => {}
            Outgoing::Closed(reason) => return Err(format!("closed: {reason:?}").into()),
        }
    }
    let collector = tokio::spawn(async move {
        let mut arrivals: Arrivals = vec![None; total];
        let mut seen = 0;
        while total == 0 || seen < total {
            let Outgoing::Frame(frame) = outbound.recv().await else {
                break;
            };
            if let Event::Message(m) = frame.event() {
                if let Ok(i) = m.text.parse::<usize>() {
                    if i < total && arrivals[i].is_none() {
                        arrivals[i] = Some(Instant::now());
                        seen += 1;
                    }
                }
            }
        }
        arrivals
    });
    Ok((session, collector))
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn line(name: &str, h: &Histogram<u64>) -> String {
    format!(
        "{name:<34} p50 {:>7.3} ms   p99 {:>7.3} ms   p99.9 {:>7.3} ms   max {:>8.3} ms   n {}",
        h.value_at_quantile(0.50) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.value_at_quantile(0.999) as f64 / 1000.0,
        h.max() as f64 / 1000.0,
        h.len()
    )
}

async fn run(url: &str, rate: u64, seconds: u64) -> Result<(), BoxError> {
    let total = (rate * seconds) as usize;
    let prefix = format!("bench-latency-{}:", ulid::Ulid::generate());
    let bus = |node: &str| {
        RedisBusConfig::new(url)
            .with_node_id(node)
            .map(|c| c.with_prefix(prefix.clone()))
    };
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let limits = chatcore::Limits::default().with_queue_capacity(65_536)?;
    let (bus_a, bus_b) = (
        RedisBus::connect(bus("a")?).await?,
        RedisBus::connect(bus("b")?).await?,
    );
    let hub_a = Hub::builder()
        .shared_store(Arc::clone(&store))
        .bus(bus_a.clone())
        .limits(limits.clone())
        .build()
        .await?;
    let hub_b = Hub::builder()
        .shared_store(Arc::clone(&store))
        .bus(bus_b.clone())
        .limits(limits)
        .build()
        .await?;
    let room = "bench";
    let (mut sender, sender_acks) = member(&hub_a, "sender", room, 0).await?;
    let (_same, same_node) = member(&hub_a, "local", room, total).await?;
    let (_other, other_node) = member(&hub_b, "remote", room, total).await?;
    drop(sender_acks); // keeps draining the sender's acks in the background

    // Send `rate` messages per second in 1 ms ticks.
    let per_tick = (rate / 1000).max(1);
    let mut sent: Vec<Instant> = Vec::with_capacity(total);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    while sent.len() < total {
        tick.tick().await;
        for _ in 0..per_tick {
            if sent.len() == total {
                break;
            }
            let i = sent.len();
            sent.push(Instant::now());
            sender
                .handle(Request::new(
                    (i + 2) as u64,
                    Command::Send {
                        room: room.to_owned(),
                        text: i.to_string(),
                        nonce: None,
                        kind: MessageKind::Text,
                        reply_to: None,
                        data: None,
                    },
                ))
                .await;
        }
    }
    let send_elapsed = started.elapsed();
    let wait = Duration::from_secs(30);
    let same = tokio::time::timeout(wait, same_node).await??;
    let other = tokio::time::timeout(wait, other_node).await??;

    let (mut h_same, mut h_other, mut h_added) = (histogram(), histogram(), histogram());
    let mut earlier_remote = 0u64;
    let mut lost = 0u64;
    for i in 0..total {
        let (Some(a), Some(b)) = (same[i], other[i]) else {
            lost += 1;
            continue;
        };
        let us = |d: Duration| (d.as_micros() as u64).max(1);
        h_same.record(us(a - sent[i]))?;
        h_other.record(us(b - sent[i]))?;
        match b.checked_duration_since(a) {
            Some(added) => h_added.record(us(added))?,
            None => {
                earlier_remote += 1;
                h_added.record(1)?;
            }
        }
    }
    println!(
        "{total} messages at {rate}/s to one room (sent in {:.2} s), one member per node",
        send_elapsed.as_secs_f64()
    );
    println!("{}", line("same node (send -> local member)", &h_same));
    println!("{}", line("other node (send -> remote member)", &h_other));
    println!("{}", line("added by crossing nodes", &h_added));
    let (a, b) = (bus_a.stats(), bus_b.stats());
    println!(
        "remote before local: {earlier_remote} (counted as 0); not delivered to both: {lost}; \
         bus A published {} dropped {}; bus B received {} lagged {}",
        a.published, a.dropped, b.received, b.lagged
    );
    hub_a.shutdown(Duration::from_secs(5)).await?;
    hub_b.shutdown(Duration::from_secs(5)).await?;
    Ok(())
}

fn main() {
    let url = std::env::var("CHATCORE_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (rate, seconds) = (env("BENCH_RATE", 10_000), env("BENCH_SECONDS", 5));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Redis bus delivery latency, {url}; load average before: {}",
        load.trim()
    );
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
    if let Err(e) = runtime.block_on(run(&url, rate, seconds)) {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.trim());
}
