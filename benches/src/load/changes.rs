//! The change mix of `--changes` (issue #13): which of a publisher's ticks edit or react
//! instead of sending, and which message each change is on.
//!
//! A fraction `f` of the ticks (spread evenly: tick `k` is a change when `⌊k·f⌋` moves) make
//! a change, in turn a `react`, an `edit` and an `unreact`: a reaction on one of the room's
//! newest messages, whoever sent it, with an emoji this user has not put there yet; an edit
//! of this user's newest message; the removal of this user's oldest reaction still there.
//! When a change has nothing to act on yet (no message seen, no own message, no reaction to
//! take back) the tick sends a message instead, so the rate of events stays the plan's.

use std::collections::VecDeque;

use crate::workload::Rng;

/// The emoji reactions use.
pub const EMOJI: &[&str] = &["👍", "❤️", "😂", "🎉", "👀", "🙏", "🔥", "✅"];

/// Reactions land on one of this many newest messages of the room.
const RECENT: usize = 8;
/// Own reactions remembered for `unreact` (older ones stay on their messages).
const MAX_OWN_REACTIONS: usize = 64;

/// What one tick does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Send a new message.
    Send,
    /// Edit own message `seq`.
    Edit(u64),
    /// React to message `seq` with an emoji.
    React(u64, &'static str),
    /// Remove own reaction from message `seq`.
    Unreact(u64, &'static str),
}

/// A publisher's view of its room, enough to choose its changes.
#[derive(Debug)]
pub struct Mix {
    fraction: f64,
    ticks: u64,
    turn: usize,
    rng: Rng,
    /// Seqs of the room's newest messages (not change events), newest last.
    recent: VecDeque<u64>,
    /// Seq of this user's newest message.
    newest_own: Option<u64>,
    /// This user's reactions, oldest first.
    own_reactions: VecDeque<(u64, &'static str)>,
}

impl Mix {
    /// A mix where `fraction` (0 to 1) of the ticks are changes; `seed` varies the choice of
    /// targets and the phase between publishers (a publisher making only a few ticks in a
    /// run still makes its share of changes when they are counted over all publishers).
    pub fn new(fraction: f64, seed: u64) -> Self {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        Self {
            fraction: fraction.clamp(0.0, 1.0),
            ticks: rng.below(1 << 20),
            turn: 0,
            rng,
            recent: VecDeque::with_capacity(RECENT + 1),
            newest_own: None,
            own_reactions: VecDeque::new(),
        }
    }

    /// A message (not a change event) with `seq` arrived in the room; `own` when this user
    /// sent it.
    pub fn seen(&mut self, seq: u64, own: bool) {
        self.recent.push_back(seq);
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        if own {
            self.newest_own = Some(seq);
        }
    }

    /// What the next tick does.
    pub fn next_op(&mut self) -> Op {
        let before = (self.ticks as f64 * self.fraction) as u64;
        self.ticks += 1;
        let now = (self.ticks as f64 * self.fraction) as u64;
        if now == before {
            return Op::Send;
        }
        self.turn = (self.turn + 1) % 3;
        match self.turn {
            1 => self.react(),
            2 => self.newest_own.map_or_else(|| self.react(), Op::Edit),
            _ => match self.own_reactions.pop_front() {
                Some((seq, emoji)) => Op::Unreact(seq, emoji),
                None => self.react(),
            },
        }
    }

    fn react(&mut self) -> Op {
        if self.recent.is_empty() {
            return Op::Send;
        }
        let target = self.recent[self.rng.below(self.recent.len() as u64) as usize];
        let free = EMOJI
            .iter()
            .find(|e| !self.own_reactions.contains(&(target, **e)));
        let Some(&emoji) = free else {
            return Op::Send;
        };
        self.own_reactions.push_back((target, emoji));
        if self.own_reactions.len() > MAX_OWN_REACTIONS {
            self.own_reactions.pop_front();
        }
        Op::React(target, emoji)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenth_of_the_ticks_change_in_turn() {
        let mut mix = Mix::new(0.1, 7);
        for seq in 1..=5 {
            mix.seen(seq, seq % 2 == 0);
        }
        let ops: Vec<Op> = (0..300).map(|_| mix.next_op()).collect();
        let changes: Vec<&Op> = ops.iter().filter(|o| **o != Op::Send).collect();
        assert_eq!(changes.len(), 30);
        let reacts = changes
            .iter()
            .filter(|o| matches!(o, Op::React(..)))
            .count();
        let edits = changes.iter().filter(|o| matches!(o, Op::Edit(4))).count();
        let unreacts = changes
            .iter()
            .filter(|o| matches!(o, Op::Unreact(..)))
            .count();
        assert_eq!((reacts, edits, unreacts), (10, 10, 10));
    }

    #[test]
    fn never_reacts_twice_with_one_emoji_and_unreacts_only_its_own() {
        let mut mix = Mix::new(1.0, 3);
        mix.seen(9, false);
        let mut held: Vec<(u64, &str)> = Vec::new();
        for _ in 0..100 {
            match mix.next_op() {
                Op::React(seq, e) => {
                    assert!(!held.contains(&(seq, e)), "{seq} {e} twice");
                    held.push((seq, e));
                }
                Op::Unreact(seq, e) => {
                    let at = held
                        .iter()
                        .position(|h| *h == (seq, e))
                        .expect("own reaction");
                    held.remove(at);
                }
                Op::Send => assert_eq!(held.len(), EMOJI.len(), "sends only when all are used"),
                Op::Edit(_) => panic!("no own message to edit"),
            }
        }
    }

    #[test]
    fn nothing_seen_means_sends() {
        let mut mix = Mix::new(1.0, 1);
        assert!((0..10).all(|_| mix.next_op() == Op::Send));
    }
}
