//! [`RoomAuthority::admit`](chatcore::store::RoomAuthority::admit) for
//! [`PostgresStore`]: one transaction that first takes the room's row
//! `FOR SHARE`, then checks the ban and the invitation and adds the membership. Bans, kicks
//! and room deletions lock the same row `FOR UPDATE`, so a join and a ban are serialized:
//! whichever commits second sees the first. The checks are statements of their own, after
//! the lock: under `READ COMMITTED` each statement reads what was committed when it began,
//! so a ban committed while the join waited for the lock is seen.

use chatcore::store::{Admission, Role};
use chatcore::{Error, Result};

use crate::PostgresStore;
use crate::authority::{Param, exec, restriction};

const SHARE_ROOM: &str = "SELECT id FROM rooms WHERE name = $1 AND deleted IS NULL FOR SHARE";

const BAN: &str = "SELECT user_name, by_user, reason, until, since FROM room_bans \
     WHERE room_id = $1 AND user_name = $2";

const MAY_ENTER: &str = "SELECT EXISTS (SELECT 1 FROM memberships \
         WHERE room_id = $1 AND user_name = $2) \
     OR EXISTS (SELECT 1 FROM room_invites WHERE room_id = $1 AND user_name = $2)";

const INSERT_MEMBER: &str = "INSERT INTO memberships (room_id, user_name, role, joined) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, user_name) DO NOTHING";

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
        let room_id: i64 = tx
            .query_opt(SHARE_ROOM, &[&room.as_bytes()])
            .await
            .map_err(Error::store)?
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?
            .try_get(0)
            .map_err(Error::store)?;
        let key: [Param<'_>; 2] = [&room_id, &user.as_bytes()];
        let ban = tx.query_opt(BAN, &key).await.map_err(Error::store)?;
        if let Some(ban) = ban.as_ref().map(restriction).transpose()? {
            if ban.active_at(now) {
                return Ok(Admission::Banned(ban));
            }
        }
        if invite_only {
            let allowed: bool = tx
                .query_one(MAY_ENTER, &key)
                .await
                .and_then(|r| r.try_get(0))
                .map_err(Error::store)?;
            if !allowed {
                return Ok(Admission::Uninvited);
            }
        }
        let joined = chatcore::now_millis();
        let member: [Param<'_>; 4] = [&room_id, &user.as_bytes(), &Role::Member.as_str(), &joined];
        exec(&tx, INSERT_MEMBER, &member).await?;
        tx.commit().await.map_err(Error::store)?;
        Ok(Admission::Member)
    }
}
