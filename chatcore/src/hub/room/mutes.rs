//! [`Mutes`]: who may not send in a room, kept in memory so that a `send` asks no store.
//!
//! Loaded when the room gets its first local member and subscribes to the room's bus
//! channel ([`RoomAuthority::mutes`](crate::store::RoomAuthority::mutes), read after the
//! room's newest seq, so no later event is missed), then kept by the room's own
//! events as it delivers them in seq order: a `mute` event (committed here, or arriving
//! from another node through the bus or a gap repair) records the mute, an `unmute` lifts
//! it. Each event sets the user's state outright, so applying one twice changes nothing. A
//! timed mute lapses by itself: it refuses only while it lasts, and a lapsed entry is
//! dropped when it is next asked about.

use crate::protocol::{Message, MessageKind};
use crate::store::Restriction;

/// A room's mutes: (user, when the mute ends; `None`: until lifted). A short list, searched
/// linearly: few users of a room are muted at once, and an empty list holds no memory,
/// which matters as every loaded room carries one.
#[derive(Debug, Default)]
pub(crate) struct Mutes {
    muted: Vec<(String, Option<i64>)>,
}

impl Mutes {
    /// The mutes as stored.
    pub(crate) fn new(stored: Vec<Restriction>) -> Self {
        Self {
            muted: stored.into_iter().map(|r| (r.user, r.until)).collect(),
        }
    }

    /// Follows a delivered room event: records a `mute`, lifts an `unmute`, ignores the rest.
    pub(crate) fn apply(&mut self, event: &Message) {
        let user = event.moderation.as_deref().and_then(|m| m.user.as_ref());
        match (&event.kind, user) {
            (MessageKind::Mute, Some(user)) => {
                let until = event.moderation.as_deref().and_then(|m| m.until);
                self.forget(user);
                self.muted.push((user.clone(), until));
            }
            (MessageKind::Unmute, Some(user)) => self.forget(user),
            _ => {}
        }
    }

    /// `Some(until)` while `user` is muted at `now` (ms since the Unix epoch); a lapsed
    /// mute is forgotten.
    pub(crate) fn active(&mut self, user: &str, now: i64) -> Option<Option<i64>> {
        let until = self.muted.iter().find(|(u, _)| u == user)?.1;
        if until.is_some_and(|u| u <= now) {
            self.forget(user);
            return None;
        }
        Some(until)
    }

    /// Lifts `user`'s mute.
    fn forget(&mut self, user: &str) {
        self.muted.retain(|(u, _)| u != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Moderation;

    fn event(kind: MessageKind, details: Moderation) -> Message {
        Message {
            kind,
            moderation: Some(Box::new(details)),
            ..Message::default()
        }
    }

    #[test]
    fn events_mute_and_unmute() {
        let mut m = Mutes::new(Vec::new());
        assert_eq!(m.active("bob", 0), None);
        m.apply(&event(MessageKind::Mute, Moderation::on("bob")));
        m.apply(&event(MessageKind::Mute, Moderation::on("carl").until(100)));
        assert_eq!(m.active("bob", 0), Some(None));
        assert_eq!(m.active("carl", 99), Some(Some(100)));
        m.apply(&event(MessageKind::Unmute, Moderation::on("bob")));
        m.apply(&event(MessageKind::Kick, Moderation::on("carl")));
        assert_eq!(m.active("bob", 0), None);
        assert_eq!(
            m.active("carl", 99),
            Some(Some(100)),
            "a kick leaves the mute"
        );
    }

    #[test]
    fn timed_mutes_lapse() {
        let stored = Restriction {
            user: "bob".into(),
            by: "ann".into(),
            reason: None,
            until: Some(100),
            since: 0,
        };
        let mut m = Mutes::new(vec![stored]);
        assert_eq!(m.active("bob", 99), Some(Some(100)));
        assert_eq!(m.active("bob", 100), None, "lapsed at its end");
        assert_eq!(m.active("bob", 50), None, "and forgotten");
    }
}
