//! [`Reads`]: read positions on their way to the store and to the room's members.
//!
//! A `read` is answered from memory: the session knows its positions (`SessionState`), and a
//! position that moved is **written behind**: kept here and written to the store in one batch
//! ([`Store::set_reads`]) every [`READ_FLUSH`], so 10,000 reads a second cost ten store
//! commands, not 10,000 round trips. Whatever reads the positions back from the store
//! ([`Store::unread`] for badges) writes the user's moves first ([`Reads::flush_user`]), and shutdown flushes what is
//! left; a crash loses at most the last [`READ_FLUSH`] of moves (a badge shows a few messages
//! unread again: never a message lost).
//!
//! Receipts go out **once a second per room**: a move only records the newest seq of the
//! (room, user) pair, and the room's tick sends every recorded pair in one `receipts` frame
//! and forgets them. So a user's receipts in a room leave at most once a second, a burst of
//! reads costs one receipt (its newest), and a member gets one frame per room per second
//! however many members read: in a room of n readers, n frames a second instead of n². The
//! frame waits for the next frame the member is sent, or the room's next tick
//! (`Room::broadcast_lazy`), so in a busy room it costs no write of its own.
//! The rooms are spread over [`RECEIPT_SLOTS`] ticks of [`READ_FLUSH`] (by a hash of the name),
//! so a node with 10,000 busy rooms sends a tenth of their receipts every 100 ms instead of
//! all of them in one burst that would hold up the messages behind it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::store::{ReadMark, Store};

/// How often moved read positions are written to the store.
pub(crate) const READ_FLUSH: Duration = Duration::from_millis(100);

/// Most read positions written in one store command.
const READ_CHUNK: usize = 64;

/// How many [`READ_FLUSH`] ticks apart a room's receipts go out (one second): at most one
/// receipt per user per room per second.
pub(crate) const RECEIPT_SLOTS: usize = 10;

/// (room, user) → the newest seq moved to.
type Moves = HashMap<(String, String), u64>;

/// Receipts not yet sent: room → user → the newest seq moved to.
pub(crate) type Receipts = HashMap<String, HashMap<String, u64>>;

/// Moves not yet written, and receipts not yet sent.
#[derive(Debug, Default)]
pub(crate) struct Reads {
    // Std mutexes: each held for one map operation, never across an `.await`.
    unwritten: Mutex<Moves>,
    /// One map per receipt slot: a room's receipts wait in the slot of its name's hash.
    unsent: [Mutex<Receipts>; RECEIPT_SLOTS],
    /// Held while a batch is written, so that a [`flush`](Self::flush) returns only once every
    /// move made before it is stored, including those another flush took first.
    writing: tokio::sync::Mutex<()>,
}

fn lock(m: &Mutex<Moves>) -> MutexGuard<'_, Moves> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The receipt slot of a room: a hash of its name, the same on every tick.
fn slot_of(room: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    room.hash(&mut h);
    (h.finish() % RECEIPT_SLOTS as u64) as usize
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

    /// The newest move of `user` in `room` not yet stored, if any. Ask it **before** the
    /// store: a move leaves this map only once it is stored, so one of the two has it.
    pub(crate) fn unwritten(&self, room: &str, user: &str) -> Option<u64> {
        lock(&self.unwritten)
            .get(&(room.to_owned(), user.to_owned()))
            .copied()
    }

    /// `user`'s position in `room` moved to `seq` (here or on another node): to be shown to
    /// the room's members here at the room's next receipt tick.
    pub(crate) fn offer_receipt(&self, room: &str, user: &str, seq: u64) {
        let mut unsent = self.unsent[slot_of(room)]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let users = unsent.entry(room.to_owned()).or_default();
        let slot = users.entry(user.to_owned()).or_insert(seq);
        *slot = (*slot).max(seq);
    }

    /// The receipts of the rooms of `slot` (counted modulo [`RECEIPT_SLOTS`]), taken: each
    /// pair is forgotten once taken.
    pub(crate) fn take_receipts(&self, slot: usize) -> Receipts {
        let mut unsent = self.unsent[slot % RECEIPT_SLOTS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *unsent)
    }

    /// Writes every move made so far to the store, [`READ_CHUNK`] at a time. A move stays in
    /// the map until it is stored (so [`unwritten`](Self::unwritten) sees it meanwhile); a
    /// failed chunk stays for the next flush, and is logged.
    pub(crate) async fn flush(&self, store: &dyn Store) {
        self.write(store, None).await;
    }

    /// Writes `user`'s moves made so far (and waits for a flush under way), so that what
    /// reads positions back for `user` sees every move answered before it.
    pub(crate) async fn flush_user(&self, store: &dyn Store, user: &str) {
        self.write(store, Some(user)).await;
    }

    async fn write(&self, store: &dyn Store, only: Option<&str>) {
        let _writing = self.writing.lock().await;
        let mut marks: Vec<ReadMark> = lock(&self.unwritten)
            .iter()
            .filter(|((_, user), _)| only.is_none_or(|u| u == user))
            .map(|((room, user), seq)| ReadMark {
                room: room.clone(),
                user: user.clone(),
                seq: *seq,
            })
            .collect();
        // Sorted, so that a chunk holds whole rooms: the store's rows of one room lie together
        // (SQLite's primary key, PostgreSQL's index), and a commit rewrites a few pages
        // instead of one per move.
        marks.sort_unstable_by(|a, b| (&a.room, &a.user).cmp(&(&b.room, &b.user)));
        // In chunks: each is one store command, so no commit of a large batch holds the
        // messages queued behind it for long.
        for chunk in marks.chunks(READ_CHUNK) {
            if let Err(e) = store.set_reads(chunk).await {
                tracing::warn!(error = %e, moves = chunk.len(), "writing read positions failed; retrying at the next flush");
                continue;
            }
            let mut unwritten = lock(&self.unwritten);
            for m in chunk {
                let key = (m.room.clone(), m.user.clone());
                // A move made while this one was written stays for the next flush.
                if unwritten.get(&key) == Some(&m.seq) {
                    unwritten.remove(&key);
                }
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
        reads.write_behind("r", "cat", 1);
        reads.flush_user(&store, "cat").await;
        assert_eq!(store.read_position("r", "cat").await.expect("read"), 1);
        assert_eq!(
            store.read_position("r", "bob").await.expect("read"),
            0,
            "cat's only"
        );
        reads.flush(&store).await;
        assert_eq!(store.read_position("r", "bob").await.expect("read"), 3);
        assert!(lock(&reads.unwritten).is_empty(), "a room gone is skipped");
    }

    #[test]
    fn receipts_keep_the_newest_per_pair_until_their_slot_takes_them() {
        let reads = Reads::default();
        reads.offer_receipt("r", "bob", 5);
        reads.offer_receipt("r", "bob", 4);
        reads.offer_receipt("r", "cat", 1);
        let slot = slot_of("r");
        assert!(
            reads.take_receipts(slot + 1).is_empty(),
            "another slot's tick"
        );
        let due = reads.take_receipts(slot + RECEIPT_SLOTS);
        let mut got: Vec<_> = due["r"].iter().map(|(u, s)| (u.as_str(), *s)).collect();
        got.sort();
        assert_eq!(got, [("bob", 5), ("cat", 1)]);
        assert!(reads.take_receipts(slot).is_empty(), "taken once");
    }

    #[test]
    fn rooms_spread_over_the_slots() {
        let mut used = [0; RECEIPT_SLOTS];
        for i in 0..1000 {
            used[slot_of(&format!("room-{i}"))] += 1;
        }
        assert!(used.iter().all(|&n| n > 50), "{used:?}");
    }
}
