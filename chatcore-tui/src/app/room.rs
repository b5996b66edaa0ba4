//! One joined room as the client sees it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chatcore::names::dm_members;
use chatcore_client::{Message, RoomKind};

/// How long a typing indicator lasts without being renewed. Senders renew every
/// [`TYPING_RENEW`](super::TYPING_RENEW), so a lost "stopped typing" fades out by itself.
pub const TYPING_TTL: Duration = Duration::from_secs(6);

/// A joined room: its messages (deduplicated by seq), unread count, scroll position,
/// presence and typing users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomView {
    /// Room name.
    pub name: String,
    /// Room kind.
    pub kind: RoomKind,
    /// Messages by seq: a message seen twice (replay on resume, history overlap) is kept once.
    pub messages: BTreeMap<u64, Message>,
    /// Messages that arrived while the room was not shown.
    pub unread: usize,
    /// Of those, mentions of the user (or any message, in a direct room).
    pub mentions: usize,
    /// Scroll position, in messages from the newest (0: at the bottom, following new ones).
    pub scroll: usize,
    /// Users online (empty in a large room, whose members are not listed one by one).
    pub online: BTreeSet<String>,
    /// How many are online, when the room is large (PROTOCOL.md, "Presence in large rooms");
    /// `None` while the room is small and [`online`](RoomView::online) is the whole list.
    pub online_count: Option<u64>,
    /// Users typing, with when their indicator expires.
    pub typing: BTreeMap<String, Instant>,
    /// Older messages exist on the server than the oldest loaded.
    pub has_more: bool,
    /// A history page was asked for and has not arrived.
    pub loading: bool,
}

impl RoomView {
    /// An empty room.
    pub fn new(name: impl Into<String>, kind: RoomKind) -> RoomView {
        RoomView {
            name: name.into(),
            kind,
            messages: BTreeMap::new(),
            unread: 0,
            mentions: 0,
            scroll: 0,
            online: BTreeSet::new(),
            online_count: None,
            typing: BTreeMap::new(),
            has_more: false,
            loading: false,
        }
    }

    /// Adds a message; `false` when its seq was already there (a duplicate).
    pub fn insert(&mut self, message: Message) -> bool {
        if self.messages.contains_key(&message.seq) {
            return false;
        }
        let seq = message.seq;
        self.messages.insert(seq, message);
        // Scrolled up reading old messages: stay on the same message when one arrives below.
        if self.scroll > 0 && self.messages.last_key_value().map(|(k, _)| *k) == Some(seq) {
            self.scroll += 1;
        }
        true
    }

    /// Seq of the oldest loaded message.
    pub fn oldest_seq(&self) -> Option<u64> {
        self.messages.first_key_value().map(|(k, _)| *k)
    }

    /// Messages oldest first.
    pub fn ordered(&self) -> impl DoubleEndedIterator<Item = &Message> + ExactSizeIterator {
        self.messages.values()
    }

    /// The name to show: `@bob` for a direct room `dm:ann:bob` seen by `ann`, `#name` else.
    pub fn display_name(&self, me: &str) -> String {
        match dm_members(&self.name) {
            Some((a, b)) => format!("@{}", if a == me { b } else { a }),
            None => format!("#{}", self.name),
        }
    }

    /// Users typing now, sorted.
    pub fn typing_now(&self, now: Instant) -> Vec<&str> {
        self.typing
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(u, _)| u.as_str())
            .collect()
    }

    /// Drops expired typing indicators.
    pub fn expire_typing(&mut self, now: Instant) {
        self.typing.retain(|_, until| *until > now);
    }

    /// The largest useful scroll position for a pane of `page` rows: the oldest page of
    /// loaded messages (every message takes at least one row).
    pub fn max_scroll(&self, page: usize) -> usize {
        self.messages.len().saturating_sub(page)
    }

    /// `true` when the view shows the oldest loaded messages (drawn from the top then).
    pub fn at_top(&self, page: usize) -> bool {
        !self.messages.is_empty() && self.scroll > 0 && self.scroll >= self.max_scroll(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64) -> Message {
        chatcore_testkit::fixtures::message("r", seq)
    }

    #[test]
    fn duplicates_are_dropped_and_order_is_by_seq() {
        let mut r = RoomView::new("r", RoomKind::Public);
        assert!(r.insert(msg(2)));
        assert!(r.insert(msg(1)));
        assert!(!r.insert(msg(2)));
        let seqs: Vec<u64> = r.ordered().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![1, 2]);
        assert_eq!(r.oldest_seq(), Some(1));
    }

    #[test]
    fn display_names() {
        assert_eq!(
            RoomView::new("general", RoomKind::Public).display_name("ann"),
            "#general"
        );
        assert_eq!(
            RoomView::new("dm:ann:bob", RoomKind::Direct).display_name("ann"),
            "@bob"
        );
        assert_eq!(
            RoomView::new("dm:ann:bob", RoomKind::Direct).display_name("bob"),
            "@ann"
        );
    }
}
