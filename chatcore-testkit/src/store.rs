//! [`HookedStore`]: one forwarding wrapper around a [`Store`], with [`StoreHook`]s for the
//! faults and observations tests need (an outage, a slow or full disk, counting reads), so no
//! test writes its own copy of every `Store` method.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::Result;
use chatcore::protocol::Message;
use chatcore::store::{
    Admission, Appended, AuditEntry, HistoryPage, HistoryQuery, Member, NewMessage, NewRoom,
    Pending, Restriction, Role, RoomAuthority, RoomRecord, SearchQuery, Store,
};

/// What a [`HookedStore`] does around the calls it forwards. Every method has a default that
/// forwards unchanged, so a hook overrides only what its test needs.
pub trait StoreHook: Send + Sync + 'static {
    /// Asked before every call except `close` reaches the inner store, with the `Store`
    /// method's name; an error is returned in place of the call and nothing is written.
    fn before(&self, op: &'static str) -> Result<()> {
        let _ = op;
        Ok(())
    }

    /// Performs an `append` that [`before`](StoreHook::before) let through. The default
    /// queues it on `inner` at once, which keeps the store's ordering promise.
    fn append(&self, inner: &Arc<dyn Store>, msg: NewMessage) -> Pending<Appended> {
        inner.append(msg)
    }

    /// Sees every history page the inner store returns.
    fn history_read(&self, page: &HistoryPage) {
        let _ = page;
    }

    /// Awaited after the inner store admitted `user` to `room` and before the caller hears
    /// of it, so a test can let something happen between a join's membership and its
    /// attach. The default waits for nothing.
    fn admitted(&self, room: &str, user: &str) -> Pending<()> {
        let _ = (room, user);
        Box::pin(async { Ok(()) })
    }
}

/// A store that forwards every call to `inner`, asking its [`StoreHook`] first. Clones share
/// the inner store and the hook.
pub struct HookedStore<H> {
    inner: Arc<dyn Store>,
    hook: Arc<H>,
}

impl<H> Clone for HookedStore<H> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            hook: Arc::clone(&self.hook),
        }
    }
}

impl<H> std::fmt::Debug for HookedStore<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookedStore").finish_non_exhaustive()
    }
}

impl<H: StoreHook> HookedStore<H> {
    /// `inner`, behind `hook`.
    pub fn new(inner: Arc<dyn Store>, hook: H) -> Self {
        Self {
            inner,
            hook: Arc::new(hook),
        }
    }

    /// The hook, to switch a fault on or off or read what it observed.
    pub fn hook(&self) -> &H {
        &self.hook
    }

    /// The wrapped store, to look at what was really written, past the hook.
    pub fn inner(&self) -> &Arc<dyn Store> {
        &self.inner
    }
}

/// A [`StoreHook`] for a database outage: while [`down`](Outage::set_down) every call fails at
/// once, as a database that refuses connections does, and nothing is written.
#[derive(Debug, Default)]
pub struct Outage {
    down: AtomicBool,
}

impl Outage {
    /// Starts or ends the outage.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }
}

impl StoreHook for Outage {
    fn before(&self, _op: &'static str) -> Result<()> {
        if self.down.load(Ordering::Relaxed) {
            return Err(chatcore::Error::store("database: connection refused"));
        }
        Ok(())
    }
}

/// A [`StoreHook`] that records the name of every `Store` method called, in order: what a
/// test asserts about the store round trips a command costs.
#[derive(Debug, Default)]
pub struct CallLog {
    calls: Mutex<Vec<&'static str>>,
}

impl CallLog {
    /// The calls recorded since the last `take`, leaving the log empty.
    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.lock())
    }

    /// How many calls of method `op` are recorded.
    pub fn count(&self, op: &str) -> usize {
        self.lock().iter().filter(|c| **c == op).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<&'static str>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl StoreHook for CallLog {
    fn before(&self, op: &'static str) -> Result<()> {
        self.lock().push(op);
        Ok(())
    }
}

/// A store that fails while its [`Outage`] is on and recovers when it ends.
pub type FlakyStore = HookedStore<Outage>;

#[async_trait::async_trait]
impl<H: StoreHook> Store for HookedStore<H> {
    fn append(&self, msg: NewMessage) -> Pending<Appended> {
        match self.hook.before("append") {
            Ok(()) => self.hook.append(&self.inner, msg),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord> {
        self.hook.before("create_room")?;
        self.inner.create_room(room).await
    }

    async fn room(&self, name: &str) -> Result<Option<RoomRecord>> {
        self.hook.before("room")?;
        self.inner.room(name).await
    }

    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
        self.hook.before("list_rooms")?;
        self.inner.list_rooms(viewer).await
    }

    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        self.hook.before("history")?;
        let page = self.inner.history(room, query).await?;
        self.hook.history_read(&page);
        Ok(page)
    }

    async fn history_current(
        &self,
        room: &str,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        self.hook.before("history_current")?;
        let page = self.inner.history_current(room, query, viewer).await?;
        self.hook.history_read(&page);
        Ok(page)
    }

    async fn thread(
        &self,
        room: &str,
        root: u64,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        self.hook.before("thread")?;
        self.inner.thread(room, root, query, viewer).await
    }

    async fn last_seq(&self, room: &str) -> Result<u64> {
        self.hook.before("last_seq")?;
        self.inner.last_seq(room).await
    }

    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        self.hook.before("add_member")?;
        self.inner.add_member(room, user, role).await
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        self.hook.before("remove_member")?;
        self.inner.remove_member(room, user).await
    }

    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>> {
        self.hook.before("member")?;
        self.inner.member(room, user).await
    }

    async fn members(&self, room: &str) -> Result<Vec<Member>> {
        self.hook.before("members")?;
        self.inner.members(room).await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Message>> {
        self.hook.before("search")?;
        self.inner.search(query).await
    }

    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()> {
        self.hook.before("set_read")?;
        self.inner.set_read(room, user, seq).await
    }

    async fn read_position(&self, room: &str, user: &str) -> Result<u64> {
        self.hook.before("read_position")?;
        self.inner.read_position(room, user).await
    }

    async fn unread(&self, user: &str, rooms: &[String]) -> Result<Vec<chatcore::store::Unread>> {
        self.hook.before("unread")?;
        self.inner.unread(user, rooms).await
    }

    async fn heads(&self) -> Result<Vec<(String, u64)>> {
        self.hook.before("heads")?;
        self.inner.heads().await
    }

    async fn acquire_lease(&self, group: &str, holder: &str, ttl: Duration) -> Result<Option<u64>> {
        self.hook.before("acquire_lease")?;
        self.inner.acquire_lease(group, holder, ttl).await
    }

    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>> {
        self.hook.before("cursors")?;
        self.inner.cursors(group).await
    }

    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()> {
        self.hook.before("commit_cursor")?;
        self.inner.commit_cursor(group, token, room, seq).await
    }

    async fn ping(&self) -> Result<()> {
        self.hook.before("ping")?;
        self.inner.ping().await
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

#[async_trait::async_trait]
impl<H: StoreHook> RoomAuthority for HookedStore<H> {
    fn moderate(&self, event: NewMessage) -> Pending<Appended> {
        match self.hook.before("moderate") {
            Ok(()) => self.inner.moderate(event),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    async fn admit(
        &self,
        room: &str,
        user: &str,
        invite_only: bool,
        now: i64,
    ) -> Result<Admission> {
        self.hook.before("admit")?;
        let admission = self.inner.admit(room, user, invite_only, now).await?;
        self.hook.admitted(room, user).await?;
        Ok(admission)
    }

    async fn ban(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        self.hook.before("ban")?;
        self.inner.ban(room, user).await
    }

    async fn mute(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        self.hook.before("mute")?;
        self.inner.mute(room, user).await
    }

    async fn invited(&self, room: &str, user: &str) -> Result<bool> {
        self.hook.before("invited")?;
        self.inner.invited(room, user).await
    }

    async fn audit(&self, room: &str, before: Option<u64>, limit: u32) -> Result<Vec<AuditEntry>> {
        self.hook.before("audit")?;
        self.inner.audit(room, before, limit).await
    }

    async fn mutes(&self, room: &str) -> Result<Vec<Restriction>> {
        self.hook.before("mutes")?;
        self.inner.mutes(room).await
    }

    async fn set_description(&self, room: &str, description: Option<&str>) -> Result<()> {
        self.hook.before("set_description")?;
        self.inner.set_description(room, description).await
    }

    async fn delete_room(&self, room: &str, actor: &str, ts: i64) -> Result<AuditEntry> {
        self.hook.before("delete_room")?;
        self.inner.delete_room(room, actor, ts).await
    }

    async fn set_block(&self, user: &str, other: &str, on: bool) -> Result<()> {
        self.hook.before("set_block")?;
        self.inner.set_block(user, other, on).await
    }

    async fn blocks(&self, user: &str, other: &str) -> Result<bool> {
        self.hook.before("blocks")?;
        self.inner.blocks(user, other).await
    }
}

#[cfg(test)]
mod tests {
    use chatcore::protocol::RoomKind;
    use chatcore::store::MemoryStore;

    use super::*;

    fn room() -> NewRoom {
        NewRoom {
            name: "r".into(),
            kind: RoomKind::Public,
            creator: "ann".into(),
            created: 0,
        }
    }

    #[tokio::test]
    async fn an_outage_refuses_every_call_and_writes_nothing() {
        let store = FlakyStore::new(Arc::new(MemoryStore::new()), Outage::default());
        store.hook().set_down(true);
        let err = store.create_room(room()).await.expect_err("down");
        assert_eq!(err.code(), chatcore::ErrorCode::Unavailable);
        assert_eq!(store.inner().room("r").await.expect("room"), None);
        store.hook().set_down(false);
        store.create_room(room()).await.expect("up again");
        assert!(store.inner().room("r").await.expect("room").is_some());
    }
}
