//! Issue #13 items 6–8 through the hub, part two: read receipts, coalesced to one frame per
//! room per second and sent with the next frame or at the next tick.

mod read_common;

use std::time::Duration;

use chatcore::Outgoing;
use chatcore::protocol::{Command, Event};
use chatcore_testkit::{SessionProbe, memory_hub};
use read_common::read;

/// The `receipts` frames `c` got until a ping is answered (everything queued before it),
/// each as its (user, seq) pairs.
async fn receipts(c: &mut SessionProbe) -> Vec<Vec<(String, u64)>> {
    let mut got = Vec::new();
    let id = c.request(Command::Ping {}).await;
    loop {
        match c.event().await {
            Event::Receipts { reads, .. } => {
                got.push(reads.into_iter().map(|r| (r.user, r.seq)).collect())
            }
            Event::Pong { id: Some(p) } if p == id => return got,
            _ => {}
        }
    }
}

#[tokio::test(start_paused = true)]
async fn receipts_are_coalesced_to_one_frame_per_room_per_second() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    let mut cat = SessionProbe::connect(&hub, "cat").await;
    for c in [&mut ann, &mut bob, &mut cat] {
        c.join("r").await;
    }
    for i in 0..51 {
        ann.send("r", &format!("m{i}")).await;
    }
    // 50 reads by bob and one by cat within one second: one frame, with bob's newest.
    for seq in 1..=50 {
        let id = bob.request(read("r", seq)).await;
        bob.reply(id).await;
    }
    let id = cat.request(read("r", 7)).await;
    cat.reply(id).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let both = vec![("bob".to_owned(), 50), ("cat".to_owned(), 7)];
    assert_eq!(receipts(&mut ann).await, std::slice::from_ref(&both));
    assert_eq!(
        receipts(&mut bob).await,
        [both],
        "the reader's own sessions too"
    );
    // A read that moves nothing shows nothing; the next move shows once more, alone.
    for seq in [30, 50, 51] {
        let id = bob.request(read("r", seq)).await;
        bob.reply(id).await;
    }
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(receipts(&mut ann).await, [[("bob".to_owned(), 51)]]);
}

#[tokio::test(start_paused = true)]
async fn a_receipt_rides_along_with_the_next_frame_or_leaves_at_the_next_tick() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    ann.join("r").await;
    bob.join("r").await;
    let seq = ann.send("r", "lunch?").await;
    assert!(receipts(&mut ann).await.is_empty(), "drained");
    // Ann's write pump waits, as a transport's does.
    let SessionProbe {
        session: _ann, out, ..
    } = ann;
    let pump = tokio::spawn(async move {
        let mut out = out;
        match out.recv().await {
            Outgoing::Frame(frame) => frame.event().clone(),
            Outgoing::Closed(reason) => panic!("closed: {reason:?}"),
            Outgoing::Flush => panic!("no direct sink is attached here"),
        }
    });
    let id = bob.request(read("r", seq)).await;
    bob.reply(id).await;
    // The room's tick queued the receipts frame but woke nobody for it alone ...
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(!pump.is_finished(), "a receipt alone costs no write");
    // ... and its next tick sends it, with or without new reads.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let event = pump.await.expect("pump");
    assert!(
        matches!(&event, Event::Receipts { reads, .. } if reads[0].user == "bob"),
        "{event:?}"
    );
}
