//! Contract 2 (durable ack) and 4 (idempotent send).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use chatcore::protocol::Event;
use chatcore::store::{Appended, HistoryQuery, MemoryStore, NewMessage, Pending, Store};
use chatcore::{Error, ErrorCode, Hub};
use chatcore_testkit::{HookedStore, SessionProbe, StoreHook, memory_hub, seqs};
use tokio::sync::Semaphore;

/// Commits that wait for a permit (a slow disk) and can be told to fail (a full disk): faults
/// that cannot be caused on demand for real.
struct DiskFaults {
    gate: Arc<Semaphore>,
    fail: Arc<AtomicBool>,
}

impl StoreHook for DiskFaults {
    fn append(&self, inner: &Arc<dyn Store>, msg: NewMessage) -> Pending<Appended> {
        let inner = Arc::clone(inner);
        let gate = Arc::clone(&self.gate);
        let fail = Arc::clone(&self.fail);
        Box::pin(async move {
            gate.acquire().await.expect("gate").forget();
            if fail.load(SeqCst) {
                return Err(Error::store("disk full"));
            }
            inner.append(msg).await
        })
    }
}

type FaultyStore = HookedStore<DiskFaults>;

impl Default for DiskFaults {
    /// A disk that holds every commit until a permit is added, and does not fail.
    fn default() -> Self {
        Self {
            gate: Arc::new(Semaphore::new(0)),
            fail: Arc::default(),
        }
    }
}

async fn faulty_hub() -> (Hub, FaultyStore) {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()), DiskFaults::default());
    let hub = Hub::builder()
        .store(store.clone())
        .build()
        .await
        .expect("hub");
    (hub, store)
}

#[tokio::test]
async fn no_ack_before_commit_and_acked_message_is_stored() {
    let (hub, store) = faulty_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    let id = ann.send_nowait("r", "hello", None).await;
    // While the commit is held back, neither the ack nor the message may appear.
    let early = tokio::time::timeout(Duration::from_millis(300), ann.out.recv()).await;
    assert!(
        early.is_err(),
        "nothing may be delivered before the commit: {early:?}"
    );
    store.hook().gate.add_permits(1);
    let Event::Ack { seq, msg_id, .. } = ann.reply(id).await else {
        panic!("expected ack")
    };
    let page = store
        .inner()
        .history("r", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert_eq!(
        seqs(&page.messages),
        vec![seq],
        "an acked message is in the store"
    );
    assert_eq!(page.messages[0].id, msg_id);
}

#[tokio::test]
async fn failed_commit_is_an_error_never_an_ack_and_burns_no_seq() {
    let (hub, store) = faulty_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    ann.join("r").await;
    bob.join("r").await;
    ann.until(|e| matches!(e, Event::UserJoined { .. })).await;
    store.hook().fail.store(true, SeqCst);
    store.hook().gate.add_permits(1);
    let id = ann.send_nowait("r", "lost", None).await;
    assert_eq!(ann.error(id).await, ErrorCode::Unavailable);
    store.hook().fail.store(false, SeqCst);
    store.hook().gate.add_permits(1);
    assert_eq!(
        ann.send("r", "kept").await,
        1,
        "the failed write burned no seq"
    );
    let got = bob.messages("r", 1).await;
    assert_eq!(
        got[0].text, "kept",
        "the failed message was never delivered"
    );
}

#[tokio::test]
async fn retried_nonce_returns_the_original_ack_and_delivers_once() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    ann.join("r").await;
    bob.join("r").await;
    let first = ann.send_nowait("r", "once", Some("nonce-1")).await;
    let Event::Ack {
        seq,
        msg_id,
        duplicate,
        ..
    } = ann.reply(first).await
    else {
        panic!("ack")
    };
    assert!(!duplicate);
    let retry = ann.send_nowait("r", "once", Some("nonce-1")).await;
    let Event::Ack {
        seq: seq2,
        msg_id: id2,
        duplicate: dup2,
        ..
    } = ann.reply(retry).await
    else {
        panic!("ack")
    };
    assert_eq!((seq2, id2.as_str(), dup2), (seq, msg_id.as_str(), true));
    let next = ann.send("r", "after").await;
    assert_eq!(next, seq + 1);
    let got = bob.messages("r", 2).await;
    assert_eq!(
        got.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["once", "after"],
        "the retry was not delivered a second time"
    );
}

#[tokio::test]
async fn shutdown_acks_in_flight_sends_before_closing() {
    let (hub, store) = faulty_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    let id = ann.send_nowait("r", "in flight", None).await;
    let h = hub.clone();
    let shutdown = tokio::spawn(async move { h.shutdown(Duration::from_secs(10)).await });
    store.hook().gate.add_permits(1);
    shutdown.await.expect("task").expect("shutdown");
    let Event::Ack { seq, .. } = ann.reply(id).await else {
        panic!("ack")
    };
    assert_eq!(seq, 1);
    assert_eq!(ann.closed().await, chatcore::CloseReason::GoingAway);
    assert!(
        hub.authenticate(&chatcore::auth::Credentials::Guest("x".into()))
            .await
            .is_ok()
    );
    let id = hub
        .authenticate(&chatcore::auth::Credentials::Guest("late".into()))
        .await
        .expect("auth");
    assert!(
        hub.connect(id, chatcore::protocol::Codec::Json).is_err(),
        "no new sessions"
    );
}

/// ARCHITECTURE.md: a sender that is a member of the room gets its own message before the ack
/// (the room queues it to every member, then the ack follows; both after the commit).
#[tokio::test]
async fn a_member_sender_sees_its_message_before_its_ack() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    let id = ann.send_nowait("r", "hi", None).await;
    let first = ann
        .until(|e| matches!(e, Event::Message(_) | Event::Ack { .. }))
        .await;
    assert!(
        matches!(&first, Event::Message(m) if m.seq == 1),
        "the message comes first: {first:?}"
    );
    let ack = ann.reply(id).await;
    assert!(matches!(ack, Event::Ack { seq: 1, .. }), "{ack:?}");
}

/// A store that has the message durable when `append` returns (the memory store here; a
/// SQLite store that logged it on the caller's thread) gets it delivered and acked before
/// the request returns: no task spawned and waited for per message. A store that is not
/// done yet (`no_ack_before_commit_and_acked_message_is_stored`) still acks later.
#[tokio::test]
async fn an_append_durable_at_once_is_delivered_and_acked_before_the_request_returns() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    let id = ann.send_nowait("r", "hi", None).await;
    let codec = ann.out.codec();
    let queued: Vec<Event> = std::iter::from_fn(|| ann.out.try_next())
        .map(|f| codec.decode_event(f.encoded(codec)).expect("valid frame"))
        .collect();
    assert!(
        matches!(
            queued.as_slice(),
            [Event::Message(m), Event::Ack { id: Some(acked), seq: 1, .. }]
                if m.seq == 1 && *acked == id
        ),
        "{queued:?}"
    );
}

/// The first append is numbered at once but resolves only once released, as a store's
/// writer thread answers an append it queued.
struct HeldFirst {
    hold: std::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
}

impl StoreHook for HeldFirst {
    fn append(&self, inner: &Arc<dyn Store>, msg: NewMessage) -> Pending<Appended> {
        let appended = inner.append(msg);
        match self.hold.lock().expect("hold").take() {
            Some(release) => Box::pin(async move {
                let _ = release.await;
                appended.await
            }),
            None => appended,
        }
    }
}

/// An append that resolves at once does not overtake an earlier one to the same room whose
/// task has not run yet (the store answered it, the task is still queued): the room would
/// have to hold the later message back for the gap, and its ack would come first.
#[tokio::test]
async fn an_append_durable_at_once_waits_behind_an_earlier_one_still_on_its_task() {
    let (release, hold) = tokio::sync::oneshot::channel();
    let hook = HeldFirst {
        hold: std::sync::Mutex::new(Some(hold)),
    };
    let store = HookedStore::new(Arc::new(MemoryStore::new()), hook);
    let hub = Hub::builder().store(store).build().await.expect("hub");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    let first = ann.send_nowait("r", "one", None).await;
    release.send(()).expect("the first append waits");
    let second = ann.send_nowait("r", "two", None).await;
    let mut order = Vec::new();
    while order.len() < 4 {
        match ann.event().await {
            Event::Message(m) => order.push(format!("message {}", m.seq)),
            Event::Ack { id, seq, .. } if id == Some(first) || id == Some(second) => {
                order.push(format!("ack {seq}"));
            }
            _ => {}
        }
    }
    assert_eq!(order, ["message 1", "ack 1", "message 2", "ack 2"]);
}
