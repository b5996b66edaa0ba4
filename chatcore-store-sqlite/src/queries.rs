//! The reads, each a plain function of a connection (run on a reader thread).

use chatcore::protocol::Message;
use chatcore::store::{HistoryPage, HistoryQuery, Member, RoomRecord};
use chatcore::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::rows::{self, MESSAGE_COLUMNS, ROOM_COLUMNS, clamp_u64, from_sql_u64};

pub(crate) fn room(conn: &Connection, name: &str) -> Result<Option<RoomRecord>> {
    conn.prepare_cached(&format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.name = ?1 AND r.deleted IS NULL"
    ))
    .and_then(|mut s| s.query_row([name], rows::room).optional())
    .map_err(Error::store)
}

pub(crate) fn list_rooms(conn: &Connection, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
    // With no viewer `user = NULL` is never true: public rooms only. The last column says
    // "invited, no member".
    conn.prepare_cached(&format!(
        "SELECT * FROM (SELECT {ROOM_COLUMNS}, \
           NOT EXISTS (SELECT 1 FROM memberships WHERE room_id = r.id AND user = ?1) \
           AND EXISTS (SELECT 1 FROM room_invites WHERE room_id = r.id AND user = ?1) \
           AS invited, \
           r.kind = 'public' \
           OR EXISTS (SELECT 1 FROM memberships WHERE room_id = r.id AND user = ?1) AS seen \
         FROM rooms r WHERE r.deleted IS NULL) WHERE seen OR invited ORDER BY 1"
    ))
    .and_then(|mut s| {
        s.query_map([viewer], |row| {
            let mut record = rows::room(row)?;
            record.invited = row.get(8)?;
            Ok(record)
        })?
        .collect()
    })
    .map_err(Error::store)
}

/// A page of history; the cursor rules are [`HistoryQuery`]'s. Asks for one row more than
/// the page holds: whether it comes back is `has_more`.
pub(crate) fn history(conn: &Connection, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
    query.check()?;
    let limit = query.clamped_limit() as usize;
    let before = query.before.map_or(i64::MAX, clamp_u64);
    let mut messages = if let Some(after) = query.after {
        let Ok(after) = i64::try_from(after) else {
            return Ok(HistoryPage::default());
        };
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m \
                 WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) \
                   AND m.seq > ?2 AND m.seq < ?3 \
                 ORDER BY m.seq ASC LIMIT ?4"
            ))
            .map_err(Error::store)?;
        stmt.query_map(params![room, after, before, limit as i64 + 1], |row| {
            rows::message(row, 0, room.to_owned())
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<Message>>>())
        .map_err(Error::store)?
    } else {
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m \
                 WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) AND m.seq < ?2 \
                 ORDER BY m.seq DESC LIMIT ?3"
            ))
            .map_err(Error::store)?;
        stmt.query_map(params![room, before, limit as i64 + 1], |row| {
            rows::message(row, 0, room.to_owned())
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<Message>>>())
        .map_err(Error::store)?
    };
    let has_more = messages.len() > limit;
    messages.truncate(limit);
    if !query.is_forward() {
        messages.reverse();
    }
    Ok(HistoryPage {
        messages,
        has_more,
        current_to: 0,
    })
}

pub(crate) fn last_seq(conn: &Connection, room: &str) -> Result<u64> {
    conn.prepare_cached(
        "SELECT coalesce(max(seq), 0) FROM messages \
         WHERE room_id = (SELECT id FROM rooms WHERE name = ?1)",
    )
    .and_then(|mut s| s.query_row([room], |r| r.get::<_, i64>(0)))
    .map(from_sql_u64)
    .map_err(Error::store)
}

pub(crate) fn member(conn: &Connection, room: &str, user: &str) -> Result<Option<Member>> {
    conn.prepare_cached(
        "SELECT user, role, joined FROM memberships \
         WHERE room_id = (SELECT id FROM rooms WHERE name = ?1) AND user = ?2",
    )
    .and_then(|mut s| s.query_row([room, user], rows::member).optional())
    .map_err(Error::store)
}

pub(crate) fn members(conn: &Connection, room: &str) -> Result<Vec<Member>> {
    conn.prepare_cached(
        "SELECT user, role, joined FROM memberships \
         WHERE room_id = (SELECT id FROM rooms WHERE name = ?1) ORDER BY user",
    )
    .and_then(|mut s| s.query_map([room], rows::member)?.collect())
    .map_err(Error::store)
}

pub(crate) fn read_position(conn: &Connection, room: &str, user: &str) -> Result<u64> {
    conn.prepare_cached(
        "SELECT seq FROM read_positions \
         WHERE room_id = (SELECT id FROM rooms WHERE name = ?1) AND user = ?2",
    )
    .and_then(|mut s| s.query_row([room, user], |r| r.get::<_, i64>(0)).optional())
    .map(|seq| seq.map_or(0, from_sql_u64))
    .map_err(Error::store)
}
