//! [`RoomView`]: a room's messages as a client shows them, merging history pages (current
//! state) with live change events so no change is applied twice (PROTOCOL.md, "Room
//! events", how a client merges).

use std::collections::BTreeMap;

use chatcore::protocol::{Message, MessageKind, ReactionCount, ThreadSummary, Tombstone};

/// A room's messages by seq, each with the seq up to which its state is current.
///
/// A history page (or `joined`) says up to which seq it shows current state
/// (`current_to`). A live change event with a seq up to the state of its target is already
/// in it and is skipped; a later one is applied. A page older than what the view holds for
/// a message does not replace it. So pages and live events may arrive in any interleaving.
#[derive(Debug, Clone, Default)]
pub struct RoomView {
    me: String,
    messages: BTreeMap<u64, (Message, u64)>,
}

impl RoomView {
    /// An empty view for user `me` (whose reactions are marked `me`).
    pub fn new(me: impl Into<String>) -> Self {
        Self {
            me: me.into(),
            messages: BTreeMap::new(),
        }
    }

    /// Takes in a page with current state up to `current_to`.
    pub fn apply_page(&mut self, messages: Vec<Message>, current_to: u64) {
        for m in messages {
            let newer = match self.messages.get(&m.seq) {
                Some((_, state)) => current_to >= *state,
                None => true,
            };
            if newer {
                let state = current_to.max(m.seq);
                self.messages.insert(m.seq, (m, state));
            }
        }
    }

    /// Takes in one live event: a message is added (once), a change event is applied to its
    /// target unless the target's state already includes it.
    pub fn apply_event(&mut self, event: Message) {
        if self.messages.contains_key(&event.seq) {
            return;
        }
        if let Some(root) = event.reply_to.filter(|_| !event.kind.is_reserved()) {
            if let Some((m, state)) = self.messages.get_mut(&root) {
                if *state < event.seq {
                    add_reply(m, &event);
                    *state = event.seq;
                }
            }
        }
        if let Some(target) = event.target.filter(|_| event.kind.is_change()) {
            if let Some((m, state)) = self.messages.get_mut(&target) {
                if *state < event.seq {
                    apply_change(m, &event, &self.me);
                    *state = event.seq;
                }
            }
        }
        let seq = event.seq;
        self.messages.insert(seq, (event, seq));
    }

    /// The message at `seq`, as it is now.
    pub fn get(&self, seq: u64) -> Option<&Message> {
        self.messages.get(&seq).map(|(m, _)| m)
    }

    /// Every message and event held, by seq.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.values().map(|(m, _)| m)
    }
}

fn apply_change(m: &mut Message, event: &Message, me: &str) {
    match event.kind {
        MessageKind::Edit => {
            m.text.clone_from(&event.text);
            m.edited_ts = Some(event.ts);
        }
        MessageKind::Delete => {
            m.text.clear();
            m.data = None;
            m.edited_ts = None;
            m.reactions.clear();
            m.deleted = Some(Box::new(Tombstone {
                by: event.sender.clone(),
                ts: event.ts,
            }));
        }
        MessageKind::React => {
            let mine = event.sender == me;
            match m.reactions.iter_mut().find(|r| r.emoji == event.text) {
                Some(r) => {
                    r.count += 1;
                    r.me |= mine;
                }
                None => m.reactions.push(ReactionCount {
                    emoji: event.text.clone(),
                    count: 1,
                    me: mine,
                }),
            }
        }
        MessageKind::Unreact => {
            if let Some(r) = m.reactions.iter_mut().find(|r| r.emoji == event.text) {
                r.count = r.count.saturating_sub(1);
                if event.sender == me {
                    r.me = false;
                }
            }
            m.reactions.retain(|r| r.count > 0);
        }
        _ => {}
    }
}

fn add_reply(root: &mut Message, reply: &Message) {
    let summary = root.thread.get_or_insert_with(|| {
        Box::new(ThreadSummary {
            replies: 0,
            last_seq: 0,
            last_ts: 0,
            participants: Vec::new(),
        })
    });
    summary.replies += 1;
    summary.last_seq = reply.seq;
    summary.last_ts = reply.ts;
    if !summary.participants.contains(&reply.sender) {
        summary.participants.push(reply.sender.clone());
        summary.participants.sort();
        summary.participants.truncate(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64, sender: &str, text: &str) -> Message {
        Message {
            room: "r".into(),
            seq,
            id: format!("id{seq}"),
            sender: sender.into(),
            text: text.into(),
            ts: seq as i64 * 10,
            ..Message::default()
        }
    }

    fn change(seq: u64, sender: &str, kind: MessageKind, target: u64, text: &str) -> Message {
        let mut m = msg(seq, sender, text);
        m.kind = kind;
        m.target = Some(target);
        m
    }

    #[test]
    fn a_change_already_in_a_page_is_not_applied_again() {
        let mut view = RoomView::new("ann");
        let mut one = msg(1, "bob", "hi");
        one.reactions = vec![ReactionCount {
            emoji: "👍".into(),
            count: 1,
            me: true,
        }];
        // The page was read at seq 3: the react at seq 2 is in it.
        view.apply_page(vec![one], 3);
        view.apply_event(change(2, "ann", MessageKind::React, 1, "👍"));
        assert_eq!(view.get(1).map(|m| m.reactions[0].count), Some(1));
        view.apply_event(change(4, "cy", MessageKind::React, 1, "👍"));
        assert_eq!(view.get(1).map(|m| m.reactions[0].count), Some(2));
        view.apply_event(change(4, "cy", MessageKind::React, 1, "👍"));
        assert_eq!(
            view.get(1).map(|m| m.reactions[0].count),
            Some(2),
            "a repeated event is ignored"
        );
    }

    #[test]
    fn an_older_page_does_not_undo_a_newer_change() {
        let mut view = RoomView::new("ann");
        view.apply_page(vec![msg(1, "bob", "hi")], 1);
        view.apply_event(change(2, "bob", MessageKind::Edit, 1, "hello"));
        view.apply_page(vec![msg(1, "bob", "hi")], 1);
        assert_eq!(view.get(1).map(|m| m.text.as_str()), Some("hello"));
        let mut fresh = msg(1, "bob", "hello again");
        fresh.edited_ts = Some(30);
        view.apply_page(vec![fresh], 3);
        assert_eq!(view.get(1).map(|m| m.text.as_str()), Some("hello again"));
    }

    #[test]
    fn deletes_unreacts_and_replies_apply() {
        let mut view = RoomView::new("ann");
        view.apply_page(vec![msg(1, "bob", "hi"), msg(2, "cy", "bye")], 2);
        view.apply_event(change(3, "ann", MessageKind::React, 1, "🎉"));
        assert!(view.get(1).is_some_and(|m| m.reactions[0].me));
        view.apply_event(change(4, "ann", MessageKind::Unreact, 1, "🎉"));
        assert!(view.get(1).is_some_and(|m| m.reactions.is_empty()));
        view.apply_event(change(5, "cy", MessageKind::Delete, 2, ""));
        let two = view.get(2).expect("tombstone");
        assert_eq!(
            (
                two.text.as_str(),
                two.deleted.as_ref().map(|d| d.by.as_str())
            ),
            ("", Some("cy"))
        );
        let mut reply = msg(6, "dan", "re");
        reply.reply_to = Some(1);
        view.apply_event(reply);
        let summary = view.get(1).and_then(|m| m.thread.clone()).expect("summary");
        assert_eq!((summary.replies, summary.last_seq), (1, 6));
        assert_eq!(view.messages().count(), 6);
    }
}
