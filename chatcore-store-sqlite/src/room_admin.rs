//! A room's description and its deletion, on the writer thread: each is one write of the
//! batch, so a deletion's removals and its audit row commit together or not at all.
//!
//! A deleted room keeps its `rooms` row (with `deleted` set): its name stays taken and its
//! audit log readable. Its messages go, and with them its entries in the search index
//! file, which search reaches only through the messages table (by `pos`): an index entry
//! whose message is gone is never returned, and the index drops it when it is rebuilt.

use chatcore::store::{AuditEntry, Role};
use chatcore::{Error, Result};
use rusqlite::params;

use crate::rows::to_sql_u64;
use crate::writer::{Outcome, Writer};

/// A failure that aborts the transaction.
type Fatal = rusqlite::Error;

/// The tables holding a room's rows (besides `rooms` and `room_audit`).
const ROOM_TABLES: &[&str] = &[
    "messages",
    "memberships",
    "room_invites",
    "room_bans",
    "room_mutes",
    "reactions",
    "read_positions",
];

impl Writer {
    /// Sets or clears a room's description.
    pub(crate) fn describe(
        &mut self,
        room: &str,
        description: Option<&str>,
    ) -> Result<Result<Outcome>, Fatal> {
        let Some(room_id) = self.room_id(room)? else {
            return Ok(Err(Error::UnknownRoom(room.to_owned())));
        };
        self.conn
            .prepare_cached("UPDATE rooms SET description = ?2 WHERE id = ?1")?
            .execute(params![room_id, description])?;
        Ok(Ok(Outcome::Done))
    }

    /// Removes everything of the room but its row and audit log, marks it deleted and
    /// writes the deletion's audit row.
    pub(crate) fn delete_room(
        &mut self,
        room: &str,
        actor: &str,
        ts: i64,
    ) -> Result<Result<Outcome>, Fatal> {
        let Some(room_id) = self.room_id(room)? else {
            return Ok(Err(Error::UnknownRoom(room.to_owned())));
        };
        let entry = AuditEntry::deletion(room, self.last_seq(room_id)?, actor, ts);
        for table in ROOM_TABLES {
            self.conn
                .prepare_cached(&format!("DELETE FROM {table} WHERE room_id = ?1"))?
                .execute([room_id])?;
        }
        self.conn
            .prepare_cached(
                "UPDATE rooms SET deleted = ?2, topic = NULL, description = NULL WHERE id = ?1",
            )?
            .execute(params![room_id, ts])?;
        self.conn
            .prepare_cached(
                "INSERT INTO room_audit (room_id, seq, actor, action, user, reason, until, role, ts) \
                 VALUES (?1, ?2, ?3, ?4, NULL, NULL, NULL, ?5, ?6)",
            )?
            .execute(params![
                room_id,
                to_sql_u64(entry.seq),
                entry.actor,
                entry.action.as_str(),
                entry.role.map(Role::as_str),
                entry.ts,
            ])?;
        self.forget_room(room, room_id);
        Ok(Ok(Outcome::Deleted(entry)))
    }
}
