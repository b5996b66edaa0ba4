//! What a reader's corked turn writes, and when (issue #16): in a small room the sender's own
//! copy and its ack are written while the turn goes on, since its client sends its next
//! message when the ack comes; the members' frames wait for the end of the turn and go out
//! together, one write per member however many messages the turn handled. A big room's
//! messages are corked only on a one-worker runtime and while the room is quiet (no message
//! of its own, and no corked turn's writes on that thread, for a while); otherwise its
//! members' write pumps write them.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use chatcore::protocol::{Codec, Event, Frame};
use chatcore::transport::{Direct, DirectSink, poll_corked};
use chatcore_testkit::{SessionProbe, memory_hub};

/// Each write a [`Recorder`] took, as the events it carried.
type Writes = Arc<Mutex<Vec<Vec<Event>>>>;

/// A socket stand-in that takes every write whole and keeps it, decoded.
#[derive(Debug)]
struct Recorder(Writes);

impl DirectSink for Recorder {
    fn try_write(&self, frames: &[Arc<Frame>], codec: Codec) -> Direct {
        let events = frames
            .iter()
            .map(|f| codec.decode_event(f.encoded(codec)).expect("valid frame"))
            .collect();
        self.0.lock().expect("writes").push(events);
        Direct::Written
    }
}

/// What each write carried: the message texts, and `ack` for an ack.
fn shapes(writes: &Writes) -> Vec<Vec<String>> {
    let writes = writes.lock().expect("writes");
    writes
        .iter()
        .map(|events| {
            events
                .iter()
                .map(|e| match e {
                    Event::Message(m) => m.text.clone(),
                    Event::Ack { .. } => "ack".to_owned(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

/// A member of room `small`.
async fn member(hub: &chatcore::Hub, user: &str) -> SessionProbe {
    member_of(hub, "small", user).await
}

/// A member of `room`.
async fn member_of(hub: &chatcore::Hub, room: &str, user: &str) -> SessionProbe {
    let mut p = SessionProbe::connect(hub, user).await;
    p.join(room).await;
    p
}

/// More members than a room corks every message for (64), each recording its writes; the
/// first is the sender.
async fn big_room(hub: &chatcore::Hub) -> Vec<(SessionProbe, Writes)> {
    let mut members = Vec::new();
    for i in 0..70 {
        members.push(member_of(hub, "big", &format!("u{i}")).await);
    }
    members
        .into_iter()
        .map(|mut p| {
            let writes = record(&mut p);
            (p, writes)
        })
        .collect()
}

/// The message texts waiting in `p`'s queue for its write pump, taken out as the pump would.
fn queued(p: &mut SessionProbe) -> Vec<String> {
    let mut texts = Vec::new();
    while let Some(frame) = p.out.try_next() {
        match p.out.codec().decode_event(frame.encoded(p.out.codec())) {
            Ok(Event::Message(m)) => texts.push(m.text),
            other => texts.push(format!("{other:?}")),
        }
    }
    p.out.end_write();
    texts
}

/// Drops what `p` was sent so far (the joins' notices) and records its frames from now on,
/// as a transport's sink would write them.
fn record(p: &mut SessionProbe) -> Writes {
    while p.out.try_next().is_some() {}
    // As a pump does once it has written what it took.
    p.out.end_write();
    let writes = Writes::default();
    p.out.attach(Box::new(Recorder(Arc::clone(&writes))));
    writes
}

/// Polls `turn` once under a cork, as a transport polls its reader; it must finish in
/// that one poll (the memory store answers at once), so everything it did was one turn.
fn one_corked_turn(turn: impl Future<Output = ()>) {
    let mut turn = pin!(turn);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert_eq!(
        poll_corked(turn.as_mut(), &mut cx),
        Poll::Ready(()),
        "the turn took one poll"
    );
}

/// `sender` posts `text` to `room` in one corked turn.
fn post_in_turn(sender: &mut SessionProbe, room: &str, text: &str) {
    one_corked_turn(async move {
        sender.send_nowait(room, text, None).await;
    });
}

/// Every member of `room` but its sender has had "one" written by a turn and holds "two"
/// for its pump: the turn that posted "two" did not write it (`why`).
fn assert_two_left_to_the_pumps(room: &mut [(SessionProbe, Writes)], why: &str) {
    for (p, writes) in &mut room[1..] {
        assert_eq!(shapes(writes), [["one"]], "{why}");
        assert_eq!(queued(p), ["two"], "left to the member's pump");
    }
}

#[tokio::test]
async fn in_a_small_room_the_ack_leaves_during_the_turn_and_members_get_one_write_at_its_end() {
    let hub = memory_hub().await;
    let mut ann = member(&hub, "ann").await;
    let mut bob = member(&hub, "bob").await;
    let (ann_writes, bob_writes) = (record(&mut ann), record(&mut bob));

    let (ann_seen, bob_seen) = (Arc::clone(&ann_writes), Arc::clone(&bob_writes));
    one_corked_turn(async {
        ann.send_nowait("small", "one", None).await;
        assert_eq!(
            shapes(&ann_seen),
            [["one", "ack"]],
            "the sender's copy and ack, written before the next request"
        );
        assert!(
            shapes(&bob_seen).is_empty(),
            "the members' wait for the turn"
        );
        ann.send_nowait("small", "two", None).await;
        assert_eq!(shapes(&ann_seen), [["one", "ack"], ["two", "ack"]]);
        assert!(shapes(&bob_seen).is_empty());
    });

    assert_eq!(shapes(&bob_writes), [["one", "two"]], "one write for both");
    assert_eq!(shapes(&ann_writes).len(), 2, "nothing more for the sender");
    assert!(ann.out.try_next().is_none() && bob.out.try_next().is_none());
}

#[tokio::test(start_paused = true)]
async fn on_one_worker_a_quiet_big_rooms_message_is_corked_and_a_busy_ones_waits_for_the_pumps() {
    let hub = memory_hub().await;
    let mut room = big_room(&hub).await;

    post_in_turn(&mut room[0].0, "big", "one");
    for (p, writes) in &mut room[1..] {
        assert_eq!(
            shapes(writes),
            [["one"]],
            "quiet: written at the turn's end"
        );
        assert!(queued(p).is_empty());
    }

    // The clock stands still: the room's last message went out no time ago.
    post_in_turn(&mut room[0].0, "big", "two");
    assert_two_left_to_the_pumps(&mut room, "busy: not written by the turn");

    // 70 members × 10 µs after the last message, the room is quiet again.
    tokio::time::advance(Duration::from_micros(700)).await;
    post_in_turn(&mut room[0].0, "big", "three");
    for (_, writes) in &room[1..] {
        assert_eq!(shapes(writes), [["one"], ["three"]]);
    }
}

#[tokio::test(start_paused = true)]
async fn on_one_worker_a_big_rooms_message_right_after_a_turn_that_wrote_is_not_quiet() {
    let hub = memory_hub().await;
    let mut room = big_room(&hub).await;
    let mut cy = member_of(&hub, "side", "cy").await;
    let cy_writes = record(&mut cy);

    post_in_turn(&mut room[0].0, "big", "one");
    // 70 members × 10 µs since the room's last message; then another connection's turn
    // writes, as a corked message's own writes to every member would have taken that long.
    tokio::time::advance(Duration::from_micros(700)).await;
    post_in_turn(&mut cy, "side", "aside");
    assert_eq!(shapes(&cy_writes), [["aside", "ack"]]);

    post_in_turn(&mut room[0].0, "big", "two");
    assert_two_left_to_the_pumps(&mut room, "this thread was writing until now: not quiet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_workers_a_big_rooms_message_waits_for_the_pumps_even_when_quiet() {
    let hub = memory_hub().await;
    let mut room = big_room(&hub).await;
    let sender = &mut room[0].0;
    one_corked_turn(async move {
        sender.send_nowait("big", "one", None).await;
    });
    for (p, writes) in &mut room[1..] {
        assert!(shapes(writes).is_empty(), "nothing written by the turn");
        assert_eq!(queued(p), ["one"]);
    }
}
