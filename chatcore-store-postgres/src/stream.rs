//! The event stream's tables (schema version 4): consumer-group leases and cursors.
//!
//! The lease rule is [`chatcore::store::next_lease`]'s, written as one statement so the row
//! lock of `ON CONFLICT DO UPDATE` makes it atomic across nodes, on the database's clock (the
//! one clock every node shares). A cursor commit holds the lease row `FOR SHARE`, so a
//! take-over waits for it and a fenced-out consumer's commit cannot slip in after one.

use std::time::Duration;

use chatcore::{Error, Result};
use deadpool_postgres::Object;

use crate::codec;

/// Milliseconds since the Unix epoch by the database's clock, fixed for the statement.
macro_rules! now_ms {
    () => {
        "(extract(epoch FROM statement_timestamp()) * 1000)::bigint"
    };
}

const HEADS: &str = "SELECT name, last_seq FROM rooms WHERE deleted IS NULL ORDER BY name";

const CURSORS: &str = "SELECT r.name, c.seq FROM stream_cursors c JOIN rooms r ON r.id = c.room_id \
                       WHERE c.grp = $1 ORDER BY r.name";

/// Renewed with the same token while the holder's lease is valid, taken with the next token
/// when it lapsed, refused (no row) while another holder's is valid.
const LEASE: &str = concat!(
    "INSERT INTO stream_leases AS l (grp, holder, token, expires) VALUES ($1, $2, 1, ",
    now_ms!(),
    " + $3) ON CONFLICT (grp) DO UPDATE SET \
       token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires > ",
    now_ms!(),
    " THEN l.token ELSE l.token + 1 END, holder = EXCLUDED.holder, expires = EXCLUDED.expires \
     WHERE l.holder = EXCLUDED.holder OR l.expires <= ",
    now_ms!(),
    " RETURNING token"
);

const HELD_TOKEN: &str = "SELECT token FROM stream_leases WHERE grp = $1 FOR SHARE";
const ROOM_HEAD: &str = "SELECT id, last_seq FROM rooms WHERE name = $1";
const COMMIT: &str = "INSERT INTO stream_cursors (grp, room_id, seq) VALUES ($1, $2, $3) \
                      ON CONFLICT (grp, room_id) DO UPDATE \
                      SET seq = GREATEST(stream_cursors.seq, EXCLUDED.seq)";

fn pairs(rows: Vec<tokio_postgres::Row>, column: &str) -> Result<Vec<(String, u64)>> {
    rows.iter()
        .map(|r| {
            let name = codec::string(r, 0, "rooms.name")?;
            let seq = codec::unsigned(r.try_get(1).map_err(Error::store)?, column)?;
            Ok((name, seq))
        })
        .collect()
}

pub(crate) async fn heads(client: &Object) -> Result<Vec<(String, u64)>> {
    let stmt = client.prepare_cached(HEADS).await.map_err(Error::store)?;
    pairs(
        client.query(&stmt, &[]).await.map_err(Error::store)?,
        "last_seq",
    )
}

pub(crate) async fn cursors(client: &Object, group: &str) -> Result<Vec<(String, u64)>> {
    let stmt = client.prepare_cached(CURSORS).await.map_err(Error::store)?;
    let rows = client
        .query(&stmt, &[&group.as_bytes()])
        .await
        .map_err(Error::store)?;
    pairs(rows, "stream_cursors.seq")
}

pub(crate) async fn acquire_lease(
    client: &Object,
    group: &str,
    holder: &str,
    ttl: Duration,
) -> Result<Option<u64>> {
    let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    let stmt = client.prepare_cached(LEASE).await.map_err(Error::store)?;
    let row = client
        .query_opt(&stmt, &[&group.as_bytes(), &holder.as_bytes(), &ttl])
        .await
        .map_err(Error::store)?;
    row.map(|r| codec::unsigned(r.try_get(0).map_err(Error::store)?, "stream_leases.token"))
        .transpose()
}

pub(crate) async fn commit_cursor(
    client: &mut Object,
    group: &str,
    token: u64,
    room: &str,
    seq: u64,
) -> Result<()> {
    let tx = client.transaction().await.map_err(Error::store)?;
    let held = tx
        .query_opt(HELD_TOKEN, &[&group.as_bytes()])
        .await
        .map_err(Error::store)?
        .map(|r| r.try_get::<_, i64>(0).map_err(Error::store))
        .transpose()?;
    if held != Some(codec::signed(token)) {
        return Err(Error::LeaseLost(group.to_owned()));
    }
    let Some(row) = tx
        .query_opt(ROOM_HEAD, &[&room.as_bytes()])
        .await
        .map_err(Error::store)?
    else {
        return Err(Error::UnknownRoom(room.to_owned()));
    };
    let room_id: i64 = row.try_get(0).map_err(Error::store)?;
    let head = codec::unsigned(row.try_get(1).map_err(Error::store)?, "last_seq")?;
    if seq > head {
        return Err(Error::BadCursor(format!(
            "{room} has no seq {seq} (its newest is {head})"
        )));
    }
    tx.execute(COMMIT, &[&group.as_bytes(), &room_id, &codec::signed(seq)])
        .await
        .map_err(Error::store)?;
    tx.commit().await.map_err(Error::store)
}
