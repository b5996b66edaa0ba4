//! The wire protocol: every client→server command and server→client event.
//!
//! Frames are maps with a `type` tag (`{"type":"send","id":7,...}`), so new fields and new
//! frame types can be added without breaking old peers: unknown fields are ignored, and an
//! unknown `type` gets an [`ErrorCode::UnknownType`] error
//! that echoes the request id. `PROTOCOL.md` at the repository root documents every frame.

mod codec;
mod frame;
mod message;

pub use codec::{Codec, DecodeError};
pub use frame::Frame;
pub use message::{Message, MessageKind, RoomKind};

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Protocol version carried in the [`Event::Welcome`] frame and in the WebSocket
/// subprotocol name (`chatcore.v1.json`, `chatcore.v1.msgpack`).
pub const PROTOCOL_VERSION: u32 = 1;

/// A client-chosen request id. Acks, errors and replies echo it so a client can match them.
pub type RequestId = u64;

/// One client→server frame: an optional request id and the command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Echoed in the reply (ack, error, joined, history, …). Optional: fire-and-forget commands
    /// such as `typing` usually omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    /// What the client asks for.
    #[serde(flatten)]
    pub command: Command,
}

impl Request {
    /// A request with an id.
    pub fn new(id: RequestId, command: Command) -> Self {
        Self {
            id: Some(id),
            command,
        }
    }
}

/// What a client can ask of the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Join a room (created as a public room when it does not exist). Answered by
    /// [`Event::Joined`].
    Join {
        /// Room name.
        room: String,
        /// Resume point: the last seq this client has seen. With it the server replays every
        /// message after it (see `PROTOCOL.md`, "Resume"); without it, recent history.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_after: Option<u64>,
    },
    /// Leave a room: stop receiving its messages and drop the durable membership.
    Leave {
        /// Room name.
        room: String,
    },
    /// Send a message to a room the session has joined. Answered by [`Event::Ack`].
    Send {
        /// Room name.
        room: String,
        /// Message text (UTF-8, non-empty, at most the hub's `max_text_bytes`).
        text: String,
        /// Client-chosen idempotency key: a retried send with the same nonce returns the
        /// original ack instead of storing a second message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
        /// Message kind; `text` when absent.
        #[serde(default)]
        kind: MessageKind,
        /// The seq of the message this one replies to (threads).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<u64>,
    },
    /// Send a direct message to a user. Lands in the two-member private room
    /// [`dm_room`](crate::names::dm_room)`(me, to)`, which both are joined to.
    Dm {
        /// Recipient user name.
        to: String,
        /// Message text.
        text: String,
        /// Idempotency key, as for `send`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
    /// Start or stop the typing indicator in a room. Never stored.
    Typing {
        /// Room name.
        room: String,
        /// `true` while typing.
        on: bool,
    },
    /// Ask for a page of stored history. Answered by [`Event::History`].
    History {
        /// Room name.
        room: String,
        /// Return messages with seq strictly below this (newest first page when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<u64>,
        /// Return messages with seq strictly above this (oldest first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        /// Page size; clamped to the hub's `max_history_page`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Ask who is online in a room. Answered by [`Event::Presence`].
    Who {
        /// Room name.
        room: String,
    },
    /// List public rooms and the caller's private rooms. Answered by [`Event::Rooms`].
    Rooms {},
    /// Liveness probe. Answered by [`Event::Pong`].
    Ping {},
}

/// A server→client frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// First frame of every session.
    Welcome {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The authenticated user name.
        user: String,
        /// This session's id (unique per hub).
        session: u64,
        /// Largest accepted message text, in bytes.
        max_text_bytes: usize,
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
    /// Who is online in a room.
    Presence {
        /// Request id of the `who`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<RequestId>,
        /// Room name.
        room: String,
        /// Online users, sorted.
        online: Vec<String>,
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
}

impl Event {
    /// An error event.
    pub fn error(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Event::Error {
            id,
            code,
            message: message.into(),
        }
    }
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
    /// Durable members.
    pub members: u64,
    /// Users online on this node.
    pub online: u64,
    /// Newest seq.
    pub last_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json_shape_is_flat_and_tagged() {
        let req = Request::new(
            7,
            Command::Send {
                room: "general".into(),
                text: "hi".into(),
                nonce: Some("n1".into()),
                kind: MessageKind::Text,
                reply_to: None,
            },
        );
        let json = serde_json::to_value(&req).expect("encode");
        assert_eq!(
            json,
            serde_json::json!({"id":7,"type":"send","room":"general","text":"hi","nonce":"n1","kind":"text"})
        );
        let back: Request = serde_json::from_value(json).expect("decode");
        assert_eq!(back, req);
    }

    #[test]
    fn unknown_fields_are_ignored_for_forward_compatibility() {
        let req: Request =
            serde_json::from_str(r#"{"type":"ping","id":1,"future_field":[1,2]}"#).expect("ok");
        assert_eq!(req, Request::new(1, Command::Ping {}));
    }

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
        });
        let v = serde_json::to_value(&ev).expect("encode");
        assert_eq!(v["type"], "message");
        assert_eq!(v["seq"], 3);
        let back: Event = serde_json::from_value(v).expect("decode");
        assert_eq!(back, ev);
    }
}
