//! Plain data carried across the [`Store`](super::backend::Store) trait.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::protocol::{Data, Message, MessageKind, Moderation, RoomKind};
pub use crate::protocol::{Member, Role};

/// A store operation already queued, whose result arrives when it commits.
pub type Pending<T> = BoxFuture<'static, Result<T>>;

/// Largest history page or search result any store returns; larger limits are clamped.
pub const MAX_PAGE: u32 = 1000;

/// A message accepted by the hub and not yet stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// Room name (the room must exist).
    pub room: String,
    /// Globally unique id chosen by the hub (ULID).
    pub id: String,
    /// Sender's user name.
    pub sender: String,
    /// Kind.
    pub kind: MessageKind,
    /// Text body.
    pub text: String,
    /// Time the hub accepted it, milliseconds since the Unix epoch.
    pub ts: i64,
    /// Sender's idempotency key; unique per sender across all rooms.
    pub nonce: Option<String>,
    /// Seq of the message this replies to.
    pub reply_to: Option<u64>,
    /// The application's payload, already checked against the hub's limits; stored as JSON
    /// text.
    pub data: Option<Data>,
    /// For a change event: the seq of the message it changes.
    pub target: Option<u64>,
    /// For a moderation event: its details; stored as JSON text.
    pub moderation: Option<Moderation>,
    /// Users mentioned in the text, sorted.
    pub mentions: Vec<String>,
}

impl NewMessage {
    /// The stored message this becomes once `seq` is assigned.
    pub fn into_message(self, seq: u64) -> Message {
        Message {
            room: self.room,
            seq,
            id: self.id,
            sender: self.sender,
            kind: self.kind,
            text: self.text,
            ts: self.ts,
            nonce: self.nonce,
            reply_to: self.reply_to,
            data: self.data,
            target: self.target,
            moderation: self.moderation.map(Box::new),
            mentions: self.mentions,
            ..Message::default()
        }
    }
}

/// The outcome of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The stored message (for a duplicate: the original).
    pub message: Message,
    /// `true` when the nonce had been used before and nothing new was stored.
    pub duplicate: bool,
}

/// A room to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoom {
    /// Room name.
    pub name: String,
    /// Kind.
    pub kind: RoomKind,
    /// Who created it.
    pub creator: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created: i64,
}

/// A stored room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRecord {
    /// Room name.
    pub name: String,
    /// Kind.
    pub kind: RoomKind,
    /// Topic, if set.
    pub topic: Option<String>,
    /// Description, if set (at creation:
    /// [`RoomAuthority::set_description`](super::RoomAuthority::set_description)).
    #[serde(default)]
    pub description: Option<String>,
    /// Who created it.
    pub creator: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created: i64,
    /// Newest seq (0 when empty).
    pub last_seq: u64,
    /// Durable member count.
    pub members: u64,
    /// In [`Store::list_rooms`](super::Store::list_rooms): the viewer is no member but holds
    /// an invitation (a private room listed for that reason). `false` everywhere else.
    #[serde(default)]
    pub invited: bool,
}

/// Which page of history to read.
///
/// - Neither cursor: the newest `limit` messages.
/// - `before` only: the newest `limit` messages with `seq < before` (scrolling back).
/// - `after` only: the oldest `limit` messages with `seq > after` (catching up).
/// - Both: the oldest `limit` messages with `after < seq < before`; `before <= after + 1` is
///   an empty range and reported as [`Error::BadCursor`](crate::Error::BadCursor) when
///   `before <= after`.
///
/// Messages are returned oldest first in every case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Exclusive upper bound.
    pub before: Option<u64>,
    /// Exclusive lower bound.
    pub after: Option<u64>,
    /// Page size (clamped to [`MAX_PAGE`](MAX_PAGE)); 0 returns no messages.
    pub limit: u32,
}

impl HistoryQuery {
    /// The newest `limit` messages.
    pub fn latest(limit: u32) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    /// `limit` messages after `seq`.
    pub fn after(seq: u64, limit: u32) -> Self {
        Self {
            after: Some(seq),
            limit,
            ..Self::default()
        }
    }

    /// `limit` messages before `seq`.
    pub fn before(seq: u64, limit: u32) -> Self {
        Self {
            before: Some(seq),
            limit,
            ..Self::default()
        }
    }

    /// Rejects contradictory cursors; every store calls this first.
    pub fn check(&self) -> crate::Result<()> {
        if let (Some(b), Some(a)) = (self.before, self.after) {
            if b <= a {
                return Err(crate::Error::BadCursor(format!(
                    "before ({b}) must be greater than after ({a})"
                )));
            }
        }
        Ok(())
    }

    /// The limit clamped to [`MAX_PAGE`](MAX_PAGE).
    pub fn clamped_limit(&self) -> u32 {
        self.limit.min(MAX_PAGE)
    }

    /// `true` when the page reads forwards (oldest first from `after`).
    pub fn is_forward(&self) -> bool {
        self.after.is_some()
    }
}

/// A page of history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    /// `true` when more messages exist beyond this page in the direction read (older for a
    /// backward page, newer for a forward page).
    pub has_more: bool,
    /// For a page with current state ([`Store::history_current`](super::Store::history_current),
    /// [`Store::thread`](super::Store::thread)): the room's newest seq when the state was
    /// read. Every change event up to it is applied to the page's messages, none after it.
    /// 0 for a page of events as stored ([`Store::history`](super::Store::history)).
    #[serde(default)]
    pub current_to: u64,
}

/// A full-text search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Restrict to one room.
    pub room: Option<String>,
    /// The words to find (every word must match, case-insensitively).
    pub text: String,
    /// Most results (clamped to [`MAX_PAGE`](MAX_PAGE)).
    pub limit: u32,
}

/// A read position to record ([`Store::set_reads`](super::backend::Store::set_reads)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMark {
    /// Room name.
    pub room: String,
    /// Whose position it is.
    pub user: String,
    /// Read up to this seq (the position never moves backwards).
    pub seq: u64,
}
