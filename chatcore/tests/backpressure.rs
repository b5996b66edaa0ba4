//! Contract 5: bounded outbound queues. A consumer that stops reading is disconnected with a
//! distinct reason and recovers by resuming; one that reads, but slower than a burst arrives,
//! is caught up from the store instead; nobody else slows down or loses anything.

use std::time::{Duration, Instant};

use chatcore::protocol::{Command, Event};
use chatcore::{CloseReason, Hub, Limits};
use chatcore_testkit::{SessionProbe, seqs};

/// How long a full queue may take nothing before its session is closed, in these tests.
const STALL: Duration = Duration::from_millis(300);

async fn small_queue_hub() -> Hub {
    let limits = Limits::default()
        .with_queue_capacity(16)
        .and_then(|l| l.with_slow_consumer_after(STALL))
        .expect("limits");
    Hub::builder().limits(limits).build().await.expect("hub")
}

/// Waits (at most 5 s) until the hub has closed `n` slow consumers; returns how long it took.
async fn slow_consumers(hub: &Hub, n: u64) -> Duration {
    let started = Instant::now();
    while hub.stats().slow_consumers < n {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no slow consumer"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_disconnected_others_unaffected_and_it_resumes() {
    let hub = small_queue_hub().await;
    let mut slow = SessionProbe::connect(&hub, "slow").await;
    let Event::Joined { .. } = slow.join("r").await else {
        unreachable!()
    };
    let mut fast = SessionProbe::connect(&hub, "fast").await;
    fast.join("r").await;
    let total = 100;
    let reading = tokio::spawn(async move { fast.messages("r", total).await });
    let mut sender = SessionProbe::connect(&hub, "sender").await;
    sender.join("r").await;
    for i in 0..total {
        // The sender reads its own queue (acks and echoes) as it goes.
        sender.send("r", &i.to_string()).await;
    }
    let got = reading.await.expect("fast reader");
    assert_eq!(seqs(&got), (1..=total as u64).collect::<Vec<_>>());
    // The slow session never read: once its full queue took nothing for STALL, it was cut
    // off with the distinct reason.
    slow_consumers(&hub, 1).await;
    assert_eq!(slow.closed().await, CloseReason::SlowConsumer);
    assert_eq!(hub.stats().slow_consumers, 1);
    // It recovers through resume (contract 3), from the last message it did receive (none).
    drop(slow);
    let mut back = SessionProbe::connect(&hub, "slow").await;
    let Event::Joined {
        history, complete, ..
    } = back.join_from("r", Some(0)).await
    else {
        unreachable!()
    };
    assert!(complete);
    assert_eq!(seqs(&history), (1..=total as u64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_behind_a_burst_larger_than_its_queue_is_caught_up_not_cut_off() {
    let hub = small_queue_hub().await;
    let mut reader = SessionProbe::connect(&hub, "reader").await;
    reader.join("r").await;
    let mut sender = SessionProbe::connect(&hub, "sender").await;
    sender.join("r").await;
    // Ten queues' worth while the reader does not read: it falls behind.
    let total = 160;
    for i in 0..total {
        sender.send("r", &i.to_string()).await;
    }
    // It reads, slowly (a pause shorter than STALL after every few frames), and gets every
    // message once, in order, then live ones, without being closed.
    let mut got = Vec::new();
    while got.len() < total {
        if let Event::Message(m) = reader.event().await {
            got.push(m);
        }
        if got.len() % 8 == 0 {
            tokio::time::sleep(STALL / 3).await;
        }
    }
    sender.send("r", "live").await;
    got.extend(reader.messages("r", 1).await);
    assert_eq!(seqs(&got), (1..=total as u64 + 1).collect::<Vec<_>>());
    assert_eq!(reader.session.close_reason(), None);
    assert_eq!(hub.stats().slow_consumers, 0);
    // Nothing trails the last message: a ping's pong comes next.
    let id = reader.request(Command::Ping {}).await;
    assert!(matches!(reader.event().await, Event::Pong { id: Some(p) } if p == id));
}

#[tokio::test]
async fn typing_floods_are_dropped_not_disconnected() {
    let hub = small_queue_hub().await;
    let mut idle = SessionProbe::connect(&hub, "idle").await;
    idle.join("r").await;
    let mut typist = SessionProbe::connect(&hub, "typist").await;
    typist.join("r").await;
    for i in 0..200 {
        typist
            .request(Command::Typing {
                room: "r".into(),
                on: i % 2 == 0,
            })
            .await;
    }
    assert_eq!(
        idle.session.close_reason(),
        None,
        "ephemeral frames never disconnect"
    );
    assert!(hub.stats().dropped_ephemeral > 0);
    // A real message still gets through after the flood.
    typist.send("r", "hello").await;
    let got = idle.messages("r", 1).await;
    assert_eq!(got[0].text, "hello");
}
