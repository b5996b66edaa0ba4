//! [`RoomAuthority`] for [`SqliteStore`]: a moderation event is one [`Write::Moderate`] on
//! the writer thread, so its state change, its audit row and the event itself (with the
//! room's next seq, assigned like an append's) commit in the same transaction as the rest
//! of its batch; reads run on the reader threads.

use chatcore::protocol::MessageKind;
use chatcore::store::{
    Action, Admission, Appended, AuditEntry, MAX_PAGE, NewMessage, Pending, Restriction, Role,
    RoomAuthority,
};
use chatcore::{Error, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::oneshot;

use crate::SqliteStore;
use crate::rows::{from_sql_u64, to_sql_u64};
use crate::writer::{Command, Outcome, Write, Writer};

/// A failure that aborts the transaction.
type Fatal = rusqlite::Error;

impl Writer {
    /// Checks the event (refusing before any write), stores it like an append, then applies
    /// its change and writes its audit row, all inside the open transaction.
    pub(crate) fn moderate(&mut self, msg: &NewMessage) -> Result<Result<Outcome>, Fatal> {
        let action = match Action::of(msg) {
            Ok(action) => action,
            Err(e) => return Ok(Err(e)),
        };
        let Some(room_id) = self.room_id(&msg.room)? else {
            return Ok(Err(Error::UnknownRoom(msg.room.clone())));
        };
        if let Action::SetRole(user, _) = action {
            let member: Option<i64> = self
                .conn
                .prepare_cached("SELECT 1 FROM memberships WHERE room_id = ?1 AND user = ?2")?
                .query_row(params![room_id, user], |r| r.get(0))
                .optional()?;
            if member.is_none() {
                return Ok(Err(Error::NotMember(format!(
                    "{user} is no member of {}",
                    msg.room
                ))));
            }
        }
        let seq = match self.append(msg)? {
            Ok(Outcome::Stored(seq)) => seq,
            // No nonce (checked above), so nothing else can come back.
            Ok(_) => return Ok(Err(Error::store("a moderation event was a duplicate"))),
            Err(e) => return Ok(Err(e)),
        };
        apply(&self.conn, room_id, action, msg)?;
        let audit = AuditEntry::of(&msg.clone().into_message(seq));
        self.conn
            .prepare_cached(
                "INSERT INTO room_audit (room_id, seq, actor, action, user, reason, until, role, ts) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                room_id,
                to_sql_u64(seq),
                audit.actor,
                audit.action.as_str(),
                audit.user,
                audit.reason,
                audit.until,
                audit.role.map(Role::as_str),
                audit.ts,
            ])?;
        Ok(Ok(Outcome::Stored(seq)))
    }
}

/// The state change of one action.
fn apply(
    conn: &Connection,
    room_id: i64,
    action: Action<'_>,
    msg: &NewMessage,
) -> Result<(), Fatal> {
    let exec = |sql: &str, user: &str| {
        conn.prepare_cached(sql)?
            .execute(params![room_id, user])
            .map(drop)
    };
    let restrict = |table: &str, r: Option<Restriction>| -> Result<(), Fatal> {
        let Some(r) = r else { return Ok(()) };
        conn.prepare_cached(&format!(
            "INSERT INTO {table} (room_id, user, by_user, reason, until, since) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (room_id, user) DO UPDATE SET \
             by_user = excluded.by_user, reason = excluded.reason, until = excluded.until, \
             since = excluded.since"
        ))?
        .execute(params![room_id, r.user, r.by, r.reason, r.until, r.since])
        .map(drop)
    };
    match action {
        Action::Invite(user) => exec(
            "INSERT INTO room_invites (room_id, user) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            user,
        ),
        Action::Kick(user) | Action::Ban(user) => {
            exec(
                "DELETE FROM memberships WHERE room_id = ?1 AND user = ?2",
                user,
            )?;
            exec(
                "DELETE FROM room_invites WHERE room_id = ?1 AND user = ?2",
                user,
            )?;
            restrict("room_bans", action.restriction(msg))
        }
        Action::Unban(user) => exec(
            "DELETE FROM room_bans WHERE room_id = ?1 AND user = ?2",
            user,
        ),
        Action::Mute(_) => restrict("room_mutes", action.restriction(msg)),
        Action::Unmute(user) => exec(
            "DELETE FROM room_mutes WHERE room_id = ?1 AND user = ?2",
            user,
        ),
        Action::SetRole(user, role) => {
            if role == Role::Owner {
                conn.prepare_cached(
                    "UPDATE memberships SET role = 'admin' WHERE room_id = ?1 AND role = 'owner'",
                )?
                .execute([room_id])?;
            }
            conn.prepare_cached(
                "UPDATE memberships SET role = ?3 WHERE room_id = ?1 AND user = ?2",
            )?
            .execute(params![room_id, user, role.as_str()])
            .map(drop)
        }
        Action::Topic(topic) => conn
            .prepare_cached("UPDATE rooms SET topic = ?2 WHERE id = ?1")?
            .execute(params![room_id, (!topic.is_empty()).then_some(topic)])
            .map(drop),
    }
}

/// Records or lifts a block (on the writer thread).
pub(crate) fn block(
    conn: &Connection,
    user: &str,
    other: &str,
    on: bool,
) -> Result<Outcome, Fatal> {
    let sql = if on {
        "INSERT INTO user_blocks (user, blocked) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM user_blocks WHERE user = ?1 AND blocked = ?2"
    };
    conn.prepare_cached(sql)?.execute(params![user, other])?;
    Ok(Outcome::Done)
}

fn restriction(
    conn: &Connection,
    table: &str,
    room: &str,
    user: &str,
) -> Result<Option<Restriction>> {
    conn.prepare_cached(&format!(
        "SELECT user, by_user, reason, until, since FROM {table} \
         WHERE room_id = (SELECT id FROM rooms WHERE name = ?1) AND user = ?2"
    ))
    .and_then(|mut s| s.query_row(params![room, user], restriction_row).optional())
    .map_err(Error::store)
}

/// Reads `user, by_user, reason, until, since`.
pub(crate) fn restriction_row(r: &Row<'_>) -> rusqlite::Result<Restriction> {
    Ok(Restriction {
        user: r.get(0)?,
        by: r.get(1)?,
        reason: r.get(2)?,
        until: r.get(3)?,
        since: r.get(4)?,
    })
}

fn audit_row(row: &Row<'_>, room: &str) -> rusqlite::Result<AuditEntry> {
    let role: Option<String> = row.get(5)?;
    Ok(AuditEntry {
        room: room.to_owned(),
        seq: from_sql_u64(row.get(0)?),
        actor: row.get(1)?,
        action: MessageKind::from_name(row.get_ref(2)?.as_str()?),
        user: row.get(3)?,
        reason: row.get(4)?,
        role: role.as_deref().map(Role::from_name),
        until: row.get(6)?,
        ts: row.get(7)?,
    })
}

#[async_trait::async_trait]
impl RoomAuthority for SqliteStore {
    fn moderate(&self, msg: NewMessage) -> Pending<Appended> {
        // Queued before returning, like `append`: ordered with the appends around it.
        let (tx, rx) = oneshot::channel();
        let sent = self.send(Command::Write(Write::Moderate { msg, reply: tx }));
        Box::pin(async move {
            sent?;
            rx.await.map_err(|_| Error::Closed)?
        })
    }

    async fn admit(
        &self,
        room: &str,
        user: &str,
        invite_only: bool,
        now: i64,
    ) -> Result<Admission> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(|reply| Write::Admit {
            room,
            user,
            invite_only,
            now,
            reply,
        })
        .await
    }

    async fn ban(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.read(move |c| restriction(c, "room_bans", &room, &user))
            .await
    }

    async fn mute(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.read(move |c| restriction(c, "room_mutes", &room, &user))
            .await
    }

    async fn invited(&self, room: &str, user: &str) -> Result<bool> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.read(move |c| {
            c.prepare_cached(
                "SELECT 1 FROM room_invites \
                     WHERE room_id = (SELECT id FROM rooms WHERE name = ?1) AND user = ?2",
            )
            .and_then(|mut s| s.exists(params![room, user]))
            .map_err(Error::store)
        })
        .await
    }

    async fn audit(&self, room: &str, before: Option<u64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let room = room.to_owned();
        let limit = i64::from(limit.min(MAX_PAGE));
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        self.read(move |c| {
            c.prepare_cached(
                "SELECT seq, actor, action, user, reason, role, until, ts FROM room_audit \
                     WHERE room_id = (SELECT id FROM rooms WHERE name = ?1) AND seq < ?3 \
                     ORDER BY seq DESC LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![room, limit, before], |r| audit_row(r, &room))?
                    .collect()
            })
            .map_err(Error::store)
        })
        .await
    }

    async fn mutes(&self, room: &str) -> Result<Vec<Restriction>> {
        let room = room.to_owned();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT user, by_user, reason, until, since FROM room_mutes \
                     WHERE room_id = (SELECT id FROM rooms WHERE name = ?1)",
            )
            .and_then(|mut s| s.query_map([room], restriction_row)?.collect())
            .map_err(Error::store)
        })
        .await
    }

    async fn set_description(&self, room: &str, description: Option<&str>) -> Result<()> {
        let (room, description) = (room.to_owned(), description.map(str::to_owned));
        self.write(|reply| Write::Describe {
            room,
            description,
            reply,
        })
        .await
    }

    async fn delete_room(&self, room: &str, actor: &str, ts: i64) -> Result<AuditEntry> {
        let (room, actor) = (room.to_owned(), actor.to_owned());
        self.write(|reply| Write::DeleteRoom {
            room,
            actor,
            ts,
            reply,
        })
        .await
    }

    async fn set_block(&self, user: &str, other: &str, on: bool) -> Result<()> {
        let (user, other) = (user.to_owned(), other.to_owned());
        self.write(|reply| Write::Block {
            user,
            other,
            on,
            reply,
        })
        .await
    }

    async fn blocks(&self, user: &str, other: &str) -> Result<bool> {
        let (user, other) = (user.to_owned(), other.to_owned());
        self.read(move |c| {
            c.prepare_cached("SELECT 1 FROM user_blocks WHERE user = ?1 AND blocked = ?2")
                .and_then(|mut s| s.exists(params![user, other]))
                .map_err(Error::store)
        })
        .await
    }
}
