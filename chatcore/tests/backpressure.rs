//! Contract 5: bounded outbound queues. A consumer that cannot keep up is disconnected with a
//! distinct reason and recovers by resuming; nobody else slows down or loses anything.

use chatcore::protocol::{Command, Event};
use chatcore::{CloseReason, Hub, Limits};
use chatcore_testkit::{SessionProbe, seqs};

async fn small_queue_hub() -> Hub {
    let limits = Limits::default().with_queue_capacity(16).expect("limits");
    Hub::builder().limits(limits).build().await.expect("hub")
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
    // The slow session never read: it was cut off with the distinct reason.
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
