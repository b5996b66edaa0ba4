//! The outbound queue: wake-ups, lazy frames, slow consumers and draining closes.

use super::*;

fn session(capacity: usize) -> (Arc<Queue>, Outbound) {
    let stall = Duration::from_secs(3);
    let shared = Queue::new(
        1,
        Arc::from("ann"),
        Codec::Json,
        capacity,
        stall,
        Arc::default(),
    );
    let outbound = Outbound::new(Arc::clone(&shared));
    (shared, outbound)
}

fn pong(id: u64) -> Arc<Frame> {
    Frame::new(Event::Pong { id: Some(id) })
}

fn typing() -> Arc<Frame> {
    Frame::new(Event::Typing {
        room: "r".into(),
        user: "bob".into(),
        on: true,
    })
}

fn id_of(out: Outgoing) -> Option<u64> {
    match out {
        Outgoing::Frame(f) => match f.event() {
            Event::Pong { id } => *id,
            other => panic!("unexpected {other:?}"),
        },
        Outgoing::Closed(reason) => panic!("closed: {reason:?}"),
        Outgoing::Flush => panic!("a flush"),
    }
}

#[tokio::test]
async fn a_waiting_pump_wakes_for_a_frame_and_reads_in_order() {
    let (shared, mut out) = session(8);
    let pump = tokio::spawn(async move {
        let first = id_of(out.recv().await);
        let second = id_of(out.recv().await);
        (first, second, out)
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(shared.push(pong(1)));
    assert!(shared.push(pong(2)));
    let (first, second, _out) = tokio::time::timeout(Duration::from_secs(5), pump)
        .await
        .expect("woken")
        .expect("no panic");
    assert_eq!((first, second), (Some(1), Some(2)));
}

#[tokio::test]
async fn a_lazy_frame_waits_for_the_next_frame_or_a_second_lazy_one_or_a_wake() {
    let (shared, mut out) = session(8);
    let pump = |mut out: Outbound| {
        tokio::spawn(async move {
            let first = id_of(out.recv().await);
            let second = out.try_next().and_then(|f| id_of(Outgoing::Frame(f)));
            (first, second, out)
        })
    };
    let settle = || tokio::time::sleep(Duration::from_millis(30));
    // Rides along with the next frame: one wake, both in order. (A pump polled after a
    // lazy frame arrived takes it at once: only a pump already waiting is not woken.)
    let waiting = pump(out);
    settle().await;
    assert!(shared.push_lazy(pong(1)));
    settle().await;
    assert!(!waiting.is_finished(), "a lazy frame alone wakes nobody");
    assert!(shared.push(pong(2)));
    let (first, second, next) = waiting.await.expect("no panic");
    assert_eq!((first, second), (Some(1), Some(2)));
    out = next;
    // A second lazy frame finding the first still there wakes the pump.
    let waiting = pump(out);
    settle().await;
    assert!(shared.push_lazy(pong(3)));
    settle().await;
    assert!(!waiting.is_finished());
    assert!(shared.push_lazy(pong(4)));
    let (first, second, next) = waiting.await.expect("no panic");
    assert_eq!((first, second), (Some(3), Some(4)));
    out = next;
    // So does `wake_parked`; with nothing parked it wakes nobody.
    let waiting = pump(out);
    settle().await;
    shared.wake_parked();
    settle().await;
    assert!(!waiting.is_finished());
    assert!(shared.push_lazy(pong(5)));
    shared.wake_parked();
    let (first, second, _out) = waiting.await.expect("no panic");
    assert_eq!((first, second), (Some(5), None));
}

#[tokio::test]
async fn full_queue_closes_as_slow_consumer_and_ephemeral_frames_go_first() {
    let (shared, mut out) = session(8);
    for i in 0..6 {
        assert!(shared.push(pong(i)));
    }
    assert!(shared.push(typing()), "a quarter free: typing still fits");
    // Less than a quarter free: typing is dropped, the session stays.
    assert!(!shared.push(typing()));
    assert_eq!(shared.close_reason(), None);
    assert!(shared.push(pong(7)));
    assert!(!shared.push(pong(8)), "the ninth frame does not fit");
    assert_eq!(shared.close_reason(), Some(CloseReason::SlowConsumer));
    assert_eq!(out.len(), 8);
    // A slow consumer is not drained: the pump closes at once.
    assert!(matches!(
        out.recv().await,
        Outgoing::Closed(CloseReason::SlowConsumer)
    ));
    assert!(out.try_next().is_none());
}

#[tokio::test]
async fn a_draining_close_delivers_what_is_queued_then_closes() {
    let (shared, mut out) = session(8);
    assert!(shared.push(pong(1)));
    shared.close(CloseReason::GoingAway);
    assert!(!shared.push(pong(2)), "nothing is queued after the close");
    assert_eq!(id_of(out.recv().await), Some(1));
    assert!(matches!(
        out.recv().await,
        Outgoing::Closed(CloseReason::GoingAway)
    ));
}

#[tokio::test]
async fn a_close_wakes_a_waiting_pump() {
    let (shared, mut out) = session(8);
    let pump = tokio::spawn(async move { out.recv().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    shared.close(CloseReason::Policy);
    let got = tokio::time::timeout(Duration::from_secs(5), pump)
        .await
        .expect("woken")
        .expect("no panic");
    assert!(matches!(got, Outgoing::Closed(CloseReason::Policy)));
}

/// `wake_first` (a sender's pump, before its room's fan-out): on a runtime that runs woken
/// tasks in order (this test's), the pump woken first reads the frames queued after the
/// wake before a pump woken by its own frame in the same turn; a pump that runs before its
/// frames arrive finds nothing and still gets them. Without the wake, bob's pump (woken by
/// the first frame queued) would write first.
#[tokio::test]
async fn a_pump_woken_first_reads_before_the_others_and_misses_nothing() {
    let (ann, ann_out) = session(8);
    let (bob, bob_out) = session(8);
    let order = Arc::new(Mutex::new(Vec::new()));
    let pump = |name: &'static str, mut out: Outbound, frames: usize| {
        let order = Arc::clone(&order);
        tokio::spawn(async move {
            for _ in 0..frames {
                let id = id_of(out.recv().await);
                order.lock().expect("order").push((name, id));
            }
        })
    };
    let ann_pump = pump("ann", ann_out, 3);
    let bob_pump = pump("bob", bob_out, 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    // One turn, as a send's commit runs it: the sender's wake, the fan-out, the ack.
    ann.wake_first(false);
    assert!(bob.push(pong(10)));
    assert!(ann.push(pong(1)));
    assert!(ann.push(pong(2)));
    tokio::time::timeout(Duration::from_secs(5), bob_pump)
        .await
        .expect("bob woken")
        .expect("no panic");
    assert_eq!(
        *order.lock().expect("order"),
        [("ann", Some(1)), ("ann", Some(2)), ("bob", Some(10))]
    );
    // Woken with nothing queued yet: the pump runs, finds nothing, and waits again.
    ann.wake_first(false);
    tokio::task::yield_now().await;
    assert!(ann.push(pong(3)));
    tokio::time::timeout(Duration::from_secs(5), ann_pump)
        .await
        .expect("ann woken")
        .expect("no panic");
    assert_eq!(order.lock().expect("order").last(), Some(&("ann", Some(3))));
}

mod cork;
