//! Corked frames and direct writes: what a cork holds goes out at the end of the turn in one
//! write through the sink, never past the write pump's own writes, and the rest of a write
//! the socket cut short goes out first.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

use futures::FutureExt;

use super::*;
use crate::transport::{Direct, DirectSink, poll_corked};

/// Every write a recorder took, labelled with its name.
type Writes = Arc<Mutex<Vec<(&'static str, Vec<u8>)>>>;

/// What a [`Recorder`] is set to accept.
#[derive(Debug, Clone, Copy)]
enum Accept {
    All,
    /// This many bytes of the next write, then nothing.
    Bytes(usize),
    Nothing,
}

/// A socket stand-in that keeps every write (the frames' encoded bytes, unframed), labelled.
#[derive(Debug)]
struct Recorder {
    name: &'static str,
    writes: Writes,
    accept: Arc<Mutex<Accept>>,
}

impl DirectSink for Recorder {
    fn try_write(&self, frames: &[Arc<Frame>], codec: Codec) -> Direct {
        let bytes: Vec<u8> = frames
            .iter()
            .flat_map(|f| f.encoded(codec).to_vec())
            .collect();
        let accept = *self.accept.lock().expect("accept");
        let (taken, direct) = match accept {
            Accept::All => (bytes.len(), Direct::Written),
            Accept::Nothing => return Direct::Refused,
            Accept::Bytes(n) => {
                *self.accept.lock().expect("accept") = Accept::Nothing;
                (n, Direct::Partial(bytes[n..].to_vec()))
            }
        };
        let mut writes = self.writes.lock().expect("writes");
        writes.push((self.name, bytes[..taken].to_vec()));
        direct
    }
}

/// A session whose outbound has a recorder attached; returns its accept switch.
fn attached(name: &'static str, writes: &Writes) -> (Arc<Queue>, Outbound, Arc<Mutex<Accept>>) {
    let (shared, out) = session(64);
    let accept = Arc::new(Mutex::new(Accept::All));
    out.attach(Box::new(Recorder {
        name,
        writes: Arc::clone(writes),
        accept: Arc::clone(&accept),
    }));
    (shared, out, accept)
}

/// Runs `future` with every poll corked, as a transport runs a reader.
async fn corked<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| poll_corked(future.as_mut(), cx)).await
}

fn bytes(frames: &[Arc<Frame>]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| f.encoded(Codec::Json).to_vec())
        .collect()
}

/// Whether the pump would find something now (a frame, a flush or a close).
fn ready(out: &mut Outbound) -> bool {
    out.recv().now_or_never().is_some()
}

#[tokio::test]
async fn corked_frames_wait_for_the_end_of_the_turn_and_go_out_in_one_write() {
    let writes = Writes::default();
    let (ann, mut out, _) = attached("ann", &writes);
    let (one, two) = (pong(1), pong(2));
    corked(async {
        assert!(ann.push(Arc::clone(&one)));
        assert!(ann.push(Arc::clone(&two)));
        assert!(
            writes.lock().expect("writes").is_empty(),
            "held until the turn ends"
        );
    })
    .await;
    assert_eq!(
        *writes.lock().expect("writes"),
        [("ann", bytes(&[one, two]))]
    );
    assert!(!ready(&mut out), "nothing left for the pump, and no wake");
    assert_eq!(ann.taken(), 2);
}

#[tokio::test]
async fn without_a_cork_a_push_wakes_the_pump_and_the_sink_is_untouched() {
    let writes = Writes::default();
    let (ann, mut out, _) = attached("ann", &writes);
    assert!(ann.push(pong(1)));
    assert_eq!(id_of(out.recv().await), Some(1));
    assert!(writes.lock().expect("writes").is_empty());
}

#[tokio::test]
async fn a_writing_pump_keeps_its_turn_and_gets_what_was_corked() {
    let writes = Writes::default();
    let (ann, mut out, _) = attached("ann", &writes);
    assert!(ann.push(pong(1)));
    assert_eq!(
        id_of(out.recv().await),
        Some(1),
        "the pump took a frame: it is writing"
    );
    corked(async {
        assert!(ann.push(pong(2)));
    })
    .await;
    assert!(
        writes.lock().expect("writes").is_empty(),
        "never past the pump's write"
    );
    assert_eq!(id_of(out.recv().await), Some(2), "woken for it instead");
    out.end_write();
    corked(async {
        assert!(ann.push(pong(3)));
    })
    .await;
    assert_eq!(
        *writes.lock().expect("writes"),
        [("ann", bytes(&[pong(3)]))]
    );
}

#[tokio::test]
async fn the_rest_of_a_cut_short_write_goes_out_before_anything_else() {
    let writes = Writes::default();
    let (ann, mut out, accept) = attached("ann", &writes);
    *accept.lock().expect("accept") = Accept::Bytes(5);
    let (one, two) = (pong(1), pong(2));
    corked(async {
        assert!(ann.push(Arc::clone(&one)));
        assert!(ann.push(Arc::clone(&two)));
    })
    .await;
    let whole = bytes(&[one, two]);
    assert_eq!(
        *writes.lock().expect("writes"),
        [("ann", whole[..5].to_vec())]
    );
    // Another turn finds the rest waiting: its frame waits behind it, for the pump.
    corked(async {
        assert!(ann.push(pong(3)));
    })
    .await;
    assert_eq!(writes.lock().expect("writes").len(), 1);
    assert!(matches!(out.recv().await, Outgoing::Flush));
    assert_eq!(
        out.begin_write(),
        Some(whole[5..].to_vec()),
        "the rest, first"
    );
    assert_eq!(out.begin_write(), None, "once");
    assert_eq!(
        id_of(out.try_next().map(Outgoing::Frame).expect("then the frame")),
        Some(3)
    );
    out.end_write();
    assert!(!ready(&mut out));
}

#[tokio::test]
async fn a_refused_write_wakes_the_pump_with_the_frames_in_order() {
    let writes = Writes::default();
    let (ann, mut out, accept) = attached("ann", &writes);
    *accept.lock().expect("accept") = Accept::Nothing;
    corked(async {
        assert!(ann.push(pong(1)));
        assert!(ann.push(pong(2)));
    })
    .await;
    assert_eq!(id_of(out.recv().await), Some(1));
    assert_eq!(
        id_of(out.try_next().map(Outgoing::Frame).expect("second")),
        Some(2)
    );
    assert!(writes.lock().expect("writes").is_empty());
}

#[tokio::test]
async fn a_detached_sink_is_never_written_again() {
    let writes = Writes::default();
    let (ann, mut out, _) = attached("ann", &writes);
    out.detach();
    corked(async {
        assert!(ann.push(pong(1)));
    })
    .await;
    assert!(writes.lock().expect("writes").is_empty());
    assert_eq!(id_of(out.recv().await), Some(1), "the pump has it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_from_outside_the_cork_wakes_the_pump_for_what_the_cork_holds() {
    let writes = Writes::default();
    let (ann, mut out, accept) = attached("ann", &writes);
    *accept.lock().expect("accept") = Accept::Nothing;
    let (got, seen) = std::sync::mpsc::channel();
    let pump = tokio::spawn(async move {
        let first = id_of(out.recv().await);
        got.send(first).expect("test waits");
        out
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    corked(async {
        assert!(ann.push(pong(1)));
        // Another thread's push, not under this cork, while the cork's turn goes on (this
        // poll blocks): the pump, on the other worker, must not wait for the cork.
        let other = Arc::clone(&ann);
        std::thread::spawn(move || assert!(other.push_with(pong(2), false)))
            .join()
            .expect("no panic");
        let first = seen.recv_timeout(Duration::from_secs(5));
        assert_eq!(first, Ok(Some(1)), "woken during the turn");
    })
    .await;
    let mut out = pump.await.expect("no panic");
    assert_eq!(
        id_of(out.try_next().map(Outgoing::Frame).expect("frame")),
        Some(2)
    );
}

#[tokio::test]
async fn a_flush_writes_what_the_cork_holds_for_one_queue_at_once() {
    let writes = Writes::default();
    let (ann, _ann_out, _) = attached("ann", &writes);
    let (bob, _bob_out, _) = attached("bob", &writes);
    corked(async {
        assert!(bob.push(pong(10)));
        assert!(ann.push(pong(1)));
        ann.flush_corked();
        assert_eq!(
            *writes.lock().expect("writes"),
            [("ann", bytes(&[pong(1)]))],
            "before the turn ends, and only ann's"
        );
        assert!(ann.push(pong(2)), "held again");
    })
    .await;
    assert_eq!(
        *writes.lock().expect("writes"),
        [
            ("ann", bytes(&[pong(1)])),
            ("bob", bytes(&[pong(10)])),
            ("ann", bytes(&[pong(2)]))
        ]
    );
}

#[tokio::test]
async fn a_flush_without_a_cork_leaves_the_frame_to_the_woken_pump() {
    let writes = Writes::default();
    let (ann, mut out, _) = attached("ann", &writes);
    assert!(ann.push(pong(1)));
    ann.flush_corked();
    assert!(writes.lock().expect("writes").is_empty());
    assert_eq!(id_of(out.recv().await), Some(1));
}

#[tokio::test]
async fn a_panic_in_a_corked_turn_still_ends_it() {
    let writes = Writes::default();
    let (ann, mut out, _) = attached("ann", &writes);
    let turn = corked(async {
        assert!(ann.push(pong(1)));
        panic!("a request handler panicked");
    });
    assert!(AssertUnwindSafe(turn).catch_unwind().await.is_err());
    assert_eq!(
        *writes.lock().expect("writes"),
        [("ann", bytes(&[pong(1)]))]
    );
    assert!(ann.push(pong(2)), "no cork is left behind on this thread");
    assert_eq!(id_of(out.recv().await), Some(2));
}

#[tokio::test]
async fn a_session_closed_during_the_turn_is_left_to_its_pump() {
    let writes = Writes::default();
    let (ann, mut out, _) = attached("ann", &writes);
    corked(async {
        assert!(ann.push(pong(1)));
        ann.close(CloseReason::Policy);
    })
    .await;
    assert!(writes.lock().expect("writes").is_empty());
    assert!(matches!(
        out.recv().await,
        Outgoing::Closed(CloseReason::Policy)
    ));
}
