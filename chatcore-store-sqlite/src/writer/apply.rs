//! What each write does inside the open transaction: appends one at a time (the careful
//! way, finding the original of a retried nonce), rooms, memberships, read positions, the
//! event stream's leases and cursors; and the writer's caches of room ids and newest seqs.

use chatcore::protocol::Message;
use chatcore::store::{NewMessage, NewRoom, Role};
use chatcore::{Error, Result};
use rusqlite::{OptionalExtension, params};

use super::{Fatal, Outcome, Write, Writer, is_unique_violation};
use crate::rows::{self, MESSAGE_COLUMNS, ROOM_COLUMNS, from_sql_u64, to_sql_u64};

impl Writer {
    /// One command inside the open transaction. A per-command error (`Ok(Err(_))`) must be
    /// detected before the command writes anything.
    pub(super) fn apply(&mut self, write: &Write) -> Result<Result<Outcome>, Fatal> {
        match write {
            Write::Append { msg, .. } => self.append(msg),
            Write::CreateRoom { room, .. } => self.create_room(room),
            Write::AddMember {
                room, user, role, ..
            } => {
                let Some(room_id) = self.room_id(room)? else {
                    return Ok(Err(Error::UnknownRoom(room.clone())));
                };
                self.insert_member(room_id, user, *role)?;
                Ok(Ok(Outcome::Done))
            }
            Write::Admit {
                room,
                user,
                invite_only,
                now,
                ..
            } => self.admit(room, user, *invite_only, *now),
            Write::RemoveMember { room, user, .. } => {
                if let Some(room_id) = self.room_id(room)? {
                    self.conn
                        .prepare_cached("DELETE FROM memberships WHERE room_id = ?1 AND user = ?2")?
                        .execute(params![room_id, user])?;
                }
                Ok(Ok(Outcome::Done))
            }
            Write::SetRead {
                room, user, seq, ..
            } => {
                if !self.raise_read(room, user, *seq)? {
                    return Ok(Err(Error::UnknownRoom(room.clone())));
                }
                Ok(Ok(Outcome::Done))
            }
            Write::SetReads { marks, .. } => {
                for m in marks {
                    self.raise_read(&m.room, &m.user, m.seq)?;
                }
                Ok(Ok(Outcome::Done))
            }
            Write::Lease {
                group, holder, ttl, ..
            } => crate::stream::acquire_lease(&self.conn, group, holder, *ttl)
                .map(|t| Ok(Outcome::Lease(t))),
            Write::CommitCursor {
                group,
                token,
                room,
                seq,
                ..
            } => {
                let room_id = self.room_id(room)?;
                Ok(
                    crate::stream::commit_cursor(&self.conn, group, *token, (room, room_id), *seq)?
                        .map(|()| Outcome::Done),
                )
            }
            Write::Moderate { msg, .. } => self.moderate(msg),
            Write::Describe {
                room, description, ..
            } => self.describe(room, description.as_deref()),
            Write::DeleteRoom {
                room, actor, ts, ..
            } => self.delete_room(room, actor, *ts),
            Write::Block {
                user, other, on, ..
            } => crate::authority::block(&self.conn, user, other, *on).map(Ok),
        }
    }

    /// Stores one message on its own (see [`Writer::insert`] for the usual way).
    ///
    /// Nonces are checked optimistically: the row is inserted, and only when the unique
    /// `(nonce, sender)` index refuses it is the original looked up (a failed statement
    /// leaves the rest of the transaction intact). Retries are rare, so fresh messages skip
    /// the lookup.
    pub(crate) fn append(&mut self, msg: &NewMessage) -> Result<Result<Outcome>, Fatal> {
        let Some(room_id) = self.room_id(&msg.room)? else {
            // Same order as MemoryStore: a known (sender, nonce) answers with the original
            // even if the room is wrong.
            return Ok(match self.original(msg)? {
                Some(original) => Ok(Outcome::Duplicate(original)),
                None => Err(Error::UnknownRoom(msg.room.clone())),
            });
        };
        if let Err(refused) = crate::changes::check(&self.conn, room_id, msg)? {
            return Ok(Err(refused));
        }
        let seq = self.last_seq(room_id)? + 1;
        self.remember_nonce(msg);
        let inserted = self.conn.prepare_cached(INSERT_ONE)?.execute(params![
            room_id,
            to_sql_u64(seq),
            msg.id,
            msg.sender,
            msg.kind.as_str(),
            msg.ts,
            msg.nonce,
            msg.reply_to.map(to_sql_u64),
            msg.text,
            rows::data_to_sql(msg.data.as_ref()),
            msg.target.map(to_sql_u64),
            rows::moderation_to_sql(msg.moderation.as_ref()),
            rows::mentions_to_sql(&msg.mentions),
        ]);
        match inserted {
            Ok(_) => {}
            Err(e) if msg.nonce.is_some() && is_unique_violation(&e) => {
                return match self.original(msg)? {
                    Some(original) => Ok(Ok(Outcome::Duplicate(original))),
                    // Not the nonce index after all: a real failure.
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        }
        crate::changes::apply(&self.conn, room_id, &msg.clone().into_message(seq))?;
        // Only now, with the row written: a failure above leaves the cache untouched (and a
        // failed commit clears it).
        self.last_seq.insert(room_id, seq);
        self.last_pos = Some(self.conn.last_insert_rowid());
        self.stored += 1;
        Ok(Ok(Outcome::Stored(seq)))
    }

    /// The stored message with `msg`'s (sender, nonce), if it has a nonce and one is stored.
    fn original(&mut self, msg: &NewMessage) -> Result<Option<Message>, Fatal> {
        let Some(nonce) = &msg.nonce else {
            return Ok(None);
        };
        self.conn
            .prepare_cached(&format!(
                "SELECT r.name, {MESSAGE_COLUMNS} FROM messages m \
                 JOIN rooms r ON r.id = m.room_id \
                 WHERE m.sender = ?1 AND m.nonce = ?2"
            ))?
            .query_row(params![msg.sender, nonce], |row| {
                rows::message(row, 1, row.get(0)?)
            })
            .optional()
    }

    fn create_room(&mut self, room: &NewRoom) -> Result<Result<Outcome>, Fatal> {
        self.conn
            .prepare_cached(
                "INSERT INTO rooms (name, kind, topic, creator, created) \
                 VALUES (?1, ?2, NULL, ?3, ?4) ON CONFLICT (name) DO NOTHING",
            )?
            .execute(params![
                room.name,
                room.kind.as_str(),
                room.creator,
                room.created
            ])?;
        let record = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.name = ?1 AND r.deleted IS NULL"
            ))?
            .query_row([&room.name], rows::room)
            .optional()?;
        // No row: the name belongs to a deleted room, never created again.
        Ok(record
            .map(Outcome::Room)
            .ok_or_else(|| Error::UnknownRoom(room.name.clone())))
    }

    /// The room's id: from the cache, else from the database (an uncommitted room of this
    /// batch included).
    pub(crate) fn room_id(&mut self, name: &str) -> Result<Option<i64>, Fatal> {
        if let Some(id) = self.room_ids.get(name) {
            return Ok(Some(*id));
        }
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM rooms WHERE name = ?1 AND deleted IS NULL")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        if let Some(id) = id {
            self.room_ids.insert(name.to_owned(), id);
        }
        Ok(id)
    }

    /// Makes `user` a member of room `room_id` with `role`, joined now; an existing member
    /// keeps their role.
    pub(crate) fn insert_member(&self, room_id: i64, user: &str, role: Role) -> Result<(), Fatal> {
        self.conn
            .prepare_cached(
                "INSERT INTO memberships (room_id, user, role, joined) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                room_id,
                user,
                role.as_str(),
                chatcore::now_millis()
            ])?;
        Ok(())
    }

    /// Raises `user`'s read position in `room` to `seq` (never lowers it); `false` when the
    /// room does not exist.
    fn raise_read(&mut self, room: &str, user: &str, seq: u64) -> Result<bool, Fatal> {
        let Some(room_id) = self.room_id(room)? else {
            return Ok(false);
        };
        // One statement: the update happens only when the new seq is higher as a u64 (seqs
        // are stored bit for bit, so those past i64::MAX are negative in SQL: same signs
        // compare as they are, and a negative one is the higher).
        self.conn
            .prepare_cached(
                "INSERT INTO read_positions (room_id, user, seq) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (room_id, user) DO UPDATE SET seq = excluded.seq \
                 WHERE ((excluded.seq >= 0) = (read_positions.seq >= 0) \
                        AND excluded.seq > read_positions.seq) \
                    OR (read_positions.seq >= 0 AND excluded.seq < 0)",
            )?
            .execute(params![room_id, user, to_sql_u64(seq)])?;
        Ok(true)
    }

    /// Forgets a deleted room's cached id and newest seq.
    pub(crate) fn forget_room(&mut self, name: &str, room_id: i64) {
        self.room_ids.remove(name);
        self.last_seq.remove(&room_id);
    }

    pub(crate) fn last_seq(&mut self, room_id: i64) -> Result<u64, Fatal> {
        if let Some(seq) = self.last_seq.get(&room_id) {
            return Ok(*seq);
        }
        let seq: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = ?1")?
            .query_row([room_id], |r| r.get(0))?;
        // Messages in the message log are newer than any in the database.
        let logged = self.log.as_ref().map_or(0, |log| log.last_seq(room_id));
        let seq = from_sql_u64(seq).max(logged);
        self.last_seq.insert(room_id, seq);
        Ok(seq)
    }
}

/// The insert of [`Writer::append`]: a failure undoes only this statement.
const INSERT_ONE: &str = "INSERT INTO messages \
     (room_id, seq, id, sender, kind, ts, nonce, reply_to, body, data, target, moderation, \
      mentions) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
