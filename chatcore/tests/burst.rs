//! Issue #16's guard against frames held back for a timer, without a timed test: a burst of
//! 10 messages to a room of 10 reaches every member's outbound queue while the clock stands
//! still. Time is paused and the test task only yields, so the runtime is never idle and no
//! timer can fire: anything that waited for one (a flush timer, a gap repair, a coalescing
//! delay) would leave the burst undelivered.

use chatcore::protocol::{Codec, Event};
use chatcore_testkit::{SessionProbe, memory_hub};

/// Most polls of the runtime the burst may take: each send's commit task and its fan-out
/// need a few; a timer would need the clock to move, which never happens here.
const POLLS: usize = 1_000;

/// Decodes every frame already in `probe`'s queue, without waiting.
fn queued(probe: &mut SessionProbe) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(frame) = probe.out.try_next() {
        let codec: Codec = probe.out.codec();
        events.push(
            codec
                .decode_event(frame.encoded(codec))
                .expect("valid frame"),
        );
    }
    events
}

#[tokio::test(start_paused = true)]
async fn a_burst_to_a_room_of_ten_is_delivered_with_no_frame_held_for_a_timer() {
    let hub = memory_hub().await;
    let mut members = Vec::new();
    for i in 0..10 {
        let mut p = SessionProbe::connect(&hub, &format!("m{i}")).await;
        p.join("small").await;
        members.push(p);
    }
    for p in &mut members {
        queued(p); // presence notices of the joins
    }
    let started = tokio::time::Instant::now();
    for n in 0..10 {
        members[0]
            .send_nowait("small", &format!("burst {n}"), None)
            .await;
    }
    let mut got = vec![Vec::new(); members.len()];
    let mut acks = 0;
    for _ in 0..POLLS {
        for (p, seqs) in members.iter_mut().zip(&mut got) {
            for event in queued(p) {
                match event {
                    Event::Message(m) => seqs.push(m.seq),
                    Event::Ack { .. } => acks += 1,
                    _ => {}
                }
            }
        }
        if acks == 10 && got.iter().all(|seqs| seqs.len() == 10) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        tokio::time::Instant::now(),
        started,
        "the clock never moved: no timer fired"
    );
    assert_eq!(acks, 10, "every send acknowledged");
    for (i, seqs) in got.iter().enumerate() {
        assert_eq!(*seqs, (1..=10).collect::<Vec<u64>>(), "member m{i}");
    }
}
