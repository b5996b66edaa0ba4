//! Contract 2 (durable ack) and 4 (idempotent send).

use std::sync::Arc;
use std::time::Duration;

use chatcore::protocol::{Event, Message};
use chatcore::store::{
    Appended, HistoryPage, HistoryQuery, Member, MemoryStore, NewMessage, NewRoom, Pending, Role,
    RoomRecord, SearchQuery, Store,
};
use chatcore::{Error, ErrorCode, Hub, Result};
use chatcore_testkit::{SessionProbe, memory_hub, seqs};
use tokio::sync::Semaphore;

/// A memory store whose commits wait for a permit (a slow disk), and which can be told to
/// fail commits (a full disk): faults that cannot be caused on demand for real.
#[derive(Clone)]
struct FaultyStore {
    inner: MemoryStore,
    gate: Arc<Semaphore>,
    fail: Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait::async_trait]
impl Store for FaultyStore {
    fn append(&self, msg: NewMessage) -> Pending<Appended> {
        let this = self.clone();
        Box::pin(async move {
            this.gate.acquire().await.expect("gate").forget();
            if this.fail.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(Error::store("disk full"));
            }
            this.inner.append(msg).await
        })
    }
    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord> {
        self.inner.create_room(room).await
    }
    async fn room(&self, name: &str) -> Result<Option<RoomRecord>> {
        self.inner.room(name).await
    }
    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
        self.inner.list_rooms(viewer).await
    }
    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        self.inner.history(room, query).await
    }
    async fn last_seq(&self, room: &str) -> Result<u64> {
        self.inner.last_seq(room).await
    }
    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        self.inner.add_member(room, user, role).await
    }
    async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        self.inner.remove_member(room, user).await
    }
    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>> {
        self.inner.member(room, user).await
    }
    async fn members(&self, room: &str) -> Result<Vec<Member>> {
        self.inner.members(room).await
    }
    async fn search(&self, query: SearchQuery) -> Result<Vec<Message>> {
        self.inner.search(query).await
    }
    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()> {
        self.inner.set_read(room, user, seq).await
    }
    async fn read_position(&self, room: &str, user: &str) -> Result<u64> {
        self.inner.read_position(room, user).await
    }
    async fn heads(&self) -> Result<Vec<(String, u64)>> {
        self.inner.heads().await
    }
    async fn acquire_lease(
        &self,
        group: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<u64>> {
        self.inner.acquire_lease(group, holder, ttl).await
    }
    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>> {
        self.inner.cursors(group).await
    }
    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()> {
        self.inner.commit_cursor(group, token, room, seq).await
    }
    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }
    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

async fn faulty_hub() -> (Hub, FaultyStore) {
    let store = FaultyStore {
        inner: MemoryStore::new(),
        gate: Arc::new(Semaphore::new(0)),
        fail: Arc::default(),
    };
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
    store.gate.add_permits(1);
    let Event::Ack { seq, msg_id, .. } = ann.reply(id).await else {
        panic!("expected ack")
    };
    let page = store
        .inner
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
    store.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    store.gate.add_permits(1);
    let id = ann.send_nowait("r", "lost", None).await;
    assert_eq!(ann.error(id).await, ErrorCode::Unavailable);
    store.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    store.gate.add_permits(1);
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
    store.gate.add_permits(1);
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
