//! Conversions between rows and chatcore's types, shared by the writer and the readers.

use chatcore::protocol::{Data, Message, MessageKind, Moderation, RoomKind};
use chatcore::store::{Member, Role, RoomRecord};
use rusqlite::Row;
use rusqlite::types::Type;

/// The message columns every message query selects, in the order [`message`] reads them.
pub(crate) const MESSAGE_COLUMNS: &str = "m.seq, m.id, m.sender, m.kind, m.ts, m.nonce, m.reply_to, m.body, m.data, m.target, \
     m.moderation, m.mentions";

/// The room columns every room query selects (table alias `r`), in the order [`room`]
/// reads them. The newest seq and the member count are computed, not stored: both are index
/// range reads, and a stored copy would be one more row to update in every commit.
pub(crate) const ROOM_COLUMNS: &str = "r.name, r.kind, r.topic, r.creator, r.created, \
     (SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = r.id), \
     (SELECT count(*) FROM memberships WHERE room_id = r.id), r.description";

/// Seqs and read positions are `u64` in chatcore and `INTEGER` (i64) in SQLite. Seqs never
/// come near 2^63, but client-supplied values (a `reply_to`, a read position) might, so they
/// are stored bit for bit: `u64::MAX` is stored as -1 and reads back as `u64::MAX`.
pub(crate) fn to_sql_u64(v: u64) -> i64 {
    v as i64
}

/// The inverse of [`to_sql_u64`].
pub(crate) fn from_sql_u64(v: i64) -> u64 {
    v as u64
}

/// A `u64` bound clamped into SQLite's integer range, for range comparisons.
pub(crate) fn clamp_u64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Reads [`MESSAGE_COLUMNS`] starting at column `first`.
pub(crate) fn message(row: &Row<'_>, first: usize, room: String) -> rusqlite::Result<Message> {
    Ok(Message {
        room,
        seq: from_sql_u64(row.get(first)?),
        id: row.get(first + 1)?,
        sender: row.get(first + 2)?,
        kind: MessageKind::from_name(row.get_ref(first + 3)?.as_str()?),
        ts: row.get(first + 4)?,
        nonce: row.get(first + 5)?,
        reply_to: row.get::<_, Option<i64>>(first + 6)?.map(from_sql_u64),
        text: row.get(first + 7)?,
        data: json_from_sql(row, first + 8)?,
        target: row.get::<_, Option<i64>>(first + 9)?.map(from_sql_u64),
        moderation: json_from_sql(row, first + 10)?,
        mentions: json_from_sql(row, first + 11)?.unwrap_or_default(),
        ..Message::default()
    })
}

/// A message's data as stored: compact JSON text.
pub(crate) fn data_to_sql(data: Option<&Data>) -> Option<String> {
    // A JSON map with string keys always encodes.
    data.and_then(|d| serde_json::to_string(d).ok())
}

/// A moderation event's details as stored: JSON text.
pub(crate) fn moderation_to_sql(moderation: Option<&Moderation>) -> Option<String> {
    // A struct of strings, numbers and a unit enum always encodes.
    moderation.and_then(|m| serde_json::to_string(m).ok())
}

/// A message's mentions as stored: a JSON array of names, NULL when there are none.
pub(crate) fn mentions_to_sql(mentions: &[String]) -> Option<String> {
    if mentions.is_empty() {
        return None;
    }
    serde_json::to_string(mentions).ok()
}

/// Reads a column of JSON text (`data`, `moderation`, `mentions`): NULL, or the value.
fn json_from_sql<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<T>> {
    let Some(text) = row.get_ref(column)?.as_str_or_null()? else {
        return Ok(None);
    };
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e)))
}

/// Reads [`ROOM_COLUMNS`].
pub(crate) fn room(row: &Row<'_>) -> rusqlite::Result<RoomRecord> {
    Ok(RoomRecord {
        name: row.get(0)?,
        // A kind this build does not know (written by a newer one) is treated as the most
        // restrictive: never listed to non-members.
        kind: RoomKind::from_name(row.get_ref(1)?.as_str()?).unwrap_or(RoomKind::Private),
        topic: row.get(2)?,
        creator: row.get(3)?,
        created: row.get(4)?,
        last_seq: from_sql_u64(row.get(5)?),
        members: from_sql_u64(row.get(6)?),
        description: row.get(7)?,
        invited: false,
    })
}

/// Reads `user, role, joined`.
pub(crate) fn member(row: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        user: row.get(0)?,
        role: Role::from_name(row.get_ref(1)?.as_str()?),
        joined: row.get(2)?,
    })
}
