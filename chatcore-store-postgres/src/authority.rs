//! [`RoomAuthority`] for [`PostgresStore`]: a moderation event is one transaction that
//! locks the room's row (`FOR UPDATE`, as the append pipelines do), takes its next seq from
//! `rooms.last_seq`, stores the event, applies its change and writes its audit row. Writers
//! on every node serialize on that row lock, so seqs stay gapless and in commit order. The
//! search indexer picks the event up from `last_seq` like any message.

use chatcore::protocol::MessageKind;
use chatcore::store::{
    Action, Admission, Appended, AuditEntry, MAX_PAGE, NewMessage, Pending, Restriction, Role,
    RoomAuthority,
};
use chatcore::{Error, Result};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::PostgresStore;
use crate::codec::{self, Lexemes};

/// Locks a (not deleted) room's row; shared with `room_admin.rs`.
pub(crate) const LOCK_ROOM: &str =
    "SELECT id, last_seq FROM rooms WHERE name = $1 AND deleted IS NULL FOR UPDATE";

const IS_MEMBER: &str = "SELECT 1 FROM memberships WHERE room_id = $1 AND user_name = $2";

const INSERT_EVENT: &str = "INSERT INTO messages \
     (room_id, seq, id, sender, kind, body, body_exact, ts, nonce, reply_to, search, data, \
      target, moderation, mentions) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9, NULL, NULL, $10, $11)";

const BUMP: &str = "UPDATE rooms SET last_seq = $2 WHERE id = $1";

const AUDIT: &str = "INSERT INTO room_audit \
     (room_id, seq, actor, action, user_name, reason, until, role, ts) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const AUDIT_PAGE: &str = "SELECT a.seq, a.actor, a.action, a.user_name, a.reason, a.role, \
     a.until, a.ts FROM room_audit a JOIN rooms r ON r.id = a.room_id \
     WHERE r.name = $1 AND a.seq < $3 ORDER BY a.seq DESC LIMIT $2";

pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

impl PostgresStore {
    /// The moderation transaction (see the module docs); nothing is written on an error.
    async fn moderate_now(&self, msg: NewMessage) -> Result<Appended> {
        let action = Action::of(&msg)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(Error::store)?;
        let room = tx
            .query_opt(LOCK_ROOM, &[&msg.room.as_bytes()])
            .await
            .map_err(Error::store)?
            .ok_or_else(|| Error::UnknownRoom(msg.room.clone()))?;
        let room_id: i64 = room.try_get(0).map_err(Error::store)?;
        let last: i64 = room.try_get(1).map_err(Error::store)?;
        if let Action::SetRole(user, _) = action {
            let member = tx
                .query_opt(IS_MEMBER, &[&room_id, &user.as_bytes()])
                .await
                .map_err(Error::store)?;
            if member.is_none() {
                return Err(Error::NotMember(format!(
                    "{user} is no member of {}",
                    msg.room
                )));
            }
        }
        let seq = last + 1;
        let (body, body_exact) = codec::body(&msg.text);
        let search = Lexemes(codec::index_words(&msg.text));
        let moderation = codec::moderation_text(msg.moderation.as_ref());
        let mentions = codec::mentions_text(&msg.mentions);
        let event: [Param<'_>; 11] = [
            &room_id,
            &seq,
            &msg.id.as_bytes(),
            &msg.sender.as_bytes(),
            &msg.kind.as_str(),
            &body,
            &body_exact,
            &msg.ts,
            &search,
            &moderation,
            &mentions,
        ];
        exec(&tx, INSERT_EVENT, &event).await?;
        exec(&tx, BUMP, &[&room_id, &seq]).await?;
        apply(&tx, room_id, action, &msg).await?;
        let stored = msg.into_message(codec::unsigned(seq, "rooms.last_seq")?);
        let a = AuditEntry::of(&stored);
        let audit: [Param<'_>; 9] = [
            &room_id,
            &seq,
            &a.actor.as_bytes(),
            &a.action.as_str(),
            &a.user.as_deref().map(str::as_bytes),
            &a.reason.as_deref().map(str::as_bytes),
            &a.until,
            &a.role.map(Role::as_str),
            &a.ts,
        ];
        exec(&tx, AUDIT, &audit).await?;
        tx.commit().await.map_err(Error::store)?;
        Ok(Appended {
            message: stored,
            duplicate: false,
        })
    }
}

pub(crate) async fn exec(tx: &Transaction<'_>, sql: &str, params: &[Param<'_>]) -> Result<u64> {
    let stmt = tx.prepare_cached(sql).await.map_err(Error::store)?;
    tx.execute(&stmt, params).await.map_err(Error::store)
}

/// The state change of one action, inside the moderation transaction.
async fn apply(
    tx: &Transaction<'_>,
    room_id: i64,
    action: Action<'_>,
    msg: &NewMessage,
) -> Result<()> {
    let on = |sql: &'static str, user: &str| {
        let user = user.as_bytes().to_vec();
        async move { exec(tx, sql, &[&room_id, &user]).await.map(drop) }
    };
    let restrict = |table: &'static str, r: Option<Restriction>| async move {
        let Some(r) = r else { return Ok(()) };
        let sql = format!(
            "INSERT INTO {table} (room_id, user_name, by_user, reason, until, since) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (room_id, user_name) DO UPDATE SET \
             by_user = excluded.by_user, reason = excluded.reason, until = excluded.until, \
             since = excluded.since"
        );
        let params: [Param<'_>; 6] = [
            &room_id,
            &r.user.as_bytes(),
            &r.by.as_bytes(),
            &r.reason.as_deref().map(str::as_bytes),
            &r.until,
            &r.since,
        ];
        exec(tx, &sql, &params).await.map(drop)
    };
    match action {
        Action::Invite(user) => {
            on(
                "INSERT INTO room_invites (room_id, user_name) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                user,
            )
            .await
        }
        Action::Kick(user) | Action::Ban(user) => {
            on(
                "DELETE FROM memberships WHERE room_id = $1 AND user_name = $2",
                user,
            )
            .await?;
            on(
                "DELETE FROM room_invites WHERE room_id = $1 AND user_name = $2",
                user,
            )
            .await?;
            restrict("room_bans", action.restriction(msg)).await
        }
        Action::Unban(user) => {
            on(
                "DELETE FROM room_bans WHERE room_id = $1 AND user_name = $2",
                user,
            )
            .await
        }
        Action::Mute(_) => restrict("room_mutes", action.restriction(msg)).await,
        Action::Unmute(user) => {
            on(
                "DELETE FROM room_mutes WHERE room_id = $1 AND user_name = $2",
                user,
            )
            .await
        }
        Action::SetRole(user, role) => {
            if role == Role::Owner {
                exec(
                    tx,
                    "UPDATE memberships SET role = 'admin' WHERE room_id = $1 AND role = 'owner'",
                    &[&room_id],
                )
                .await?;
            }
            exec(
                tx,
                "UPDATE memberships SET role = $3 WHERE room_id = $1 AND user_name = $2",
                &[&room_id, &user.as_bytes(), &role.as_str()],
            )
            .await
            .map(drop)
        }
        Action::Topic(topic) => {
            let topic = (!topic.is_empty()).then_some(topic.as_bytes());
            exec(
                tx,
                "UPDATE rooms SET topic = $2 WHERE id = $1",
                &[&room_id, &topic],
            )
            .await
            .map(drop)
        }
    }
}

pub(crate) fn restriction(row: &Row) -> Result<Restriction> {
    Ok(Restriction {
        user: codec::string(row, 0, "user_name")?,
        by: codec::string(row, 1, "by_user")?,
        reason: codec::opt_string(row, 2, "reason")?,
        until: row.try_get(3).map_err(Error::store)?,
        since: row.try_get(4).map_err(Error::store)?,
    })
}

fn audit_row(row: &Row, room: &str) -> Result<AuditEntry> {
    let action: &str = row.try_get(2).map_err(Error::store)?;
    let role: Option<&str> = row.try_get(5).map_err(Error::store)?;
    Ok(AuditEntry {
        room: room.to_owned(),
        seq: codec::unsigned(row.try_get(0).map_err(Error::store)?, "room_audit.seq")?,
        actor: codec::string(row, 1, "actor")?,
        action: MessageKind::from_name(action),
        user: codec::opt_string(row, 3, "user_name")?,
        reason: codec::opt_string(row, 4, "reason")?,
        role: role.map(Role::from_name),
        until: row.try_get(6).map_err(Error::store)?,
        ts: row.try_get(7).map_err(Error::store)?,
    })
}

#[async_trait::async_trait]
impl RoomAuthority for PostgresStore {
    fn moderate(&self, msg: NewMessage) -> Pending<Appended> {
        let store = self.clone();
        Box::pin(async move { store.moderate_now(msg).await })
    }

    async fn admit(
        &self,
        room: &str,
        user: &str,
        invite_only: bool,
        now: i64,
    ) -> Result<Admission> {
        self.admit_now(room, user, invite_only, now).await
    }

    async fn ban(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        self.restriction("room_bans", room, user).await
    }

    async fn mute(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        self.restriction("room_mutes", room, user).await
    }

    async fn invited(&self, room: &str, user: &str) -> Result<bool> {
        let row = self
            .query_opt(
                "SELECT 1 FROM room_invites i JOIN rooms r ON r.id = i.room_id \
                 WHERE r.name = $1 AND i.user_name = $2",
                &[&room.as_bytes(), &user.as_bytes()],
            )
            .await?;
        Ok(row.is_some())
    }

    async fn audit(&self, room: &str, before: Option<u64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let limit = i64::from(limit.min(MAX_PAGE));
        let before = before.map_or(i64::MAX, codec::signed);
        self.query(AUDIT_PAGE, &[&room.as_bytes(), &limit, &before])
            .await?
            .iter()
            .map(|row| audit_row(row, room))
            .collect()
    }

    async fn mutes(&self, room: &str) -> Result<Vec<Restriction>> {
        self.query(
            "SELECT t.user_name, t.by_user, t.reason, t.until, t.since FROM room_mutes t \
             JOIN rooms r ON r.id = t.room_id WHERE r.name = $1",
            &[&room.as_bytes()],
        )
        .await?
        .iter()
        .map(restriction)
        .collect()
    }

    async fn set_description(&self, room: &str, description: Option<&str>) -> Result<()> {
        self.describe(room, description).await
    }

    async fn delete_room(&self, room: &str, actor: &str, ts: i64) -> Result<AuditEntry> {
        self.delete_now(room, actor, ts).await
    }

    async fn set_block(&self, user: &str, other: &str, on: bool) -> Result<()> {
        let sql = if on {
            "INSERT INTO user_blocks (user_name, blocked) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM user_blocks WHERE user_name = $1 AND blocked = $2"
        };
        self.query(sql, &[&user.as_bytes(), &other.as_bytes()])
            .await
            .map(drop)
    }

    async fn blocks(&self, user: &str, other: &str) -> Result<bool> {
        let row = self
            .query_opt(
                "SELECT 1 FROM user_blocks WHERE user_name = $1 AND blocked = $2",
                &[&user.as_bytes(), &other.as_bytes()],
            )
            .await?;
        Ok(row.is_some())
    }
}

impl PostgresStore {
    async fn restriction(
        &self,
        table: &'static str,
        room: &str,
        user: &str,
    ) -> Result<Option<Restriction>> {
        let sql = format!(
            "SELECT t.user_name, t.by_user, t.reason, t.until, t.since FROM {table} t \
             JOIN rooms r ON r.id = t.room_id WHERE r.name = $1 AND t.user_name = $2"
        );
        self.query_opt(&sql, &[&room.as_bytes(), &user.as_bytes()])
            .await?
            .map(|row| restriction(&row))
            .transpose()
    }
}
