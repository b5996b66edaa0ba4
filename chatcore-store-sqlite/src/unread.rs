//! Unread and mention counts for the room list: one index range read per room.
//!
//! The read starts at the user's read position on the `(room_id, seq)` primary key and stops
//! after [`MAX_UNREAD`] counted rows, so its cost follows what the user has not read yet,
//! never the size of the room.

use chatcore::store::{MAX_UNREAD, UNCOUNTED_KINDS, Unread};
use chatcore::{Error, Result};
use rusqlite::{Connection, params};

/// The statement: the counted messages after the read position, their mentions column only.
pub(crate) fn unread_sql() -> String {
    let kinds = UNCOUNTED_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT m.mentions FROM rooms r \
         LEFT JOIN read_positions p ON p.room_id = r.id AND p.user = ?2 \
         JOIN messages m ON m.room_id = r.id AND m.seq > COALESCE(p.seq, 0) \
         WHERE r.name = ?1 AND m.sender <> ?2 AND m.kind NOT IN ({kinds}) \
         LIMIT {MAX_UNREAD}"
    )
}

/// `user`'s counts in each of `rooms`, in order.
pub(crate) fn unread(conn: &Connection, user: &str, rooms: &[String]) -> Result<Vec<Unread>> {
    let mut stmt = conn.prepare_cached(&unread_sql()).map_err(Error::store)?;
    // A mentions column is a JSON array of names: the quoted name inside it is a mention.
    let quoted = serde_json::to_string(user).map_err(Error::store)?;
    let mut out = Vec::with_capacity(rooms.len());
    for room in rooms {
        let mut counts = Unread {
            room: room.clone(),
            ..Unread::default()
        };
        let mut rows = stmt.query(params![room, user]).map_err(Error::store)?;
        while let Some(row) = rows.next().map_err(Error::store)? {
            counts.unread += 1;
            let mentions: Option<String> = row.get(0).map_err(Error::store)?;
            if mentions.is_some_and(|m| mentions_user(&m, &quoted)) {
                counts.mentions += 1;
            }
        }
        out.push(counts);
    }
    Ok(out)
}

/// Whether a stored mentions array holds the JSON string `quoted`. Names never hold a `"`
/// unescaped, so a match of the quoted name is a whole element, never a part of one.
fn mentions_user(mentions: &str, quoted: &str) -> bool {
    mentions.contains(quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mention_match_is_a_whole_name() {
        let q = serde_json::to_string("ann").expect("json");
        assert!(mentions_user(r#"["ann","bob"]"#, &q));
        assert!(!mentions_user(r#"["anna","joann"]"#, &q));
    }
}
