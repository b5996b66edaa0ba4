//! [`MemoryStore`]: everything in process memory. For tests, benchmarks and throwaway servers.
//!
//! This file holds the data (`Inner`, `RoomData`) and the append path shared with the moderation
//! events; `store_impl` implements the `Store` trait on it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::lease::LeaseRecord;
use super::memory_state::RoomState;
use super::types::{Appended, Member, NewMessage, Role, RoomRecord};
use crate::protocol::Message;
use crate::{Error, Result};

mod store_impl;

/// A [`Store`] in process memory: "commits" are immediate and nothing survives the process.
/// Memory grows with every message; use it for tests and demos, not for production.
///
/// Clones share the same data.
///
/// [`Store`]: super::Store
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    // A std mutex: no `.await` ever happens while it is held, and every critical section is a
    // few map operations.
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
pub(super) struct Inner {
    pub(super) rooms: HashMap<String, RoomData>,
    /// (sender, nonce) → (room, seq) of the original message.
    nonces: HashMap<(String, String), (String, u64)>,
    /// Event-stream consumer groups: group → lease.
    leases: HashMap<String, LeaseRecord>,
    /// Event-stream cursors: group → room → last processed seq.
    cursors: HashMap<String, BTreeMap<String, u64>>,
    /// Bans, mutes, invitations, audit rows and blocks.
    pub(super) authority: super::memory_tables::AuthorityData,
    pub(super) closed: bool,
}

#[derive(Debug)]
pub(super) struct RoomData {
    pub(super) record: RoomRecord,
    /// `messages[i]` has seq `i + 1`.
    pub(super) messages: Vec<Message>,
    pub(super) members: BTreeMap<String, Member>,
    reads: HashMap<String, u64>,
    /// Edits, tombstones, reactions and threads.
    state: RoomState,
}

impl RoomData {
    /// Makes `user` a member with `role`, joined now; an existing member keeps their role.
    pub(super) fn add_member(&mut self, user: &str, role: Role) {
        self.members
            .entry(user.to_owned())
            .or_insert_with(|| Member {
                user: user.to_owned(),
                role,
                joined: crate::clock::now_millis(),
            });
        self.record.members = self.members.len() as u64;
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked mid-operation; every operation
        // leaves the maps consistent before it can panic, so keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn append_now(&self, msg: NewMessage) -> Result<Appended> {
        append_locked(&mut self.lock(), msg)
    }
}

impl Inner {
    /// Forgets the nonces of a deleted room's messages.
    pub(super) fn forget_nonces_of(&mut self, room: &str) {
        self.nonces.retain(|_, (r, _)| r != room);
    }
}

/// Appends under the lock (shared with the moderation events of `memory_authority`).
pub(super) fn append_locked(inner: &mut Inner, msg: NewMessage) -> Result<Appended> {
    if inner.closed {
        return Err(Error::Closed);
    }
    if let Some(nonce) = &msg.nonce {
        let key = (msg.sender.clone(), nonce.clone());
        if let Some((room, seq)) = inner.nonces.get(&key) {
            let original = inner
                .rooms
                .get(room)
                .and_then(|r| r.messages.get((*seq - 1) as usize))
                .cloned()
                .ok_or_else(|| Error::store("nonce index points at a missing message"))?;
            return Ok(Appended {
                message: original,
                duplicate: true,
            });
        }
    }
    let room = inner
        .rooms
        .get_mut(&msg.room)
        .ok_or_else(|| Error::UnknownRoom(msg.room.clone()))?;
    room.state.check(&room.messages, &msg)?;
    let seq = room.messages.len() as u64 + 1;
    let message = msg.into_message(seq);
    room.messages.push(message.clone());
    room.state.apply(&mut room.messages, &message);
    room.record.last_seq = seq;
    if let Some(nonce) = &message.nonce {
        inner.nonces.insert(
            (message.sender.clone(), nonce.clone()),
            (message.room.clone(), seq),
        );
    }
    Ok(Appended {
        message,
        duplicate: false,
    })
}
