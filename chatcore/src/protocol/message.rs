//! The stored message and the small enums around it.

use serde::{Deserialize, Serialize};

/// A stored room message, exactly as every member receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Room name.
    pub room: String,
    /// Position in the room: 1, 2, 3… with no gaps, assigned by the store at commit.
    pub seq: u64,
    /// Globally unique id (a ULID string).
    pub id: String,
    /// Sender's user name.
    pub sender: String,
    /// What the message is.
    #[serde(default)]
    pub kind: MessageKind,
    /// Text body.
    pub text: String,
    /// Commit time, milliseconds since the Unix epoch.
    pub ts: i64,
    /// The sender's idempotency key, when it gave one (lets a sender match its own echo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Seq of the message this replies to (threads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
}

/// The kind of a message.
///
/// New kinds (edits, deletes, reactions, attachments, moderation notices) are added as new
/// variants; an old client decodes any kind it does not know as [`MessageKind::Unknown`] and
/// can show the text as a fallback, so adding one never breaks the wire format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageKind {
    /// Plain text.
    #[default]
    Text,
    /// An action, as `/me waves`.
    Emote,
    /// A kind this version does not know. Never accepted from a client.
    #[serde(other)]
    Unknown,
}

impl MessageKind {
    /// The stable name stored in databases and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Emote => "emote",
            MessageKind::Unknown => "unknown",
        }
    }

    /// Parses a stored name; unknown names map to [`MessageKind::Unknown`].
    pub fn from_name(name: &str) -> Self {
        match name {
            "text" => MessageKind::Text,
            "emote" => MessageKind::Emote,
            _ => MessageKind::Unknown,
        }
    }
}

/// Who may join a room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoomKind {
    /// Anyone may join; listed for everyone.
    #[default]
    Public,
    /// Invite-only: only durable members may join or read.
    Private,
    /// A direct conversation between exactly two users (see [`crate::names::dm_room`]).
    Direct,
}

impl RoomKind {
    /// The stable name stored in databases and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Public => "public",
            RoomKind::Private => "private",
            RoomKind::Direct => "direct",
        }
    }

    /// Parses a stored name; `None` for a name this version does not know.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "public" => Some(RoomKind::Public),
            "private" => Some(RoomKind::Private),
            "direct" => Some(RoomKind::Direct),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kind_decodes_as_unknown() {
        let k: MessageKind = serde_json::from_str("\"reaction\"").expect("decode");
        assert_eq!(k, MessageKind::Unknown);
    }

    #[test]
    fn names_round_trip() {
        for k in [MessageKind::Text, MessageKind::Emote] {
            assert_eq!(MessageKind::from_name(k.as_str()), k);
        }
        for k in [RoomKind::Public, RoomKind::Private, RoomKind::Direct] {
            assert_eq!(RoomKind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(RoomKind::from_name("nope"), None);
    }
}
