//! Unread and mention counts: what a room list shows as badges.

use serde::{Deserialize, Serialize};

use crate::protocol::{Message, MessageKind};

/// The most unread messages a store counts in one room; a client shows more as "999+".
/// Bounds the work of a count to an index range of this many rows, however far behind the
/// reader is.
pub const MAX_UNREAD: u64 = 999;

/// Names of the kinds that never count as unread: change events (`edit`, `delete`, `react`,
/// `unreact`) and moderation events.
pub const UNCOUNTED_KINDS: [&str; 12] = [
    "edit", "delete", "react", "unreact", "invite", "kick", "ban", "unban", "mute", "unmute",
    "role", "topic",
];

/// One room's badges for one user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// Room name.
    pub room: String,
    /// Messages after the user's read position written by someone else, at most
    /// [`MAX_UNREAD`].
    pub unread: u64,
    /// How many of the counted ones mention the user.
    pub mentions: u64,
}

/// Whether `message` counts towards `user`'s unread badge: a message (not a change or
/// moderation event) that someone else wrote.
pub fn counts_for(message: &Message, user: &str) -> bool {
    message.sender != user && counts_kind(&message.kind)
}

/// Whether a kind counts as a message for unread badges.
pub fn counts_kind(kind: &MessageKind) -> bool {
    !UNCOUNTED_KINDS.contains(&kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncounted_kinds_are_exactly_the_reserved_ones() {
        for name in UNCOUNTED_KINDS {
            assert!(MessageKind::from_name(name).is_reserved(), "{name}");
        }
        for kind in [
            MessageKind::Text,
            MessageKind::Emote,
            MessageKind::Custom("shop.order".into()),
        ] {
            assert!(counts_kind(&kind), "{kind:?}");
        }
        let reserved = [
            MessageKind::Edit,
            MessageKind::Delete,
            MessageKind::React,
            MessageKind::Unreact,
            MessageKind::Invite,
            MessageKind::Kick,
            MessageKind::Ban,
            MessageKind::Unban,
            MessageKind::Mute,
            MessageKind::Unmute,
            MessageKind::SetRole,
            MessageKind::Topic,
        ];
        for kind in reserved {
            assert!(!counts_kind(&kind), "{kind:?}");
        }
    }
}
