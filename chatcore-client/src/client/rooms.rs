//! Per-room delivery: seq tracking, dedupe, and gap filling.
//!
//! Every message of a room has a seq 1, 2, 3… A [`RoomTracker`] remembers `seen`, the highest
//! seq up to which every message was yielded (or predates the join), and yields a message only
//! when its seq is `seen + 1`. Older seqs are duplicates and dropped; newer ones are held until
//! the gap before them is filled from history. After a resume with `complete: false` the gap
//! up to the `joined.last_seq` is paged in; live messages that arrive meanwhile wait in `held`.
//! So the stream never yields a duplicate, never skips a seq, and never reorders.

use std::collections::BTreeMap;

use chatcore::protocol::Message;

/// Largest page asked for while filling a gap (the server's default page limit).
pub(crate) const PAGE: u32 = 200;

/// A history page to ask for: messages with `after < seq < before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub(crate) after: u64,
    pub(crate) before: u64,
}

/// The delivery state of one joined room.
#[derive(Debug, Clone, Default)]
pub(crate) struct RoomTracker {
    /// Every message with a seq up to this was yielded (or came before the join).
    seen: u64,
    /// Messages up to this seq are known to exist (the last `joined.last_seq`).
    target: u64,
    /// Messages received ahead of a gap, by seq.
    held: BTreeMap<u64, Message>,
    /// A gap-filling page was asked for and not answered yet.
    paging: bool,
}

impl RoomTracker {
    /// A room joined fresh: everything up to `last_seq` is history, not news.
    pub(crate) fn fresh(last_seq: u64) -> Self {
        Self {
            seen: last_seq,
            target: last_seq,
            ..Self::default()
        }
    }

    /// A room to be joined with `resume_after: after`.
    pub(crate) fn resume(after: u64) -> Self {
        Self {
            seen: after,
            target: after,
            ..Self::default()
        }
    }

    /// The resume point: every message up to it was yielded.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }

    /// The connection dropped: held messages and pages in flight will come again.
    pub(crate) fn reset(&mut self) {
        self.held.clear();
        self.paging = false;
    }

    /// A `joined` answering a resume: its history holds the messages after `seen` (all of
    /// them when `complete`).
    pub(crate) fn on_resumed(
        &mut self,
        last_seq: u64,
        history: Vec<Message>,
        complete: bool,
        out: &mut Vec<Message>,
    ) -> Option<PageRequest> {
        self.target = self.target.max(last_seq);
        for m in history {
            self.accept(m, out);
        }
        if complete && self.seen < last_seq {
            // Nothing between `seen` and `last_seq` exists any more (or ever did).
            self.seen = last_seq;
            self.flush(out);
        }
        self.next_page()
    }

    /// A live message.
    pub(crate) fn on_message(&mut self, m: Message, out: &mut Vec<Message>) -> Option<PageRequest> {
        self.accept(m, out);
        self.next_page()
    }

    /// A gap-filling page arrived.
    pub(crate) fn on_page(
        &mut self,
        request: PageRequest,
        messages: Vec<Message>,
        out: &mut Vec<Message>,
    ) -> Option<PageRequest> {
        self.paging = false;
        let before = self.seen;
        for m in messages {
            self.accept(m, out);
        }
        let end = request.before.saturating_sub(1);
        if self.seen == before && self.seen < end {
            // The server has nothing in the gap: do not ask forever.
            tracing::warn!(
                after = request.after,
                before = request.before,
                "history has no messages in a gap; skipping it"
            );
            self.seen = end;
            self.flush(out);
        }
        self.next_page()
    }

    /// A gap-filling page failed; the gap is retried with the next message or reconnect.
    pub(crate) fn on_page_failed(&mut self) {
        self.paging = false;
    }

    fn accept(&mut self, m: Message, out: &mut Vec<Message>) {
        if m.seq <= self.seen {
            return; // a duplicate: already yielded
        }
        if m.seq == self.seen.saturating_add(1) {
            self.seen = m.seq;
            out.push(m);
            self.flush(out);
        } else {
            self.held.insert(m.seq, m);
        }
    }

    /// Yields held messages that are now next in line; drops those already yielded.
    fn flush(&mut self, out: &mut Vec<Message>) {
        while let Some(entry) = self.held.first_entry() {
            let seq = *entry.key();
            if seq <= self.seen {
                entry.remove();
            } else if seq == self.seen.saturating_add(1) {
                self.seen = seq;
                out.push(entry.remove());
            } else {
                break;
            }
        }
    }

    /// The page that fills the next gap, if there is one and no page is in flight.
    fn next_page(&mut self) -> Option<PageRequest> {
        if self.paging {
            return None;
        }
        // Everything before the first held message comes first; then up to the target.
        let need = match self.held.keys().next() {
            Some(first) => first.saturating_sub(1),
            None => self.target,
        };
        if self.seen >= need {
            return None;
        }
        self.paging = true;
        Some(PageRequest {
            after: self.seen,
            before: need.saturating_add(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64) -> Message {
        chatcore_testkit::fixtures::message("r", seq)
    }

    fn seqs(out: &[Message]) -> Vec<u64> {
        out.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn fresh_join_yields_only_news_once() {
        let mut r = RoomTracker::fresh(5);
        let mut out = Vec::new();
        for s in [4, 5, 6, 6, 7] {
            assert_eq!(r.on_message(msg(s), &mut out), None);
        }
        assert_eq!(seqs(&out), [6, 7]);
        assert_eq!(r.seen(), 7);
    }

    #[test]
    fn complete_resume_then_live_has_no_gap_or_duplicate() {
        let mut r = RoomTracker::resume(3);
        let mut out = Vec::new();
        let page = r.on_resumed(6, (2..=6).map(msg).collect(), true, &mut out);
        assert_eq!(page, None);
        r.on_message(msg(6), &mut out);
        r.on_message(msg(7), &mut out);
        assert_eq!(seqs(&out), [4, 5, 6, 7]);
    }

    #[test]
    fn incomplete_resume_pages_and_holds_live_messages() {
        let mut r = RoomTracker::resume(0);
        let mut out = Vec::new();
        let first = r.on_resumed(10, (1..=4).map(msg).collect(), false, &mut out);
        assert_eq!(
            first,
            Some(PageRequest {
                after: 4,
                before: 11
            })
        );
        // Live messages arrive while the page is in flight: held, no second page.
        assert_eq!(r.on_message(msg(11), &mut out), None);
        assert_eq!(r.on_message(msg(12), &mut out), None);
        assert_eq!(seqs(&out), [1, 2, 3, 4]);
        // A short page: ask for the rest.
        let next = r.on_page(first.expect("page"), (5..=7).map(msg).collect(), &mut out);
        assert_eq!(
            next,
            Some(PageRequest {
                after: 7,
                before: 11
            })
        );
        let done = r.on_page(next.expect("page"), (8..=10).map(msg).collect(), &mut out);
        assert_eq!(done, None);
        assert_eq!(seqs(&out), (1..=12).collect::<Vec<_>>());
    }

    #[test]
    fn unexpected_gap_is_repaired_from_history() {
        let mut r = RoomTracker::fresh(2);
        let mut out = Vec::new();
        let page = r.on_message(msg(5), &mut out);
        assert_eq!(
            page,
            Some(PageRequest {
                after: 2,
                before: 5
            })
        );
        let done = r.on_page(page.expect("page"), vec![msg(3), msg(4)], &mut out);
        assert_eq!(done, None);
        assert_eq!(seqs(&out), [3, 4, 5]);
    }

    #[test]
    fn an_empty_page_skips_the_gap_instead_of_looping() {
        let mut r = RoomTracker::fresh(2);
        let mut out = Vec::new();
        let page = r.on_message(msg(5), &mut out).expect("page");
        assert_eq!(r.on_page(page, Vec::new(), &mut out), None);
        assert_eq!(seqs(&out), [5]);
    }

    #[test]
    fn absurd_seqs_do_not_overflow() {
        let mut r = RoomTracker::fresh(u64::MAX - 1);
        let mut out = Vec::new();
        assert_eq!(r.on_message(msg(u64::MAX), &mut out), None);
        assert_eq!(r.on_message(msg(u64::MAX), &mut out), None);
        assert_eq!(seqs(&out), [u64::MAX]);
        let mut r = RoomTracker::fresh(0);
        let page = r.on_message(msg(u64::MAX), &mut out).expect("page");
        assert_eq!(page.before, u64::MAX);
        assert_eq!(r.on_page(page, Vec::new(), &mut out), None);
    }

    #[test]
    fn reset_forgets_held_messages_and_pages() {
        let mut r = RoomTracker::fresh(0);
        let mut out = Vec::new();
        assert!(r.on_message(msg(3), &mut out).is_some());
        r.reset();
        assert_eq!(r.seen(), 0);
        let again = r.on_resumed(3, (1..=3).map(msg).collect(), true, &mut out);
        assert_eq!(again, None);
        assert_eq!(seqs(&out), [1, 2, 3]);
    }
}
