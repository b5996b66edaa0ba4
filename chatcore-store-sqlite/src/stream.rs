//! The event stream's tables (schema version 3): consumer-group leases and cursors. Reads run
//! on the reader pool; lease and cursor changes run on the writer thread, inside its batch
//! transaction, so they see every append committed before them.

use std::time::Duration;

use chatcore::store::{LeaseRecord, next_lease};
use chatcore::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::rows::{from_sql_u64, to_sql_u64};

/// Every room with its newest seq, by name.
pub(crate) fn heads(conn: &Connection) -> Result<Vec<(String, u64)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.name, (SELECT coalesce(max(m.seq), 0) FROM messages m WHERE m.room_id = r.id) \
             FROM rooms r ORDER BY r.name",
        )
        .map_err(Error::store)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, from_sql_u64(r.get(1)?))))
        .map_err(Error::store)?;
    rows.collect::<rusqlite::Result<_>>().map_err(Error::store)
}

/// A group's cursors, by room name.
pub(crate) fn cursors(conn: &Connection, group: &str) -> Result<Vec<(String, u64)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT r.name, c.seq FROM stream_cursors c JOIN rooms r ON r.id = c.room_id \
             WHERE c.grp = ?1 ORDER BY r.name",
        )
        .map_err(Error::store)?;
    let rows = stmt
        .query_map([group], |r| Ok((r.get(0)?, from_sql_u64(r.get(1)?))))
        .map_err(Error::store)?;
    rows.collect::<rusqlite::Result<_>>().map_err(Error::store)
}

/// Takes or renews `group`'s lease for `holder` (see [`next_lease`]); the clock is this
/// process's, the one every node writing this SQLite file shares.
pub(crate) fn acquire_lease(
    conn: &Connection,
    group: &str,
    holder: &str,
    ttl: Duration,
) -> rusqlite::Result<Option<u64>> {
    let current = conn
        .prepare_cached("SELECT holder, token, expires FROM stream_leases WHERE grp = ?1")?
        .query_row([group], |r| {
            Ok(LeaseRecord::new(
                r.get::<_, String>(0)?,
                from_sql_u64(r.get(1)?),
                r.get(2)?,
            ))
        })
        .optional()?;
    let Some(lease) = next_lease(current.as_ref(), holder, chatcore::now_millis(), ttl) else {
        return Ok(None);
    };
    conn.prepare_cached(
        "INSERT INTO stream_leases (grp, holder, token, expires) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (grp) DO UPDATE SET holder = excluded.holder, token = excluded.token, \
         expires = excluded.expires",
    )?
    .execute(params![
        group,
        lease.holder,
        to_sql_u64(lease.token),
        lease.expires
    ])?;
    Ok(Some(lease.token))
}

/// Moves a cursor forward when `token` is the group's lease token and `seq` exists; the
/// outer error is a database failure, the inner one a refusal that wrote nothing.
pub(crate) fn commit_cursor(
    conn: &Connection,
    group: &str,
    token: u64,
    room: (&str, Option<i64>),
    seq: u64,
) -> rusqlite::Result<Result<()>> {
    let held: Option<i64> = conn
        .prepare_cached("SELECT token FROM stream_leases WHERE grp = ?1")?
        .query_row([group], |r| r.get(0))
        .optional()?;
    if held.map(from_sql_u64) != Some(token) {
        return Ok(Err(Error::LeaseLost(group.to_owned())));
    }
    let (name, Some(room_id)) = room else {
        return Ok(Err(Error::UnknownRoom(room.0.to_owned())));
    };
    let head = from_sql_u64(
        conn.prepare_cached("SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = ?1")?
            .query_row([room_id], |r| r.get(0))?,
    );
    if seq > head {
        return Ok(Err(Error::BadCursor(format!(
            "{name} has no seq {seq} (its newest is {head})"
        ))));
    }
    conn.prepare_cached(
        "INSERT INTO stream_cursors (grp, room_id, seq) VALUES (?1, ?2, ?3) \
         ON CONFLICT (grp, room_id) DO UPDATE SET seq = max(seq, excluded.seq)",
    )?
    .execute(params![group, room_id, to_sql_u64(seq)])?;
    Ok(Ok(()))
}
