//! [`RoomAuthority::admit`](chatcore::store::RoomAuthority::admit) for [`PostgresStore`]:
//! one transaction that first takes the room's row `FOR SHARE`, then checks the ban and the
//! invitation and adds the membership in one statement. Bans, kicks and room deletions lock
//! the same row `FOR UPDATE`, so a join and a ban are serialized: whichever commits second
//! sees the first. The check is a statement of its own, after the lock: under
//! `READ COMMITTED` each statement reads what was committed when it began, so a ban
//! committed while the join waited for the lock is seen. The two statements go out together
//! (pipelined): three round trips in all, with `BEGIN` and `COMMIT`.

use chatcore::store::{Admission, Role};
use chatcore::{Error, Result};

use crate::PostgresStore;
use crate::authority::{Param, restriction};

const SHARE_ROOM: &str = "SELECT id FROM rooms WHERE name = $1 AND deleted IS NULL FOR SHARE";

/// `$1` room, `$2` user, `$3` now, `$4` invite-only, `$5` role, `$6` joined. One row: the
/// active ban's `user_name, by_user, reason, until, since` (NULLs when none), whether the
/// user may enter, and whether the room exists. Inserts the membership only when neither
/// refuses.
const ADMIT: &str = "WITH r AS (SELECT id FROM rooms WHERE name = $1 AND deleted IS NULL), \
     ban AS (SELECT b.user_name, b.by_user, b.reason, b.until, b.since \
         FROM room_bans b JOIN r ON b.room_id = r.id \
         WHERE b.user_name = $2 AND (b.until IS NULL OR b.until > $3)), \
     may AS (SELECT NOT $4 \
         OR EXISTS (SELECT 1 FROM memberships m JOIN r ON m.room_id = r.id \
             WHERE m.user_name = $2) \
         OR EXISTS (SELECT 1 FROM room_invites i JOIN r ON i.room_id = r.id \
             WHERE i.user_name = $2) AS ok), \
     ins AS (INSERT INTO memberships (room_id, user_name, role, joined) \
         SELECT r.id, $2, $5, $6 FROM r, may \
         WHERE may.ok AND NOT EXISTS (SELECT 1 FROM ban) \
         ON CONFLICT (room_id, user_name) DO NOTHING) \
     SELECT ban.user_name, ban.by_user, ban.reason, ban.until, ban.since, may.ok, \
         EXISTS (SELECT 1 FROM r) FROM may LEFT JOIN ban ON true";

impl PostgresStore {
    /// The admission transaction (see the module docs); a refusal writes nothing.
    pub(crate) async fn admit_now(
        &self,
        room: &str,
        user: &str,
        invite_only: bool,
        now: i64,
    ) -> Result<Admission> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(Error::store)?;
        let lock = tx.prepare_cached(SHARE_ROOM).await.map_err(Error::store)?;
        let admit = tx.prepare_cached(ADMIT).await.map_err(Error::store)?;
        let joined = chatcore::now_millis();
        let params: [Param<'_>; 6] = [
            &room.as_bytes(),
            &user.as_bytes(),
            &now,
            &invite_only,
            &Role::Member.as_str(),
            &joined,
        ];
        let name: [Param<'_>; 1] = [&room.as_bytes()];
        // Sent in this order, run in this order: the check after the lock.
        let (_, row) = tokio::try_join!(tx.query_opt(&lock, &name), tx.query_one(&admit, &params))
            .map_err(Error::store)?;
        let exists: bool = row.try_get(6).map_err(Error::store)?;
        if !exists {
            return Err(Error::UnknownRoom(room.to_owned()));
        }
        let banned: Option<&[u8]> = row.try_get(0).map_err(Error::store)?;
        if banned.is_some() {
            return Ok(Admission::Banned(restriction(&row)?));
        }
        let may_enter: bool = row.try_get(5).map_err(Error::store)?;
        if !may_enter {
            return Ok(Admission::Uninvited);
        }
        tx.commit().await.map_err(Error::store)?;
        Ok(Admission::Member)
    }
}
