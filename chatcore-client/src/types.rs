//! What commands take and return.

use chatcore::protocol::{Data, Message, MessageKind, RoomKind, SearchHit};
use serde::Serialize;

/// The session the server opened for this connection (from its `welcome` frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The authenticated user name.
    pub user: String,
    /// The session id (changes on every reconnect).
    pub session: u64,
    /// Largest message text the server accepts, in UTF-8 bytes.
    pub max_text_bytes: usize,
    /// Largest `data` object of a message (a card) the server accepts, in bytes of compact
    /// JSON; 0 when the server takes none.
    pub max_data_bytes: usize,
}

/// The answer to [`Client::join`](crate::Client::join), and the event of a room the server
/// joined this client to by itself (a direct message arrived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Joined {
    /// Room name.
    pub room: String,
    /// Room kind.
    pub kind: RoomKind,
    /// The room's newest seq when the join took effect; every later message arrives on the
    /// event stream.
    pub last_seq: u64,
    /// Users online in the room, sorted.
    pub online: Vec<String>,
    /// Recent history (oldest first) on a fresh join. Empty for
    /// [`Client::join_after`](crate::Client::join_after): those messages arrive on the event
    /// stream instead.
    pub history: Vec<Message>,
    /// The seq up to which `history` shows current state (0 from an older server): see
    /// [`RoomView`](crate::RoomView).
    pub current_to: u64,
}

/// A stored message's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Ack {
    /// Room the message was stored in.
    pub room: String,
    /// Its seq in the room.
    pub seq: u64,
    /// Its message id.
    pub msg_id: String,
    /// Commit time, milliseconds since the Unix epoch.
    pub ts: i64,
    /// `true` when the nonce had been used before: nothing new was stored, and this is the
    /// original message's ack (a retry after a lost ack lands here).
    pub duplicate: bool,
    /// The nonce the message was sent with.
    pub nonce: String,
}

/// A message to send with options beyond [`Client::send`](crate::Client::send).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutgoingMessage {
    /// Room name (already joined).
    pub room: String,
    /// Text.
    pub text: String,
    /// Idempotency key: generated (a ULID) unless set. Keep it to retry a send whose outcome
    /// is unknown ([`Error::Timeout`](crate::Error::Timeout)).
    pub nonce: String,
    /// Message kind.
    pub kind: MessageKind,
    /// Seq of the message this one replies to.
    pub reply_to: Option<u64>,
    /// The application's payload (a JSON object), usually with a custom kind.
    pub data: Option<Data>,
}

impl OutgoingMessage {
    /// A text message with a fresh nonce.
    pub fn new(room: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            room: room.into(),
            text: text.into(),
            nonce: new_nonce(),
            kind: MessageKind::Text,
            reply_to: None,
            data: None,
        }
    }

    /// Uses `nonce` instead of a generated one (1–128 bytes).
    pub fn with_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = nonce.into();
        self
    }

    /// Sends an emote (`/me waves`) instead of plain text.
    pub fn emote(mut self) -> Self {
        self.kind = MessageKind::Emote;
        self
    }

    /// Sends an application's card: a custom, namespaced `kind` (`shop.order`) with `data`;
    /// the text is what clients that do not know the kind show. The server refuses a kind
    /// without a namespace (`invalid`) and data over its limits (`too_large`, `invalid`).
    pub fn card(mut self, kind: impl AsRef<str>, data: Data) -> Self {
        self.kind = MessageKind::from_name(kind.as_ref());
        self.data = Some(data);
        self
    }

    /// Marks the message as a reply to `seq` (threads).
    pub fn reply_to(mut self, seq: u64) -> Self {
        self.reply_to = Some(seq);
        self
    }
}

/// A fresh nonce: a ULID, unique without coordination.
pub(crate) fn new_nonce() -> String {
    ulid::Ulid::generate().to_string()
}

/// Which page of history to fetch (see `PROTOCOL.md`, `history`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryQuery {
    /// Only messages with seq strictly below it (scrolling back).
    pub before: Option<u64>,
    /// Only messages with seq strictly above it (catching up).
    pub after: Option<u64>,
    /// Page size; the server's default (50) when `None`, at most its page limit (200).
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// The newest messages.
    pub fn latest() -> Self {
        Self::default()
    }

    /// The newest messages below `seq`.
    pub fn before(seq: u64) -> Self {
        Self {
            before: Some(seq),
            ..Self::default()
        }
    }

    /// The oldest messages above `seq`.
    pub fn after(seq: u64) -> Self {
        Self {
            after: Some(seq),
            ..Self::default()
        }
    }

    /// Also bounds the page below `seq`.
    pub fn and_before(mut self, seq: u64) -> Self {
        self.before = Some(seq);
        self
    }

    /// Sets the page size.
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// A page of history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HistoryPage {
    /// Room name.
    pub room: String,
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    /// `true` when more messages exist beyond this page in the direction asked.
    pub has_more: bool,
    /// The seq up to which the page shows current state (0 from an older server): see
    /// [`RoomView`](crate::RoomView).
    pub current_to: u64,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SearchPage {
    /// Matching messages, newest first, with the byte ranges of the matched words.
    pub hits: Vec<SearchHit>,
    /// Cursor for the next (older) page; `None` on the last page.
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_fresh_and_kept() {
        let a = OutgoingMessage::new("r", "t");
        let b = OutgoingMessage::new("r", "t");
        assert_ne!(a.nonce, b.nonce);
        assert_eq!(a.nonce.len(), 26);
        let c = a.clone().with_nonce("mine").emote().reply_to(3);
        assert_eq!(c.nonce, "mine");
        assert_eq!(c.kind, MessageKind::Emote);
        assert_eq!(c.reply_to, Some(3));
    }

    #[test]
    fn history_queries() {
        let q = HistoryQuery::after(4).and_before(10).with_limit(5);
        assert_eq!((q.after, q.before, q.limit), (Some(4), Some(10), Some(5)));
        assert_eq!(HistoryQuery::latest(), HistoryQuery::default());
    }
}
