//! The stored message and the small enums around it.

use serde::{Deserialize, Serialize};

use super::moderation::Moderation;
use super::state::{ReactionCount, ThreadSummary, Tombstone};

/// A stored room event, exactly as every member receives it: a message, or a change to the
/// room or to an earlier message (an edit, delete, reaction or moderation action), all in
/// one seq order (see `PROTOCOL.md`, "Room events").
///
/// Rare details (`moderation`, `deleted`, `thread`) are boxed, so the common message stays
/// small to move. The fields after `data` split in two. `target`, `moderation` and `mentions` are part of
/// the event: stored, fanned out, replayed. `edited_ts`, `deleted`, `reactions` and `thread`
/// are the message's *current state*: a history page fills them in; live frames leave them
/// empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The application's structured payload (a JSON object, at most the hub's
    /// `max_data_bytes` encoded and [`MAX_DATA_DEPTH`](super::MAX_DATA_DEPTH) levels deep),
    /// usually with a [`MessageKind::Custom`] kind. Carried and stored as it is; never
    /// interpreted by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Data>,
    /// For a change event (`edit`, `delete`, `react`, `unreact`): the seq of the message it
    /// changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<u64>,
    /// For a moderation event (`invite`, `kick`, `ban`, …): whom it was on, why, until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<Box<Moderation>>,
    /// Users mentioned with `@name` in the text, as the server parsed them, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Current state: when the text was last edited (the text is the edited one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_ts: Option<i64>,
    /// Current state: the message was deleted; `text` is empty and `data` absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Box<Tombstone>>,
    /// Current state: reactions, one entry per emoji, in order of first use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionCount>,
    /// Current state: for a thread root, its replies at a glance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Box<ThreadSummary>>,
}

/// A message's structured payload: a JSON object.
pub type Data = serde_json::Map<String, serde_json::Value>;

/// The kind of a message, sent as a plain string.
///
/// Known names (`text`, `emote`, and the kinds only the server makes, see
/// [`MessageKind::is_reserved`]: the change kinds `edit`, `delete`, `react`, `unreact` and the
/// moderation kinds `invite`, `kick`, `ban`, `unban`, `mute`, `unmute`, `role`, `topic`) are
/// variants of their own. An
/// application's own kinds are
/// [`MessageKind::Custom`]: namespaced names such as `shop.order` (see
/// [`MessageKind::is_custom_name`]), carried and stored as they are and never interpreted by
/// the engine; such a message usually has a [`Message::data`] object, and its `text` is the
/// fallback a client that does not know the kind shows. Any other name decodes as
/// [`MessageKind::Unknown`] (a kind of a newer version), which a client shows by its text
/// and a server refuses from a client (`invalid`). New kinds are added as new variants, so
/// adding one never breaks the wire format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// Plain text.
    #[default]
    Text,
    /// An action, as `/me waves`.
    Emote,
    /// An application's own kind: a namespaced name such as `shop.order`.
    Custom(String),
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
    /// A moderation event: a user was invited to a private room. Reserved: made only by the
    /// server's moderation commands (issue #12), never accepted in a `send`; its
    /// [`Message::moderation`] says whom.
    Invite,
    /// A moderation event: a member was removed from the room. Reserved like
    /// [`MessageKind::Invite`].
    Kick,
    /// A moderation event: a user was banned, maybe until a time. Reserved like
    /// [`MessageKind::Invite`].
    Ban,
    /// A moderation event: a ban was lifted. Reserved like [`MessageKind::Invite`].
    Unban,
    /// A moderation event: a member may not send, maybe until a time. Reserved like
    /// [`MessageKind::Invite`].
    Mute,
    /// A moderation event: a mute was lifted. Reserved like [`MessageKind::Invite`].
    Unmute,
    /// A moderation event: a member's role changed (ownership transfer included). Reserved
    /// like [`MessageKind::Invite`].
    SetRole,
    /// A moderation event: the topic changed; `text` is the new topic. Reserved like
    /// [`MessageKind::Invite`].
    Topic,
    /// The room was deleted (`delete_room`). Never a stored message (a deleted room keeps
    /// none): it names the action of the room's last audit row. Reserved like
    /// [`MessageKind::Invite`].
    DeleteRoom,
    /// A kind this version does not know. Never accepted from a client.
    Unknown,
}

/// Longest custom kind name, in bytes.
pub const MAX_KIND_BYTES: usize = 64;

impl MessageKind {
    /// The stable name stored in databases and sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Emote => "emote",
            MessageKind::Custom(name) => name,
            MessageKind::Edit => "edit",
            MessageKind::Delete => "delete",
            MessageKind::React => "react",
            MessageKind::Unreact => "unreact",
            MessageKind::Invite => "invite",
            MessageKind::Kick => "kick",
            MessageKind::Ban => "ban",
            MessageKind::Unban => "unban",
            MessageKind::Mute => "mute",
            MessageKind::Unmute => "unmute",
            MessageKind::SetRole => "role",
            MessageKind::Topic => "topic",
            MessageKind::DeleteRoom => "delete_room",
            MessageKind::Unknown => "unknown",
        }
    }

    /// Parses a name: known names map to their variant, namespaced names to
    /// [`MessageKind::Custom`], anything else to [`MessageKind::Unknown`].
    pub fn from_name(name: &str) -> Self {
        match name {
            "text" => MessageKind::Text,
            "emote" => MessageKind::Emote,
            _ if Self::is_custom_name(name) => MessageKind::Custom(name.to_owned()),
            "edit" => MessageKind::Edit,
            "delete" => MessageKind::Delete,
            "react" => MessageKind::React,
            "unreact" => MessageKind::Unreact,
            "invite" => MessageKind::Invite,
            "kick" => MessageKind::Kick,
            "ban" => MessageKind::Ban,
            "unban" => MessageKind::Unban,
            "mute" => MessageKind::Mute,
            "unmute" => MessageKind::Unmute,
            "role" => MessageKind::SetRole,
            "topic" => MessageKind::Topic,
            "delete_room" => MessageKind::DeleteRoom,
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

    /// Whether this kind is a moderation event (`invite`, `kick`, `ban`, `unban`, `mute`,
    /// `unmute`, `role`, `topic`, `delete_room`), which only the server makes.
    pub fn is_moderation(&self) -> bool {
        matches!(
            self,
            MessageKind::Invite
                | MessageKind::Kick
                | MessageKind::Ban
                | MessageKind::Unban
                | MessageKind::Mute
                | MessageKind::Unmute
                | MessageKind::SetRole
                | MessageKind::Topic
                | MessageKind::DeleteRoom
        )
    }

    /// Whether only the server makes events of this kind (a change or a moderation event):
    /// a `send` of such a kind is refused with `invalid`.
    pub fn is_reserved(&self) -> bool {
        self.is_change() || self.is_moderation()
    }

    /// An application kind: `true` for a custom kind (`shop.order`), `false` for the
    /// engine's own.
    pub fn is_custom(&self) -> bool {
        matches!(self, MessageKind::Custom(_))
    }

    /// Whether `name` is a valid custom kind: at most [`MAX_KIND_BYTES`] bytes, two or more
    /// dot-separated parts, each non-empty, of lowercase ASCII letters, digits, `_` and `-`,
    /// starting with a letter (`shop.order`, `acme.poll-v2`). The namespace keeps
    /// applications' kinds apart from each other and from the engine's future kinds.
    pub fn is_custom_name(name: &str) -> bool {
        name.len() <= MAX_KIND_BYTES
            && name.contains('.')
            && name.split('.').all(|part| {
                part.starts_with(|c: char| c.is_ascii_lowercase())
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                    })
            })
    }
}

impl Serialize for MessageKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MessageKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = MessageKind;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a message kind name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<MessageKind, E> {
                Ok(MessageKind::from_name(name))
            }
        }
        deserializer.deserialize_str(Name)
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
mod tests;
