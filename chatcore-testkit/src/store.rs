//! [`FlakyStore`]: a store that fails while switched down and recovers when switched up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chatcore::Result;
use chatcore::protocol::Message;
use chatcore::store::{
    Appended, HistoryPage, HistoryQuery, Member, NewMessage, NewRoom, Pending, Role, RoomRecord,
    SearchQuery, Store,
};

/// Wraps a store; while [`down`](FlakyStore::down) is set every call fails at once, as a
/// database that refuses connections does, and nothing is written. Clones share the switch.
#[derive(Clone)]
pub struct FlakyStore {
    /// The store doing the real work.
    inner: Arc<dyn Store>,
    /// While set, every call fails without reaching `inner`.
    pub down: Arc<AtomicBool>,
    /// Calls refused so far.
    refused: Arc<AtomicU64>,
}

impl std::fmt::Debug for FlakyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlakyStore")
            .field("down", &self.down)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl FlakyStore {
    /// `inner`, up.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            down: Arc::default(),
            refused: Arc::default(),
        }
    }

    /// Calls refused so far while down.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// `Err` (and counted) while down.
    fn check(&self) -> Result<()> {
        if self.down.load(Ordering::Relaxed) {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(chatcore::Error::store("database: connection refused"));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for FlakyStore {
    fn append(&self, msg: NewMessage) -> Pending<Appended> {
        match self.check() {
            Ok(()) => self.inner.append(msg),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord> {
        self.check()?;
        self.inner.create_room(room).await
    }

    async fn room(&self, name: &str) -> Result<Option<RoomRecord>> {
        self.check()?;
        self.inner.room(name).await
    }

    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
        self.check()?;
        self.inner.list_rooms(viewer).await
    }

    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        self.check()?;
        self.inner.history(room, query).await
    }

    async fn last_seq(&self, room: &str) -> Result<u64> {
        self.check()?;
        self.inner.last_seq(room).await
    }

    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        self.check()?;
        self.inner.add_member(room, user, role).await
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        self.check()?;
        self.inner.remove_member(room, user).await
    }

    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>> {
        self.check()?;
        self.inner.member(room, user).await
    }

    async fn members(&self, room: &str) -> Result<Vec<Member>> {
        self.check()?;
        self.inner.members(room).await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Message>> {
        self.check()?;
        self.inner.search(query).await
    }

    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()> {
        self.check()?;
        self.inner.set_read(room, user, seq).await
    }

    async fn read_position(&self, room: &str, user: &str) -> Result<u64> {
        self.check()?;
        self.inner.read_position(room, user).await
    }

    async fn heads(&self) -> Result<Vec<(String, u64)>> {
        self.check()?;
        self.inner.heads().await
    }

    async fn acquire_lease(&self, group: &str, holder: &str, ttl: Duration) -> Result<Option<u64>> {
        self.check()?;
        self.inner.acquire_lease(group, holder, ttl).await
    }

    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>> {
        self.check()?;
        self.inner.cursors(group).await
    }

    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()> {
        self.check()?;
        self.inner.commit_cursor(group, token, room, seq).await
    }

    async fn ping(&self) -> Result<()> {
        self.check()?;
        self.inner.ping().await
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}
