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
    /// A change event: an edit of an earlier message. Reserved: made only by the server's
    /// `edit` command (issue #13), never accepted in a `send`.
    Edit,
    /// A change event: a delete of an earlier message. Reserved like [`MessageKind::Edit`].
    Delete,
    /// A change event: a reaction added to an earlier message. Reserved like
    /// [`MessageKind::Edit`].
    React,
    /// A change event: a reaction removed from an earlier message. Reserved like
    /// [`MessageKind::Edit`].
    Unreact,
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
            MessageKind::Edit => "edit",
            MessageKind::Delete => "delete",
            MessageKind::React => "react",
            MessageKind::Unreact => "unreact",
            MessageKind::Unknown => "unknown",
        }
    }

    /// Parses a stored name; unknown names map to [`MessageKind::Unknown`].
    pub fn from_name(name: &str) -> Self {
        match name {
            "text" => MessageKind::Text,
            "emote" => MessageKind::Emote,
            "edit" => MessageKind::Edit,
            "delete" => MessageKind::Delete,
            "react" => MessageKind::React,
            "unreact" => MessageKind::Unreact,
            _ => MessageKind::Unknown,
        }
    }

    /// Whether this kind is a change event (an edit, delete or reaction of an earlier
    /// message), which only the server makes: a `send` of such a kind is refused.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            MessageKind::Edit | MessageKind::Delete | MessageKind::React | MessageKind::Unreact
        )
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
    fn change_kinds_have_wire_names_and_are_told_apart() {
        for (name, k) in [
            ("edit", MessageKind::Edit),
            ("delete", MessageKind::Delete),
            ("react", MessageKind::React),
            ("unreact", MessageKind::Unreact),
        ] {
            let decoded: MessageKind =
                serde_json::from_str(&format!("\"{name}\"")).expect("decode");
            assert_eq!(decoded, k);
            assert_eq!(
                serde_json::to_string(&k).expect("encode"),
                format!("\"{name}\"")
            );
            assert!(k.is_change(), "{name} is a change kind");
        }
        for k in [MessageKind::Text, MessageKind::Emote, MessageKind::Unknown] {
            assert!(!k.is_change(), "{} is not a change kind", k.as_str());
        }
    }

    #[test]
    fn names_round_trip() {
        for k in [
            MessageKind::Text,
            MessageKind::Emote,
            MessageKind::Edit,
            MessageKind::Delete,
            MessageKind::React,
            MessageKind::Unreact,
        ] {
            assert_eq!(MessageKind::from_name(k.as_str()), k);
        }
        for k in [RoomKind::Public, RoomKind::Private, RoomKind::Direct] {
            assert_eq!(RoomKind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(RoomKind::from_name("nope"), None);
    }
}
