//! One joined room as the client sees it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chatcore::names::dm_members;
use chatcore_client::{Message, MessageKind, Receipt, RoomKind};

/// How long a typing indicator lasts without being renewed. Senders renew every
/// [`TYPING_RENEW`](super::TYPING_RENEW), so a lost "stopped typing" fades out by itself.
pub const TYPING_TTL: Duration = Duration::from_secs(6);

/// A joined room: its messages (deduplicated by seq, with edits, deletes, reactions and
/// replies merged in), unread count, scroll position, presence and typing users.
#[derive(Debug, Clone)]
pub struct RoomView {
    /// Room name.
    pub name: String,
    /// Room kind.
    pub kind: RoomKind,
    /// Every message and event held, each message in its current state: the client
    /// library's merge of history pages and live change events (PROTOCOL.md, "Room
    /// events"), so a change is never applied twice or lost.
    state: chatcore_client::RoomView,
    /// Seqs of what the chat shows: messages and moderation events, not change events
    /// (they change their target) nor thread replies (the thread view shows those).
    shown: BTreeSet<u64>,
    /// Messages that arrived while the room was not shown, after the read position.
    pub unread: usize,
    /// Of those, mentions of the user (or any message, in a direct room).
    pub mentions: usize,
    /// The user's read position (the newest seq marked read), as the server stores it.
    pub read_seq: u64,
    /// Scroll position, in messages from the newest (0: at the bottom, following new ones).
    pub scroll: usize,
    /// The message selected for a change (`e`, `d`, `r`, `t`), in select mode.
    pub selected: Option<u64>,
    /// Users online (empty in a large room, whose members are not listed one by one).
    pub online: BTreeSet<String>,
    /// The room's durable members, for Tab completion of user names.
    pub members: BTreeSet<String>,
    /// How many are online, when the room is large (PROTOCOL.md, "Presence in large rooms");
    /// `None` while the room is small and [`online`](RoomView::online) is the whole list.
    pub online_count: Option<u64>,
    /// Members' read positions from receipts: user → the newest seq they read.
    pub read_by: BTreeMap<String, u64>,
    /// Users typing, with when their indicator expires.
    pub typing: BTreeMap<String, Instant>,
    /// Older messages exist on the server than the oldest loaded.
    pub has_more: bool,
    /// A history page was asked for and has not arrived.
    pub loading: bool,
}

/// Whether the chat shows `m` as a line of its own.
fn shows(m: &Message) -> bool {
    !m.kind.is_change() && m.reply_to.is_none()
}

impl RoomView {
    /// An empty room, seen by `me` (whose reactions are marked as theirs).
    pub fn new(name: impl Into<String>, kind: RoomKind, me: &str) -> RoomView {
        RoomView {
            name: name.into(),
            kind,
            state: chatcore_client::RoomView::new(me),
            shown: BTreeSet::new(),
            unread: 0,
            mentions: 0,
            read_seq: 0,
            scroll: 0,
            selected: None,
            online: BTreeSet::new(),
            members: BTreeSet::new(),
            online_count: None,
            read_by: BTreeMap::new(),
            typing: BTreeMap::new(),
            has_more: false,
            loading: false,
        }
    }

    /// Takes in a live (or replayed) message or event; `false` when its seq was already
    /// there (a duplicate).
    pub fn insert(&mut self, message: Message) -> bool {
        if self.state.get(message.seq).is_some() {
            return false;
        }
        let seq = message.seq;
        let visible = shows(&message);
        self.state.apply_event(message);
        if visible {
            self.shown.insert(seq);
            // Scrolled up reading old messages: stay on the same message when one arrives
            // below.
            if self.scroll > 0 && self.shown.last() == Some(&seq) {
                self.scroll += 1;
            }
        }
        true
    }

    /// Takes in a page (history, a thread) with current state up to `current_to`.
    pub fn insert_page(&mut self, messages: Vec<Message>, current_to: u64) {
        for m in messages.iter().filter(|m| shows(m)) {
            self.shown.insert(m.seq);
        }
        self.state.apply_page(messages, current_to);
    }

    /// The message at `seq`, as it is now.
    pub fn get(&self, seq: u64) -> Option<&Message> {
        self.state.get(seq)
    }

    /// How many lines of their own the chat shows.
    pub fn len(&self) -> usize {
        self.shown.len()
    }

    /// Nothing to show.
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    /// Seq of the oldest message or event held (history pages are asked for before it).
    pub fn oldest_seq(&self) -> Option<u64> {
        self.state.messages().next().map(|m| m.seq)
    }

    /// Seq of the newest message or event held.
    pub fn newest_seq(&self) -> Option<u64> {
        self.state.messages().last().map(|m| m.seq)
    }

    /// What the chat shows, oldest first.
    pub fn ordered(&self) -> impl DoubleEndedIterator<Item = &Message> + ExactSizeIterator {
        self.shown
            .iter()
            .filter_map(|s| self.state.get(*s))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The replies to `root` held, oldest first.
    pub fn replies(&self, root: u64) -> Vec<&Message> {
        self.state
            .messages()
            .filter(|m| m.reply_to == Some(root) && !m.kind.is_change())
            .collect()
    }

    /// The seq shown next to `seq`: older (`up`) or newer; the newest when `seq` is `None`.
    pub fn step(&self, seq: Option<u64>, up: bool) -> Option<u64> {
        match (seq, up) {
            (None, _) => self.shown.last().copied(),
            (Some(s), true) => self.shown.range(..s).next_back().copied().or(Some(s)),
            (Some(s), false) => self.shown.range(s + 1..).next().copied().or(Some(s)),
        }
    }

    /// How many shown messages are newer than `seq` (the scroll that puts it at the bottom).
    pub fn newer_than(&self, seq: u64) -> usize {
        self.shown.range(seq + 1..).count()
    }

    /// Counts again what is unread after the read position `seq`, for `me`.
    pub fn mark_read(&mut self, seq: u64, me: &str) {
        self.read_seq = self.read_seq.max(seq);
        let read = self.read_seq;
        let after: Vec<&Message> = self
            .ordered()
            .filter(|m| m.seq > read && m.sender != me && !m.kind.is_moderation())
            .collect();
        let unread = after.len();
        let mentions = after
            .iter()
            .filter(|m| self.kind == RoomKind::Direct || m.mentions.iter().any(|u| u == me))
            .count();
        self.unread = unread.min(self.unread);
        self.mentions = mentions.min(self.mentions);
    }

    /// Takes in members' read positions (a position never moves back: moves made on two
    /// nodes may arrive in either order).
    pub fn receipts(&mut self, reads: Vec<Receipt>) {
        for r in reads {
            let seq = self.read_by.entry(r.user).or_insert(r.seq);
            *seq = (*seq).max(r.seq);
        }
    }

    /// Who else has read the newest message the chat shows, sorted ("seen by").
    pub fn seen_by(&self, me: &str) -> Vec<&str> {
        let Some(&newest) = self.shown.last() else {
            return Vec::new();
        };
        self.read_by
            .iter()
            .filter(|(user, seq)| **seq >= newest && user.as_str() != me)
            .map(|(user, _)| user.as_str())
            .collect()
    }

    /// The text of the newest kick or ban of `me`, if the room holds one (why they were
    /// removed).
    pub fn removal_of(&self, me: &str) -> Option<String> {
        self.ordered()
            .rev()
            .find(|m| {
                matches!(m.kind, MessageKind::Kick | MessageKind::Ban)
                    && m.moderation.as_ref().and_then(|x| x.user.as_deref()) == Some(me)
            })
            .map(|m| format!("{} (#{})", m.text, self.name))
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
        self.len().saturating_sub(page)
    }

    /// `true` when the view shows the oldest loaded messages (drawn from the top then).
    pub fn at_top(&self, page: usize) -> bool {
        !self.is_empty() && self.scroll > 0 && self.scroll >= self.max_scroll(page)
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
        let mut r = RoomView::new("r", RoomKind::Public, "ann");
        assert!(r.insert(msg(2)));
        assert!(r.insert(msg(1)));
        assert!(!r.insert(msg(2)));
        let seqs: Vec<u64> = r.ordered().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![1, 2]);
        assert_eq!(r.oldest_seq(), Some(1));
    }

    #[test]
    fn seen_by_lists_others_who_read_the_newest_message() {
        let mut r = RoomView::new("r", RoomKind::Public, "ann");
        r.insert(msg(1));
        r.insert(msg(2));
        let read = |user: &str, seq| Receipt {
            user: user.into(),
            seq,
        };
        r.receipts(vec![read("ann", 2), read("bob", 2), read("cat", 1)]);
        assert_eq!(r.seen_by("ann"), ["bob"], "not me, not who read less");
        r.receipts(vec![read("bob", 1), read("cat", 5)]);
        assert_eq!(
            r.seen_by("ann"),
            ["bob", "cat"],
            "an older position does not undo"
        );
        r.insert(msg(6));
        assert!(
            r.seen_by("ann").is_empty(),
            "a newer message is seen by nobody yet"
        );
    }

    #[test]
    fn display_names() {
        assert_eq!(
            RoomView::new("general", RoomKind::Public, "ann").display_name("ann"),
            "#general"
        );
        assert_eq!(
            RoomView::new("dm:ann:bob", RoomKind::Direct, "ann").display_name("ann"),
            "@bob"
        );
        assert_eq!(
            RoomView::new("dm:ann:bob", RoomKind::Direct, "ann").display_name("bob"),
            "@ann"
        );
    }
}
