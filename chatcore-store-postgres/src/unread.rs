//! Unread and mention counts for the room list: one index range read per room.
//!
//! Each count starts at the user's read position on the `(room_id, seq)` primary key and
//! stops after [`MAX_UNREAD`] counted rows, so its cost follows what the user has not read
//! yet, never the size of the room.

use chatcore::store::{MAX_UNREAD, UNCOUNTED_KINDS, Unread};
use chatcore::{Error, Result};
use deadpool_postgres::Object;

use crate::codec;

/// The counted messages after the read position (at most [`MAX_UNREAD`]), and how many of
/// them hold `$3` (the user's name as a JSON string) in their mentions array. Names never
/// hold an unescaped `"`, so a match of the quoted name is a whole element.
fn unread_sql() -> String {
    format!(
        "SELECT count(*), count(*) FILTER (WHERE strpos(x.mentions, $3) > 0) FROM ( \
           SELECT m.mentions FROM rooms r \
           LEFT JOIN read_positions p ON p.room_id = r.id AND p.user_name = $2 \
           JOIN messages m ON m.room_id = r.id AND m.seq > COALESCE(p.seq, 0) \
           WHERE r.name = $1 AND m.sender <> $2 AND m.kind <> ALL($4) \
           LIMIT {MAX_UNREAD}) x"
    )
}

/// `user`'s counts in each of `rooms`, in order.
pub(crate) async fn unread(client: &Object, user: &str, rooms: &[String]) -> Result<Vec<Unread>> {
    let stmt = client
        .prepare_cached(&unread_sql())
        .await
        .map_err(Error::store)?;
    let quoted = serde_json::to_string(user).map_err(Error::store)?;
    let kinds: Vec<&str> = UNCOUNTED_KINDS.to_vec();
    let mut out = Vec::with_capacity(rooms.len());
    for room in rooms {
        let row = client
            .query_one(
                &stmt,
                &[&room.as_bytes(), &user.as_bytes(), &quoted, &kinds],
            )
            .await
            .map_err(Error::store)?;
        out.push(Unread {
            room: room.clone(),
            unread: codec::unsigned(row.try_get(0).map_err(Error::store)?, "unread")?,
            mentions: codec::unsigned(row.try_get(1).map_err(Error::store)?, "mentions")?,
        });
    }
    Ok(out)
}
