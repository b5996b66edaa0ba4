//! The memory store's current state of a room's messages: edits, tombstones, reactions and
//! thread replies, kept beside the events and applied with each change.

use std::collections::HashMap;

use super::changes::{ReactionState, TargetState, check_change};
use super::types::NewMessage;
use crate::Result;
use crate::protocol::{Message, MessageKind, ReactionCount, ThreadSummary, Tombstone};

/// Most participants a thread summary names.
pub(crate) const MAX_PARTICIPANTS: usize = 10;

/// One room's current state beside its events.
#[derive(Debug, Default)]
pub(super) struct RoomState {
    /// Target seq → when it was last edited.
    edited: HashMap<u64, i64>,
    /// Target seq → its tombstone.
    deleted: HashMap<u64, Tombstone>,
    /// Target seq → (emoji, users) in order of first use.
    reactions: HashMap<u64, Vec<(String, Vec<String>)>>,
    /// Root seq → its replies' seqs, ascending.
    replies: HashMap<u64, Vec<u64>>,
}

impl RoomState {
    /// Checks a change against the state (`messages[i]` has seq `i + 1`); `Ok` for a message
    /// that is not a change.
    pub(super) fn check(&self, messages: &[Message], msg: &NewMessage) -> Result<()> {
        if !msg.kind.is_change() {
            return Ok(());
        }
        let seq = msg.target.unwrap_or(0);
        let target = seq
            .checked_sub(1)
            .and_then(|i| messages.get(usize::try_from(i).ok()?))
            .map(|m| TargetState {
                kind: &m.kind,
                sender: &m.sender,
                deleted: self.deleted.contains_key(&seq),
            });
        let mut reactions = ReactionState::default();
        if let Some(list) = self.reactions.get(&seq) {
            reactions.distinct = list.len();
            if let Some((_, users)) = list.iter().find(|(e, _)| *e == msg.text) {
                reactions.used = true;
                reactions.mine = users.contains(&msg.sender);
            }
        }
        check_change(msg, target, reactions)
    }

    /// Applies a just-stored event (already checked) to the state and to the messages it
    /// changes.
    pub(super) fn apply(&mut self, messages: &mut [Message], event: &Message) {
        if let (Some(root), false) = (event.reply_to, event.kind.is_reserved()) {
            self.replies.entry(root).or_default().push(event.seq);
        }
        let Some(target) = event.target.filter(|_| event.kind.is_change()) else {
            return;
        };
        let at = |seq: u64| usize::try_from(seq.saturating_sub(1)).ok();
        match event.kind {
            MessageKind::Edit => {
                if let Some(m) = at(target).and_then(|i| messages.get_mut(i)) {
                    m.text.clone_from(&event.text);
                }
                self.edited.insert(target, event.ts);
            }
            MessageKind::Delete => {
                for m in messages.iter_mut() {
                    let edit_of_it = m.kind == MessageKind::Edit && m.target == Some(target);
                    if m.seq == target || edit_of_it {
                        m.text.clear();
                        m.data = None;
                    }
                }
                self.deleted.insert(
                    target,
                    Tombstone {
                        by: event.sender.clone(),
                        ts: event.ts,
                    },
                );
                self.edited.remove(&target);
                self.reactions.remove(&target);
            }
            MessageKind::React => {
                let list = self.reactions.entry(target).or_default();
                match list.iter_mut().find(|(e, _)| *e == event.text) {
                    Some((_, users)) => users.push(event.sender.clone()),
                    None => list.push((event.text.clone(), vec![event.sender.clone()])),
                }
            }
            MessageKind::Unreact => {
                if let Some(list) = self.reactions.get_mut(&target) {
                    if let Some((_, users)) = list.iter_mut().find(|(e, _)| *e == event.text) {
                        users.retain(|u| *u != event.sender);
                    }
                    list.retain(|(_, users)| !users.is_empty());
                }
            }
            _ => {}
        }
    }

    /// Fills the current-state fields of `page` (messages of this room) for `viewer`.
    pub(super) fn fill(&self, messages: &[Message], page: &mut [Message], viewer: Option<&str>) {
        for m in page.iter_mut().filter(|m| !m.kind.is_reserved()) {
            m.edited_ts = self.edited.get(&m.seq).copied();
            m.deleted = self.deleted.get(&m.seq).cloned().map(Box::new);
            m.reactions = self
                .reactions
                .get(&m.seq)
                .map(|list| {
                    list.iter()
                        .map(|(emoji, users)| ReactionCount {
                            emoji: emoji.clone(),
                            count: users.len() as u64,
                            me: viewer.is_some_and(|v| users.iter().any(|u| u == v)),
                        })
                        .collect()
                })
                .unwrap_or_default();
            m.thread = self.summary(messages, m.seq).map(Box::new);
        }
    }

    /// A root's thread summary, if it has replies.
    fn summary(&self, messages: &[Message], root: u64) -> Option<ThreadSummary> {
        let replies = self.replies.get(&root)?;
        let last = messages.get(usize::try_from(*replies.last()? - 1).ok()?)?;
        let mut participants: Vec<String> = Vec::new();
        for seq in replies {
            let reply = usize::try_from(seq - 1).ok().and_then(|i| messages.get(i));
            if let Some(m) = reply.filter(|m| !participants.contains(&m.sender)) {
                participants.push(m.sender.clone());
            }
        }
        participants.sort();
        participants.truncate(MAX_PARTICIPANTS);
        Some(ThreadSummary {
            replies: replies.len() as u64,
            last_seq: last.seq,
            last_ts: last.ts,
            participants,
        })
    }

    /// The seqs of `root`'s replies with `after < seq < before`, ascending.
    pub(super) fn replies(&self, root: u64, after: u64, before: u64) -> Vec<u64> {
        self.replies
            .get(&root)
            .map(|r| {
                r.iter()
                    .copied()
                    .filter(|s| *s > after && *s < before)
                    .collect()
            })
            .unwrap_or_default()
    }
}
