//! Client→server frames: [`Request`] and its [`Command`].

use serde::{Deserialize, Serialize};

use super::message::{Data, MessageKind, RoomKind};
use super::moderation::Role;

/// Protocol version carried in the [`Event::Welcome`](super::Event::Welcome) frame and in the WebSocket
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
    /// [`Event::Joined`](super::Event::Joined).
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
    /// Send a message to a room the session has joined. Answered by [`Event::Ack`](super::Event::Ack).
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
        /// The application's payload: a JSON object (see `PROTOCOL.md`, "Custom kinds and
        /// data"), at most the hub's `max_data_bytes` and
        /// [`MAX_DATA_DEPTH`](super::MAX_DATA_DEPTH) levels deep.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<Data>,
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
    /// Ask for a page of stored history. Answered by [`Event::History`](super::Event::History).
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
    /// Ask who is online in a room. Answered by [`Event::Presence`](super::Event::Presence).
    Who {
        /// Room name.
        room: String,
    },
    /// List public rooms and the caller's private rooms. Answered by [`Event::Rooms`](super::Event::Rooms).
    Rooms {},
    /// Liveness probe. Answered by [`Event::Pong`](super::Event::Pong).
    Ping {},
    /// Moves the caller's read position in a readable room forwards (never backwards; a seq
    /// past the room's newest is clamped to it). Answered by [`Event::Read`](super::Event::Read)
    /// with the position now stored, which the caller's other sessions get too.
    Read {
        /// Room name.
        room: String,
        /// The newest seq the user has seen.
        seq: u64,
    },
    /// Full-text search over the messages the caller may read, newest first. Answered by
    /// [`Event::SearchResults`](super::Event::SearchResults).
    Search {
        /// The words to find (every word must match); see `PROTOCOL.md`, "Search".
        q: String,
        /// Only this room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<String>,
        /// The `next` cursor of the previous page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<String>,
        /// Page size (default 20, at most 100).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Rooms the caller may see whose name starts with `prefix`, or users whose name does
    /// (`what` picks which). Answered by [`Event::Rooms`](super::Event::Rooms) or
    /// [`Event::Users`](super::Event::Users).
    Lookup {
        /// `rooms` or `users`.
        what: LookupKind,
        /// Case-insensitive name prefix (1 to 64 bytes).
        prefix: String,
    },
    /// Create a room; the creator becomes its owner. Answered by
    /// [`Event::Created`](super::Event::Created); then `join` it.
    Create {
        /// Room name (must not exist yet).
        room: String,
        /// `public` or `private`.
        #[serde(default)]
        kind: RoomKind,
        /// The first topic (stored as a `topic` event, seq 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        /// What the room is for, shown in room lists (at most 500 bytes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Delete a room (its owner, or a server admin): its messages, members and settings go
    /// on every node, its audit log stays, and its name is never a room again. Every
    /// member's session gets [`Event::RoomDeleted`](super::Event::RoomDeleted), then
    /// [`Event::Left`](super::Event::Left); the caller's answer is a `room_deleted` with
    /// its request id.
    DeleteRoom {
        /// Room name.
        room: String,
    },
    /// Invite a user to a private room (admins and up). Answered by
    /// [`Event::Ack`](super::Event::Ack) for the `invite` event.
    Invite {
        /// Room name.
        room: String,
        /// Who.
        user: String,
    },
    /// Remove a member from a room (moderators and up). Acked like `invite`.
    Kick {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// Why, shown to the room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Remove a user and keep them out (admins and up). Acked like `invite`.
    Ban {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// Why, shown to the room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// How long, in seconds (absent: until `unban`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_s: Option<u64>,
    },
    /// Lift a ban (admins and up). Acked like `invite`.
    Unban {
        /// Room name.
        room: String,
        /// Who.
        user: String,
    },
    /// Stop a member from sending (moderators and up). Acked like `invite`.
    Mute {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// How long, in seconds (absent: until `unmute`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_s: Option<u64>,
        /// Why, shown to the room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Lift a mute (moderators and up). Acked like `invite`.
    Unmute {
        /// Room name.
        room: String,
        /// Who.
        user: String,
    },
    /// Set the room's topic (moderators and up; empty clears it). Acked like `invite`.
    Topic {
        /// Room name.
        room: String,
        /// The new topic.
        topic: String,
    },
    /// Change a member's role (admins up to moderator, the owner anything; `owner`
    /// transfers ownership). Acked like `invite`.
    Role {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// The new role.
        role: Role,
    },
    /// The room's durable members with their roles. Answered by
    /// [`Event::Members`](super::Event::Members).
    Members {
        /// Room name.
        room: String,
    },
    /// Refuse direct messages from a user. Answered by
    /// [`Event::Blocked`](super::Event::Blocked).
    Block {
        /// Who.
        user: String,
    },
    /// Accept direct messages from a user again. Answered by
    /// [`Event::Blocked`](super::Event::Blocked).
    Unblock {
        /// Who.
        user: String,
    },
    /// Replace the text of one's own message `target` (an `edit` event). Answered by
    /// [`Event::Ack`](super::Event::Ack) with the event's seq.
    Edit {
        /// Room name (joined).
        room: String,
        /// Seq of the message to edit.
        target: u64,
        /// The new text (the limits of `send`).
        text: String,
    },
    /// Delete message `target`: one's own, or any as a moderator (a `delete` event).
    /// Answered by [`Event::Ack`](super::Event::Ack).
    Delete {
        /// Room name (joined).
        room: String,
        /// Seq of the message to delete.
        target: u64,
    },
    /// Add a reaction to message `target` (a `react` event). Answered by
    /// [`Event::Ack`](super::Event::Ack).
    React {
        /// Room name (joined).
        room: String,
        /// Seq of the message reacted to.
        target: u64,
        /// One emoji (see [`check_emoji`](super::check_emoji)).
        emoji: String,
    },
    /// Remove one's reaction from message `target` (an `unreact` event). Answered by
    /// [`Event::Ack`](super::Event::Ack).
    Unreact {
        /// Room name (joined).
        room: String,
        /// Seq of the message.
        target: u64,
        /// The emoji reacted with.
        emoji: String,
    },
    /// A page of the replies to message `root`. Answered by
    /// [`Event::Thread`](super::Event::Thread).
    Thread {
        /// Room name (readable as for `history`).
        room: String,
        /// Seq of the thread's root message.
        root: u64,
        /// Only replies with seq strictly above this (from the first reply when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<u64>,
        /// Page size; clamped to the hub's `max_history_page`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
}

/// What a [`Command::Lookup`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupKind {
    /// Rooms the caller may see.
    Rooms,
    /// Users who are members of a room the caller may see.
    Users,
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
                data: None,
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
}
