//! Issue #13 items 6–8 through the hub, part one: mentions, read positions (synced between a
//! user's sessions and nodes, written behind) and unread and mention badges. Receipts are in
//! `read_receipts.rs`, search and lookup in `read_search.rs`.

mod read_common;

use std::sync::Arc;
use std::time::Duration;

use chatcore::bus::{Bus, LocalNetwork};
use chatcore::protocol::{Command, Event, Receipt, RoomSummary};
use chatcore::store::{MemoryStore, Store};
use chatcore::{ErrorCode, Hub};
use chatcore_testkit::{SessionProbe, eventually, memory_hub};
use read_common::read;

/// The next `read` pushed to `c` unasked (no request id): its room and position.
async fn pushed_read(c: &mut SessionProbe) -> (String, u64) {
    match c.until(|e| matches!(e, Event::Read { .. })).await {
        Event::Read {
            id: None,
            room,
            seq,
        } => (room, seq),
        e => panic!("a read with a request id: {e:?}"),
    }
}

/// The caller's room list row of `room`.
async fn badge(c: &mut SessionProbe, room: &str) -> RoomSummary {
    let id = c.request(Command::Rooms {}).await;
    match c.reply(id).await {
        Event::Rooms { rooms, .. } => rooms
            .into_iter()
            .find(|r| r.name == room)
            .expect("room listed"),
        e => panic!("rooms: {e:?}"),
    }
}

#[tokio::test]
async fn mentions_are_members_stored_sorted_and_notified() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    let mut bob_elsewhere = SessionProbe::connect(&hub, "bob").await;
    let mut cy = SessionProbe::connect(&hub, "cy").await;
    for c in [&mut ann, &mut bob, &mut cy] {
        c.join("r").await;
    }
    // `dan` is no member, `ann` is the sender, `cy` appears twice, `bob,` loses its comma.
    let seq = ann
        .send(
            "r",
            "@cy hi @bob, @dan and @ann; ping @cy again, mail x@cy.org",
        )
        .await;
    let page = hub
        .history("r", Some("ann"), chatcore::store::HistoryQuery::latest(1))
        .await
        .expect("history");
    assert_eq!(page.messages[0].mentions, ["bob", "cy"]);
    for c in [&mut bob, &mut bob_elsewhere, &mut cy] {
        let e = c.until(|e| matches!(e, Event::Mention { .. })).await;
        let Event::Mention {
            room,
            seq: s,
            sender,
            text,
            ..
        } = e
        else {
            unreachable!()
        };
        assert_eq!((room.as_str(), s, sender.as_str()), ("r", seq, "ann"));
        assert!(text.starts_with("@cy hi"));
    }
    // The sender and non-members get no mention event.
    let id = ann.request(Command::Ping {}).await;
    let e = ann
        .until(|e| matches!(e, Event::Mention { .. } | Event::Pong { .. }))
        .await;
    assert_eq!(e, Event::Pong { id: Some(id) });
    assert_eq!(badge(&mut bob, "r").await.mentions, 1);
    assert_eq!(badge(&mut ann, "r").await.mentions, 0);
}

#[tokio::test]
async fn read_syncs_other_device_and_clears_its_badge() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut phone = SessionProbe::connect(&hub, "bob").await;
    let mut laptop = SessionProbe::connect(&hub, "bob").await;
    ann.join("r").await;
    phone.join("r").await;
    let mut last = 0;
    for i in 0..3 {
        last = ann.send("r", &format!("m{i} @bob")).await;
    }
    // The laptop never joined the room: a fresh client reads its badges from `rooms`.
    let before = badge(&mut laptop, "r").await;
    assert_eq!((before.unread, before.mentions), (3, 3));
    let id = phone.request(read("r", last)).await;
    assert_eq!(
        phone.reply(id).await,
        Event::Read {
            id: Some(id),
            room: "r".into(),
            seq: last
        }
    );
    // Pushed to the other device at once, no request of its own.
    assert_eq!(pushed_read(&mut laptop).await, ("r".to_owned(), last));
    let after = badge(&mut laptop, "r").await;
    assert_eq!((after.unread, after.mentions), (0, 0));
    // Own messages never count; change events of others would not either (kind rule,
    // covered by the store contract).
    laptop.join("r").await;
    laptop.send("r", "mine").await;
    assert_eq!(badge(&mut laptop, "r").await.unread, 0);
}

#[tokio::test]
async fn read_never_moves_backwards_and_clamps_to_the_head() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    ann.send("r", "one").await;
    ann.send("r", "two").await;
    let id = ann.request(read("r", 1_000)).await;
    assert!(matches!(ann.reply(id).await, Event::Read { seq: 2, .. }));
    let id = ann.request(read("r", 1)).await;
    assert!(matches!(ann.reply(id).await, Event::Read { seq: 2, .. }));
    let id = ann.request(read("nowhere", 1)).await;
    assert_eq!(ann.error(id).await, ErrorCode::UnknownRoom);
}

#[tokio::test]
async fn an_id_less_read_moves_the_position_unanswered_but_a_failure_is_answered() {
    let hub = memory_hub().await;
    let mut phone = SessionProbe::connect(&hub, "bob").await;
    let mut laptop = SessionProbe::connect(&hub, "bob").await;
    phone.join("r").await;
    let seq = phone.send("r", "hello").await;
    phone.notify(read("r", seq)).await;
    assert_eq!(pushed_read(&mut laptop).await, ("r".to_owned(), seq));
    // Everything queued for the phone before the pong: no answer to its read.
    let ping = phone.request(Command::Ping {}).await;
    loop {
        match phone.event().await {
            Event::Pong { id } if id == Some(ping) => break,
            e => assert!(!matches!(e, Event::Read { .. }), "answered: {e:?}"),
        }
    }
    phone.notify(read("nowhere", 1)).await;
    let refused = phone.until(|e| matches!(e, Event::Error { .. })).await;
    assert!(
        matches!(
            refused,
            Event::Error {
                id: None,
                code: ErrorCode::UnknownRoom,
                ..
            }
        ),
        "{refused:?}"
    );
}

/// A hub on a memory store where `ann` joined `r`, sent three messages and read to seq 2.
async fn read_two_of_three() -> (Arc<MemoryStore>, Hub, SessionProbe) {
    let store = Arc::new(MemoryStore::new());
    let hub = Hub::builder()
        .shared_store(store.clone())
        .build()
        .await
        .expect("hub");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    for i in 0..3 {
        ann.send("r", &format!("m{i}")).await;
    }
    let id = ann.request(read("r", 2)).await;
    assert!(matches!(ann.reply(id).await, Event::Read { seq: 2, .. }));
    (store, hub, ann)
}

#[tokio::test]
async fn read_positions_are_written_behind_and_at_shutdown() {
    let (store, hub, mut ann) = read_two_of_three().await;
    eventually(|| async { store.read_position("r", "ann").await.expect("position") == 2 }).await;
    // A move answered just before shutdown is written by it, not lost with the timer.
    let id = ann.request(read("r", 3)).await;
    assert!(matches!(ann.reply(id).await, Event::Read { seq: 3, .. }));
    hub.shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    assert_eq!(store.read_position("r", "ann").await.expect("position"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_new_session_knows_a_move_not_yet_written() {
    let (store, hub, _ann) = read_two_of_three().await;
    assert_eq!(store.read_position("r", "ann").await.expect("position"), 0);
    // The clock stands still: the move is not written yet when another session reads.
    let mut phone = SessionProbe::connect(&hub, "ann").await;
    let id = phone.request(read("r", 1)).await;
    assert!(
        matches!(phone.reply(id).await, Event::Read { seq: 2, .. }),
        "the position never moves back"
    );
}

#[tokio::test]
async fn read_reaches_the_users_sessions_and_members_on_another_node() {
    let store = Arc::new(MemoryStore::new());
    let net = LocalNetwork::new();
    let mut hubs = Vec::new();
    for id in ["a", "b"] {
        let bus: Arc<dyn Bus> = Arc::new(net.node(id));
        hubs.push(
            Hub::builder()
                .shared_store(store.clone())
                .shared_bus(bus)
                .build()
                .await
                .expect("hub"),
        );
    }
    let mut ann_b = SessionProbe::connect(&hubs[1], "ann").await;
    let mut bob_a = SessionProbe::connect(&hubs[0], "bob").await;
    let mut bob_b = SessionProbe::connect(&hubs[1], "bob").await;
    ann_b.join("r").await;
    bob_a.join("r").await;
    let seq = ann_b.send("r", "hi @bob").await;
    bob_b.until(|e| matches!(e, Event::Mention { .. })).await;
    // bob marks read on node a what node a delivered to him (a read is capped at the
    // newest seq the node knows, and the message reaches node a over the bus).
    bob_a
        .until(|e| matches!(e, Event::Message(m) if m.seq == seq))
        .await;
    let id = bob_a.request(read("r", seq)).await;
    bob_a.reply(id).await;
    let e = bob_b.until(|e| matches!(e, Event::Read { .. })).await;
    assert!(matches!(e, Event::Read { id: None, seq: s, .. } if s == seq));
    let e = ann_b.until(|e| matches!(e, Event::Receipts { .. })).await;
    assert_eq!(
        e,
        Event::Receipts {
            room: "r".into(),
            reads: vec![Receipt {
                user: "bob".into(),
                seq
            }],
        }
    );
}
