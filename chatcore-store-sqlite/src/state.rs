//! Reads of messages as they are now: history pages and thread pages with current state,
//! and full-text search over current text only.

use chatcore::protocol::{Message, ReactionCount, ThreadSummary, Tombstone};
use chatcore::store::{HistoryPage, HistoryQuery, MAX_PAGE, SearchQuery};
use chatcore::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

use crate::queries;
use crate::rows::{self, MESSAGE_COLUMNS, clamp_u64, from_sql_u64, to_sql_u64};
use crate::search::words;

/// Most participants a thread summary names.
const MAX_PARTICIPANTS: i64 = 10;

/// A history page with current state, read in one snapshot.
pub(crate) fn history(
    conn: &Connection,
    room: &str,
    query: HistoryQuery,
    viewer: Option<&str>,
) -> Result<HistoryPage> {
    let tx = conn.unchecked_transaction().map_err(Error::store)?;
    let mut page = queries::history(conn, room, query)?;
    page.current_to = queries::last_seq(conn, room)?;
    fill(conn, room, &mut page.messages, viewer).map_err(Error::store)?;
    tx.commit().map_err(Error::store)?;
    Ok(page)
}

/// A page of `root`'s replies with current state, read in one snapshot.
pub(crate) fn thread(
    conn: &Connection,
    room: &str,
    root: u64,
    query: HistoryQuery,
    viewer: Option<&str>,
) -> Result<HistoryPage> {
    query.check()?;
    let limit = query.clamped_limit() as usize;
    let tx = conn.unchecked_transaction().map_err(Error::store)?;
    let mut messages = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m \
             WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) AND m.reply_to = ?2 \
               AND m.seq > ?3 AND m.seq < ?4 \
             ORDER BY m.seq ASC LIMIT ?5"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![
                    room,
                    to_sql_u64(root),
                    query.after.map_or(0, clamp_u64),
                    query.before.map_or(i64::MAX, clamp_u64),
                    limit as i64 + 1
                ],
                |row| rows::message(row, 0, room.to_owned()),
            )?
            .collect::<rusqlite::Result<Vec<Message>>>()
        })
        .map_err(Error::store)?;
    let has_more = messages.len() > limit;
    messages.truncate(limit);
    let current_to = queries::last_seq(conn, room)?;
    fill(conn, room, &mut messages, viewer).map_err(Error::store)?;
    tx.commit().map_err(Error::store)?;
    Ok(HistoryPage {
        messages,
        has_more,
        current_to,
    })
}

/// Fills the current-state fields of `messages` (of `room`) for `viewer`.
fn fill(
    conn: &Connection,
    room: &str,
    messages: &mut [Message],
    viewer: Option<&str>,
) -> rusqlite::Result<()> {
    let room_id: Option<i64> = conn
        .prepare_cached("SELECT id FROM rooms WHERE name = ?1")?
        .query_row([room], |r| r.get(0))
        .optional()?;
    let Some(room_id) = room_id else {
        return Ok(());
    };
    for m in messages.iter_mut().filter(|m| !m.kind.is_reserved()) {
        let seq = to_sql_u64(m.seq);
        let (edited, by, ts): (Option<i64>, Option<String>, Option<i64>) = conn
            .prepare_cached(
                "SELECT edited_ts, deleted_by, deleted_ts FROM messages \
                 WHERE room_id = ?1 AND seq = ?2",
            )?
            .query_row(params![room_id, seq], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        m.edited_ts = edited;
        m.deleted = by.zip(ts).map(|(by, ts)| Box::new(Tombstone { by, ts }));
        m.reactions = conn
            .prepare_cached(
                "SELECT emoji, count(*), max(user = ?3), min(seq) AS first FROM reactions \
                 WHERE room_id = ?1 AND target = ?2 GROUP BY emoji ORDER BY first",
            )?
            .query_map(params![room_id, seq, viewer], |r| {
                Ok(ReactionCount {
                    emoji: r.get(0)?,
                    count: from_sql_u64(r.get(1)?),
                    me: r.get::<_, Option<bool>>(2)?.unwrap_or(false),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        m.thread = summary(conn, room_id, seq)?.map(Box::new);
    }
    Ok(())
}

/// A root's thread summary, if it has replies.
fn summary(conn: &Connection, room_id: i64, root: i64) -> rusqlite::Result<Option<ThreadSummary>> {
    let (replies, last): (i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT count(*), max(seq) FROM messages WHERE room_id = ?1 AND reply_to = ?2",
        )?
        .query_row(params![room_id, root], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let Some(last) = last else {
        return Ok(None);
    };
    let last_ts: i64 = conn
        .prepare_cached("SELECT ts FROM messages WHERE room_id = ?1 AND seq = ?2")?
        .query_row(params![room_id, last], |r| r.get(0))?;
    let participants = conn
        .prepare_cached(
            "SELECT DISTINCT sender FROM messages WHERE room_id = ?1 AND reply_to = ?2 \
             ORDER BY sender LIMIT ?3",
        )?
        .query_map(params![room_id, root, MAX_PARTICIPANTS], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Some(ThreadSummary {
        replies: from_sql_u64(replies),
        last_seq: from_sql_u64(last),
        last_ts,
        participants,
    }))
}

/// Full-text search over current text, newest first. A hit of an `edit` event stands for its
/// target; each candidate's current text must still hold every word (the index keeps the
/// words of earlier versions), and deleted messages and change events are never returned.
/// `expression` comes from [`match_expression`](crate::search::match_expression).
pub(crate) fn search(
    conn: &Connection,
    expression: &str,
    query: &SearchQuery,
) -> Result<Vec<Message>> {
    let limit = query.limit.min(MAX_PAGE) as usize;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let wanted: Vec<String> = words(&query.text).collect();
    let mut stmt = conn.prepare_cached(&search_sql()).map_err(Error::store)?;
    let mut rows = stmt
        .query(params![expression, query.room])
        .map_err(Error::store)?;
    let mut hits = Vec::new();
    while let Some(row) = rows.next().map_err(Error::store)? {
        let m = rows::message(row, 1, row.get(0).map_err(Error::store)?).map_err(Error::store)?;
        let have: Vec<String> = words(&m.text).collect();
        if wanted.iter().all(|w| have.contains(w)) {
            hits.push(m);
            if hits.len() == limit {
                break;
            }
        }
    }
    Ok(hits)
}

/// The search statement: full-text hits first, each joined to its row by primary key and to
/// the message it stands for (itself, or an edit's target) by `(room_id, seq)`.
pub(crate) fn search_sql() -> String {
    format!(
        "SELECT DISTINCT r.name, {MESSAGE_COLUMNS} FROM search.message_fts \
         JOIN messages h ON h.pos = message_fts.rowid \
         JOIN messages m ON m.room_id = h.room_id \
          AND m.seq = CASE WHEN h.kind = 'edit' THEN h.target ELSE h.seq END \
         JOIN rooms r ON r.id = m.room_id \
         WHERE message_fts MATCH ?1 AND (?2 IS NULL OR r.name = ?2) \
           AND m.deleted_ts IS NULL \
           AND m.kind NOT IN ('edit', 'delete', 'react', 'unreact') \
         ORDER BY m.ts DESC, m.seq DESC, m.room_id DESC"
    )
}
