//! Server→client frames: [`Event`] and the rows it carries.

use serde::{Deserialize, Serialize};

use super::message::{Message, RoomKind};
use super::request::RequestId;
use crate::ErrorCode;

/// A server→client frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// First frame of every session.
    Welcome {
        /// [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION).
        protocol: u32,
        /// The authenticated user name.
        user: String,
        /// This session's id (unique per hub).
        session: u64,
        /// Largest accepted message text, in bytes.
        max_text_bytes: usize,
        /// Largest accepted `data` object of a message, in bytes of compact JSON (0 from a
        /// server older than custom payloads: it accepts none).
        #[serde(default)]
        max_data_bytes: usize,
    },
    /// A stored room message (live, replayed on resume, or part of history).
    Message(Message),
    /// The sender's message was committed by the store.
    Ack {
        /// Request id of the `send`/`dm`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room the message was stored in.
        room: String,
        /// Its seq in the room.
        seq: u64,
        /// Its message id.
        msg_id: String,
        /// Commit time, milliseconds since the Unix epoch.
        ts: i64,
        /// `true` when this ack answers a retried nonce: nothing new was stored.
        #[serde(default)]
        duplicate: bool,
    },
    /// A command failed. Nothing was stored.
    Error {
        /// Request id of the failed command, when it had one (and could be read).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Stable machine-readable code.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
        /// With `rate_limited`: milliseconds until the same command would be admitted.
        /// Absent on other errors (and from servers older than per-user limits).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// The session joined a room.
    Joined {
        /// Request id of the `join`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// Room kind.
        kind: RoomKind,
        /// The room's newest seq when the join took effect. Every message with a higher seq
        /// arrives live after this frame.
        last_seq: u64,
        /// Users online in the room (presence snapshot), sorted.
        online: Vec<String>,
        /// Oldest-first: recent history, or on resume the messages after `resume_after`.
        history: Vec<Message>,
        /// `false` when a resume had more missed messages than fit: page the rest with
        /// `history {after}` up to `last_seq`.
        complete: bool,
        /// The seq up to which `history` shows current state: a live change event with a
        /// seq up to it is already applied to the messages here (see `PROTOCOL.md`, "Room
        /// events"). Absent from a server older than change events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current_to: Option<u64>,
    },
    /// The session left a room.
    Left {
        /// Request id of the `leave`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
    },
    /// A user came online in a room.
    UserJoined {
        /// Room name.
        room: String,
        /// User name.
        user: String,
    },
    /// A user went offline in (or left) a room.
    UserLeft {
        /// Room name.
        room: String,
        /// User name.
        user: String,
    },
    /// Who is online in a room: the answer to a `who`, or, without a request id, the whole
    /// list once when a large room became small again (per-user announcements resume).
    Presence {
        /// Request id of the `who`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// Online users, sorted.
        online: Vec<String>,
    },
    /// How many users are online in a large room (more than the hub's
    /// `presence_announce_limit`), where joins and leaves are not announced one by one.
    /// Sent after `joined` and then at most once a second while the number changes.
    OnlineCount {
        /// Room name.
        room: String,
        /// Users online in the room, on every node.
        online: u64,
    },
    /// Someone started or stopped typing.
    Typing {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// `true` while typing.
        on: bool,
    },
    /// A page of history.
    History {
        /// Request id of the `history`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// Messages, always oldest first.
        messages: Vec<Message>,
        /// `true` when more messages exist past this page in the direction asked.
        has_more: bool,
        /// The seq up to which the page shows current state, as in `joined`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current_to: Option<u64>,
    },
    /// The room list.
    Rooms {
        /// Request id of the `rooms`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Rooms visible to the caller.
        rooms: Vec<RoomSummary>,
    },
    /// Answer to `ping`.
    Pong {
        /// Request id of the `ping`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
    },
    /// The user's read position in a room moved: the answer to their `read` (with its id),
    /// and, without an id, at once to every other session of the same user on any node.
    Read {
        /// Request id of the `read`, on the session that sent it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// The stored read position (it never moves backwards).
        seq: u64,
    },
    /// Members' read positions, for the "seen by" line: sent to the sessions that joined
    /// the room, at most once per room per second, with every user whose position moved in
    /// that second (each with their newest seq).
    Receipts {
        /// Room name.
        room: String,
        /// Who read how far, sorted by user.
        reads: Vec<Receipt>,
    },
    /// The user was mentioned with `@name` in a room message (sent to each of their
    /// sessions, whether or not it joined the room).
    Mention {
        /// Room name.
        room: String,
        /// The message's seq.
        seq: u64,
        /// Who wrote it.
        sender: String,
        /// The start of its text (at most 200 bytes, cut at a character boundary).
        text: String,
    },
    /// The user was invited to a private room (sent to each of their sessions on every
    /// node): `join` it to accept. The room also shows in `rooms` with `invited: true` until
    /// joined.
    Invited {
        /// Room name.
        room: String,
        /// Who invited.
        by: String,
    },
    /// A page of search results.
    SearchResults {
        /// Request id of the `search`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Matching messages, newest first.
        hits: Vec<SearchHit>,
        /// Cursor for the next (older) page: pass it as `before`. Absent on the last page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Users whose name starts with a prefix: the answer to `lookup {what: "users"}`.
    Users {
        /// Request id of the `lookup`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// User names, sorted.
        users: Vec<String>,
    },
    /// A room was deleted (`delete_room`): sent to each session that had it joined, on every
    /// node, right before its `left`; and to the caller, with the request id, as the answer.
    RoomDeleted {
        /// Request id of the `delete_room` (only in the caller's answer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// Who deleted it.
        by: String,
    },
    /// Answer to `create`: the new room, owned by the caller.
    Created {
        /// Request id of the `create`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// The room.
        room: RoomSummary,
    },
    /// Answer to `members`: a room's durable members with their roles.
    Members {
        /// Request id of the `members`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// Members, sorted by name.
        members: Vec<super::moderation::Member>,
    },
    /// Answer to `block` / `unblock`.
    Blocked {
        /// Request id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Whose direct messages.
        user: String,
        /// `true`: refused from now on; `false`: accepted again.
        on: bool,
    },
    /// A page of a thread's replies: the answer to `thread`.
    Thread {
        /// Request id of the `thread`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// Seq of the thread's root message.
        root: u64,
        /// Replies, oldest first, with current state.
        messages: Vec<Message>,
        /// `true` when newer replies follow this page.
        has_more: bool,
        /// The seq up to which the page shows current state, as in `joined`.
        current_to: u64,
    },
}

/// One member's read position, in a [`Event::Receipts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Whose position.
    pub user: String,
    /// Their read position.
    pub seq: u64,
}

/// One search result: the message and where its matching words are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The message as stored.
    pub message: Message,
    /// Byte ranges `[start, end)` of `message.text` holding a searched word, in order.
    pub highlights: Vec<[usize; 2]>,
}

impl Event {
    /// An error event.
    pub fn error(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Event::Error {
            id,
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The error event that reports `error` (with `retry_after_ms` when it says when to
    /// retry).
    pub fn from_error(id: Option<RequestId>, error: &crate::Error) -> Self {
        Event::Error {
            id,
            code: error.code(),
            message: error.to_string(),
            retry_after_ms: error.retry_after().map(ceil_millis),
        }
    }
}

/// `d` in whole milliseconds, rounded up and at least 1, so a client that waits that long is
/// admitted (and never spins on a 0).
pub(crate) fn ceil_millis(d: std::time::Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000).max(1);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// One row of the room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    /// Room name.
    pub name: String,
    /// Room kind.
    pub kind: RoomKind,
    /// Topic, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Description, if set (at `create`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `true` in the caller's room list for a private room they are invited to and have not
    /// joined yet (absent otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invited: bool,
    /// Durable members.
    pub members: u64,
    /// Users online on this node.
    pub online: u64,
    /// Newest seq.
    pub last_seq: u64,
    /// Messages after the caller's read position that others wrote (change events and
    /// moderation events do not count), at most [`MAX_UNREAD`](crate::store::MAX_UNREAD).
    /// 0 for anonymous callers.
    #[serde(default)]
    pub unread: u64,
    /// How many of those mention the caller.
    #[serde(default)]
    pub mentions: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MessageKind;

    #[test]
    fn message_event_is_flat() {
        let ev = Event::Message(Message {
            room: "r".into(),
            seq: 3,
            id: "01J".into(),
            sender: "ann".into(),
            kind: MessageKind::Text,
            text: "x".into(),
            ts: 5,
            nonce: None,
            reply_to: None,
            data: None,
            ..Default::default()
        });
        let v = serde_json::to_value(&ev).expect("encode");
        assert_eq!(v["type"], "message");
        assert_eq!(v["seq"], 3);
        let back: Event = serde_json::from_value(v).expect("decode");
        assert_eq!(back, ev);
    }
}
