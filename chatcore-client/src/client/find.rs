//! Read positions, search, and name lookups.

use chatcore::protocol::{Command, Event, LookupKind, RoomSummary};

use super::Client;
use super::replies::unexpected;
use crate::error::Result;
use crate::types::SearchPage;

impl Client {
    /// Moves this user's read position in a room forwards to `seq` (never backwards; past
    /// the newest message it is clamped). Returns the position now stored; the user's other
    /// sessions see a [`ClientEvent::Read`](crate::ClientEvent::Read).
    pub async fn read(&self, room: impl Into<String>, seq: u64) -> Result<u64> {
        let command = Command::Read {
            room: room.into(),
            seq,
        };
        match self.call(command, None).await? {
            Event::Read { seq, .. } => Ok(seq),
            other => Err(unexpected(&other)),
        }
    }

    /// [`read`](Self::read) without waiting for an answer, and without asking for one: the
    /// server moves the position (the user's other sessions see a
    /// [`ClientEvent::Read`](crate::ClientEvent::Read)) and answers only a failure, which
    /// this client logs (`tracing`, warn). For a client that clears its own badge, as a
    /// [`typing`](Self::typing) is sent: nothing is sent while disconnected.
    pub fn mark_read(&self, room: impl Into<String>, seq: u64) -> Result<()> {
        self.shared().lock().fire(Command::Read {
            room: room.into(),
            seq,
        })
    }

    /// One page of full-text search over the messages this user may read, newest first
    /// (every word of `q` must match). `before` is the previous page's
    /// [`next`](SearchPage::next); `limit` defaults to 20.
    pub async fn search(
        &self,
        q: impl Into<String>,
        room: Option<String>,
        before: Option<String>,
        limit: Option<u32>,
    ) -> Result<SearchPage> {
        let command = Command::Search {
            q: q.into(),
            room,
            before,
            limit,
        };
        match self.call(command, None).await? {
            Event::SearchResults { hits, next, .. } => Ok(SearchPage { hits, next }),
            other => Err(unexpected(&other)),
        }
    }

    /// Users (members of rooms this user may see) whose name starts with `prefix`, sorted.
    pub async fn lookup_users(&self, prefix: impl Into<String>) -> Result<Vec<String>> {
        let command = Command::Lookup {
            what: LookupKind::Users,
            prefix: prefix.into(),
        };
        match self.call(command, None).await? {
            Event::Users { users, .. } => Ok(users),
            other => Err(unexpected(&other)),
        }
    }

    /// Rooms this user may see whose name starts with `prefix`.
    pub async fn lookup_rooms(&self, prefix: impl Into<String>) -> Result<Vec<RoomSummary>> {
        let command = Command::Lookup {
            what: LookupKind::Rooms,
            prefix: prefix.into(),
        };
        match self.call(command, None).await? {
            Event::Rooms { rooms, .. } => Ok(rooms),
            other => Err(unexpected(&other)),
        }
    }
}
