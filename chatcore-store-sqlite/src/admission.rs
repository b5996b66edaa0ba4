//! [`RoomAuthority::admit`](chatcore::store::RoomAuthority::admit) for [`SqliteStore`](crate::SqliteStore):
//! a join's checks (an active ban, an invitation to an invite-only room) and its membership
//! are one [`Write::Admit`](crate::writer::Write) on the writer thread. Bans are written
//! there too, so a ban and a join are never interleaved: whichever commits second sees the
//! first.

use chatcore::store::{Admission, Restriction, Role};
use chatcore::{Error, Result};
use rusqlite::{OptionalExtension, params};

use crate::authority::restriction_row;
use crate::writer::{Outcome, Writer};

/// A failure that aborts the transaction.
type Fatal = rusqlite::Error;

impl Writer {
    /// Admits `user` to `room` inside the open transaction, or says why not (writing
    /// nothing).
    pub(crate) fn admit(
        &mut self,
        room: &str,
        user: &str,
        invite_only: bool,
        now: i64,
    ) -> Result<Result<Outcome>, Fatal> {
        let Some(room_id) = self.room_id(room)? else {
            return Ok(Err(Error::UnknownRoom(room.to_owned())));
        };
        let ban: Option<Restriction> = self
            .conn
            .prepare_cached(
                "SELECT user, by_user, reason, until, since FROM room_bans \
                 WHERE room_id = ?1 AND user = ?2",
            )?
            .query_row(params![room_id, user], restriction_row)
            .optional()?;
        if let Some(ban) = ban.filter(|b| b.active_at(now)) {
            return Ok(Ok(Outcome::Admitted(Admission::Banned(ban))));
        }
        if invite_only {
            let allowed = self
                .conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM memberships WHERE room_id = ?1 AND user = ?2) \
                     OR EXISTS (SELECT 1 FROM room_invites WHERE room_id = ?1 AND user = ?2)",
                )?
                .query_row(params![room_id, user], |r| r.get::<_, bool>(0))?;
            if !allowed {
                return Ok(Ok(Outcome::Admitted(Admission::Uninvited)));
            }
        }
        self.insert_member(room_id, user, Role::Member)?;
        Ok(Ok(Outcome::Admitted(Admission::Member)))
    }
}
