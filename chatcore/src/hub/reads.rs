//! [`Reads`]: read positions on their way to the store and to the room's members.
//!
//! A `read` is answered from memory: the session knows its positions (`SessionState`), and a
//! position that moved is **written behind**: kept here and written to the store in one batch
//! ([`Store::set_reads`]) every [`READ_FLUSH`], so 10,000 reads a second cost ten store
//! commands, not 10,000 round trips. Whatever reads the positions back from the store
//! ([`Store::unread`] for badges) calls [`Reads::flush`] first, and shutdown flushes what is
//! left; a crash loses at most the last [`READ_FLUSH`] of moves (a badge shows a few messages
//! unread again: never a message lost).
//!
//! Receipts go out **once a second per room**: a move only records the newest seq of the
//! (room, user) pair, and each tick sends every recorded pair and forgets it. So a user's
//! receipts in a room leave at most once a second, a burst of reads costs one receipt (its
//! newest), and a member's receipts of one tick reach its socket together, in one write.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::store::{ReadMark, Store};

/// How often moved read positions are written to the store.
pub(crate) const READ_FLUSH: Duration = Duration::from_millis(100);

/// How often receipts go out: at most one per user per room per interval.
pub(crate) const RECEIPT_INTERVAL: Duration = Duration::from_secs(1);

/// (room, user) → the newest seq moved to.
type Moves = HashMap<(String, String), u64>;

/// Moves not yet written, and receipts not yet sent.
#[derive(Debug, Default)]
pub(crate) struct Reads {
    // Std mutexes: each held for one map operation, never across an `.await`.
    unwritten: Mutex<Moves>,
    unsent: Mutex<Moves>,
    /// Held while a batch is written, so that a [`flush`](Self::flush) returns only once every
    /// move made before it is stored, including those another flush took first.
    writing: tokio::sync::Mutex<()>,
}

fn lock(m: &Mutex<Moves>) -> MutexGuard<'_, Moves> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn raise(moves: &mut Moves, room: &str, user: &str, seq: u64) {
    let slot = moves
        .entry((room.to_owned(), user.to_owned()))
        .or_insert(seq);
    *slot = (*slot).max(seq);
}

impl Reads {
    /// `user`'s position in `room` moved to `seq` on this node: to be written.
    pub(crate) fn write_behind(&self, room: &str, user: &str, seq: u64) {
        raise(&mut lock(&self.unwritten), room, user, seq);
    }

    /// `user`'s position in `room` moved to `seq` (here or on another node): to be shown to
    /// the room's members here at the next receipt tick.
    pub(crate) fn offer_receipt(&self, room: &str, user: &str, seq: u64) {
        raise(&mut lock(&self.unsent), room, user, seq);
    }

    /// The receipts due now, grouped by room; each pair is forgotten once taken.
    pub(crate) fn take_receipts(&self) -> HashMap<String, Vec<(String, u64)>> {
        let unsent = std::mem::take(&mut *lock(&self.unsent));
        let mut by_room: HashMap<String, Vec<(String, u64)>> = HashMap::new();
        for ((room, user), seq) in unsent {
            by_room.entry(room).or_default().push((user, seq));
        }
        by_room
    }

    /// Writes every move made so far to the store. A failed batch is kept (merged with later
    /// moves) for the next flush, and logged.
    pub(crate) async fn flush(&self, store: &dyn Store) {
        let _writing = self.writing.lock().await;
        let moves = std::mem::take(&mut *lock(&self.unwritten));
        if moves.is_empty() {
            return;
        }
        let marks: Vec<ReadMark> = moves
            .iter()
            .map(|((room, user), seq)| ReadMark {
                room: room.clone(),
                user: user.clone(),
                seq: *seq,
            })
            .collect();
        if let Err(e) = store.set_reads(&marks).await {
            tracing::warn!(error = %e, moves = marks.len(), "writing read positions failed; retrying at the next flush");
            let mut unwritten = lock(&self.unwritten);
            for ((room, user), seq) in moves {
                raise(&mut unwritten, &room, &user, seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Store};

    #[tokio::test]
    async fn moves_are_written_once_each_at_their_newest() {
        let store = MemoryStore::new();
        store
            .create_room(crate::store::NewRoom {
                name: "r".into(),
                kind: crate::protocol::RoomKind::Public,
                creator: "ann".into(),
                created: 0,
            })
            .await
            .expect("room");
        let reads = Reads::default();
        reads.write_behind("r", "bob", 3);
        reads.write_behind("r", "bob", 2);
        reads.write_behind("gone", "bob", 9);
        assert_eq!(store.read_position("r", "bob").await.expect("read"), 0);
        reads.flush(&store).await;
        assert_eq!(store.read_position("r", "bob").await.expect("read"), 3);
        assert!(lock(&reads.unwritten).is_empty(), "a room gone is skipped");
    }

    #[test]
    fn receipts_keep_the_newest_per_pair_until_taken() {
        let reads = Reads::default();
        reads.offer_receipt("r", "bob", 5);
        reads.offer_receipt("r", "bob", 4);
        reads.offer_receipt("r", "cat", 1);
        let mut due = reads.take_receipts().remove("r").expect("room r");
        due.sort();
        assert_eq!(due, [("bob".to_owned(), 5), ("cat".to_owned(), 1)]);
        assert!(reads.take_receipts().is_empty());
    }
}
