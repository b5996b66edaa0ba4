//! A room's description and its deletion. A deletion is one transaction that locks the
//! room's row (`FOR UPDATE`, as appends and moderation events do, so nothing commits to the
//! room meanwhile), removes its messages, search entries, memberships, invitations, bans,
//! mutes, reactions and read positions, marks the row deleted and writes the audit row.
//! The row stays: the name stays taken and the audit log readable.

use chatcore::store::{AuditEntry, Role};
use chatcore::{Error, Result};

use crate::PostgresStore;
use crate::authority::{LOCK_ROOM, Param, exec};
use crate::codec;

/// The tables holding a room's rows (besides `rooms` and `room_audit`).
const ROOM_TABLES: &[&str] = &[
    "messages",
    "message_search",
    "search_progress",
    "memberships",
    "room_invites",
    "room_bans",
    "room_mutes",
    "reactions",
    "read_positions",
];

const MARK_DELETED: &str =
    "UPDATE rooms SET deleted = $2, topic = NULL, description = NULL WHERE id = $1";

const AUDIT: &str = "INSERT INTO room_audit \
     (room_id, seq, actor, action, user_name, reason, until, role, ts) \
     VALUES ($1, $2, $3, $4, NULL, NULL, NULL, $5, $6)";

impl PostgresStore {
    /// Sets or clears a room's description.
    pub(crate) async fn describe(&self, room: &str, description: Option<&str>) -> Result<()> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("UPDATE rooms SET description = $2 WHERE name = $1 AND deleted IS NULL")
            .await
            .map_err(Error::store)?;
        let changed = client
            .execute(&stmt, &[&room.as_bytes(), &description.map(str::as_bytes)])
            .await
            .map_err(Error::store)?;
        if changed == 0 {
            return Err(Error::UnknownRoom(room.to_owned()));
        }
        Ok(())
    }

    /// The deletion transaction (see the module docs); nothing is written on an error.
    pub(crate) async fn delete_now(&self, room: &str, actor: &str, ts: i64) -> Result<AuditEntry> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(Error::store)?;
        let row = tx
            .query_opt(LOCK_ROOM, &[&room.as_bytes()])
            .await
            .map_err(Error::store)?
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        let room_id: i64 = row.try_get(0).map_err(Error::store)?;
        let last: i64 = row.try_get(1).map_err(Error::store)?;
        let entry = AuditEntry::deletion(room, codec::unsigned(last, "rooms.last_seq")?, actor, ts);
        for table in ROOM_TABLES {
            exec(
                &tx,
                &format!("DELETE FROM {table} WHERE room_id = $1"),
                &[&room_id],
            )
            .await?;
        }
        exec(&tx, MARK_DELETED, &[&room_id, &ts]).await?;
        let seq = last + 1;
        let audit: [Param<'_>; 6] = [
            &room_id,
            &seq,
            &actor.as_bytes(),
            &entry.action.as_str(),
            &entry.role.map(Role::as_str),
            &ts,
        ];
        exec(&tx, AUDIT, &audit).await?;
        tx.commit().await.map_err(Error::store)?;
        Ok(entry)
    }
}
