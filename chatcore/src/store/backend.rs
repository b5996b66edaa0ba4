//! The [`Store`] trait a storage backend implements.

use std::time::Duration;

use super::authority::RoomAuthority;
use super::types::{
    Appended, HistoryPage, HistoryQuery, Member, NewMessage, NewRoom, Pending, Role, RoomRecord,
    SearchQuery,
};
use crate::Result;

/// Durable storage of rooms, memberships and messages, with the room authority
/// ([`RoomAuthority`]: bans, mutes, invitations, roles, the audit log) every store has.
///
/// Implementations are cheap to share behind an `Arc` (clones of a backend share one
/// connection pool or writer thread). All methods are cancel-safe in the sense that dropping a
/// returned future never leaves a partial write behind.
#[async_trait::async_trait]
pub trait Store: RoomAuthority + Send + Sync + 'static {
    /// Queues `msg` for the next group commit and returns at once; the returned future
    /// resolves once the message is durable, with its assigned `seq`.
    ///
    /// Ordering promise: appends *called* in sequence from one task commit in that order, so a
    /// session's messages to one room keep their order even though nothing is awaited in
    /// between. A message whose `(sender, nonce)` was stored before is not stored again: the
    /// original comes back with [`Appended::duplicate`] set. Appending to a room that does not
    /// exist fails with [`Error::UnknownRoom`](crate::Error::UnknownRoom).
    fn append(&self, msg: NewMessage) -> Pending<Appended>;

    /// Creates the room unless it exists, and returns the stored record either way (an
    /// existing room keeps its kind, creator and creation time).
    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord>;

    /// The room's record, or `None`.
    async fn room(&self, name: &str) -> Result<Option<RoomRecord>>;

    /// Rooms visible to `viewer`: every public room, plus the private and direct rooms
    /// `viewer` is a member of. Sorted by name.
    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>>;

    /// A page of a room's messages; see [`HistoryQuery`] for the cursor rules. Messages come
    /// oldest first. The limit is clamped to [`MAX_PAGE`](super::MAX_PAGE).
    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage>;

    /// A page as [`Store::history`] reads it, with each message's current state: the text
    /// as last edited with `edited_ts`, a deleted message's tombstone, its reactions (with
    /// `me` set for `viewer`'s) and, for a thread root, its summary; change events stay in
    /// the page as they are. Read in one snapshot, whose newest seq is
    /// [`HistoryPage::current_to`].
    async fn history_current(
        &self,
        room: &str,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage>;

    /// A page of the replies to message `root` (the messages whose `reply_to` is `root`),
    /// with current state as [`Store::history_current`]: the oldest `query.limit` with seq
    /// above `query.after` (from the first reply without it), oldest first; `has_more`
    /// when more follow. `query.before` bounds the page from above when given.
    async fn thread(
        &self,
        room: &str,
        root: u64,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage>;

    /// The room's newest seq (0 when it has no messages or does not exist).
    async fn last_seq(&self, room: &str) -> Result<u64>;

    /// Makes `user` a durable member of `room` (idempotent; an existing member keeps its role).
    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()>;

    /// Removes a durable membership (idempotent).
    async fn remove_member(&self, room: &str, user: &str) -> Result<()>;

    /// The membership of `user` in `room`, if any.
    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>>;

    /// Every durable member of a room, sorted by user name.
    async fn members(&self, room: &str) -> Result<Vec<Member>>;

    /// Full-text search, newest first, over messages as they are now: an edited message is
    /// found by its new text only, a deleted one never, a change event never. A query the backend cannot parse is
    /// [`Error::BadQuery`](crate::Error::BadQuery), never a panic.
    async fn search(&self, query: SearchQuery) -> Result<Vec<crate::protocol::Message>>;

    /// Records that `user` has read `room` up to `seq` (never moves backwards).
    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()>;

    /// Records several read positions at once, as [`set_read`](Self::set_read) does each
    /// (in one transaction where the backend can); a mark of a room that does not exist (any
    /// more) is skipped, not an error. The hub writes read positions behind, in batches.
    async fn set_reads(&self, marks: &[super::ReadMark]) -> Result<()> {
        for mark in marks {
            match self.set_read(&mark.room, &mark.user, mark.seq).await {
                Ok(()) | Err(crate::Error::UnknownRoom(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// How far `user` has read `room` (0 when never).
    async fn read_position(&self, room: &str, user: &str) -> Result<u64>;

    /// `user`'s unread and mention counts in each of `rooms` (in that order; an unknown room
    /// counts 0): the messages after the user's read position that count
    /// ([`counts_for`](super::counts_for)), at most [`MAX_UNREAD`](super::MAX_UNREAD) per
    /// room, and how many of those list `user` in their mentions. Reads an index range from
    /// the read position on, never the whole room.
    async fn unread(&self, user: &str, rooms: &[String]) -> Result<Vec<super::Unread>>;

    /// Every room with its newest seq (0 when empty), sorted by name: where the host's event
    /// stream looks for something to read.
    async fn heads(&self) -> Result<Vec<(String, u64)>>;

    /// Takes, renews or is refused the lease of event-stream consumer `group` for `holder`,
    /// valid `ttl` from now by the store's clock. Returns the lease's fencing token when
    /// `holder` holds it afterwards (the same token on a renewal, a larger one whenever the
    /// lease changes hands or is taken again after it lapsed), `None` while another holder's
    /// lease is still valid.
    async fn acquire_lease(&self, group: &str, holder: &str, ttl: Duration) -> Result<Option<u64>>;

    /// The committed cursors of consumer `group`: each room with the last seq the group
    /// processed, sorted by room.
    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>>;

    /// Moves `group`'s cursor of `room` to `seq`, if `token` is the group's current lease
    /// token ([`Error::LeaseLost`](crate::Error::LeaseLost) otherwise: a consumer that lost
    /// its lease can no longer commit). A cursor never moves backwards (an older `seq` is
    /// ignored). `seq` past the room's newest seq is
    /// [`Error::BadCursor`](crate::Error::BadCursor); an unknown room is
    /// [`Error::UnknownRoom`](crate::Error::UnknownRoom). Nothing changes on an error.
    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()>;

    /// Succeeds when the store can serve requests (for readiness probes).
    async fn ping(&self) -> Result<()>;

    /// Commits everything queued, then stops accepting writes. Idempotent.
    async fn close(&self) -> Result<()>;
}
