//! Reads of messages as they are now: history pages and thread pages with current state,
//! and full-text search over current text only.

use std::collections::HashMap;

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

/// Fills the current-state fields of `messages` (of `room`) for `viewer`. One statement
/// each reads the page's edit and delete state, its reactions and its thread counts, for
/// the page's seqs as a set (a JSON array through `json_each`), instead of three or more
/// statements per message; only a root that has replies costs two more.
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
    let at: HashMap<i64, usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.kind.is_reserved())
        .map(|(i, m)| (to_sql_u64(m.seq), i))
        .collect();
    if at.is_empty() {
        return Ok(());
    }
    let seqs = format!(
        "[{}]",
        at.keys().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let mut stmt = conn.prepare_cached(
        "SELECT seq, edited_ts, deleted_by, deleted_ts FROM messages \
         WHERE room_id = ?1 AND seq IN (SELECT value FROM json_each(?2)) \
           AND (edited_ts IS NOT NULL OR deleted_ts IS NOT NULL)",
    )?;
    let mut rows = stmt.query(params![room_id, seqs])?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        let m = &mut messages[i];
        m.edited_ts = r.get(1)?;
        let (by, ts): (Option<String>, Option<i64>) = (r.get(2)?, r.get(3)?);
        m.deleted = by.zip(ts).map(|(by, ts)| Box::new(Tombstone { by, ts }));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT target, emoji, count(*), max(user = ?3), min(seq) AS first FROM reactions \
         WHERE room_id = ?1 AND target IN (SELECT value FROM json_each(?2)) \
         GROUP BY target, emoji ORDER BY target, first",
    )?;
    let mut rows = stmt.query(params![room_id, seqs, viewer])?;
    while let Some(r) = rows.next()? {
        let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
            continue;
        };
        messages[i].reactions.push(ReactionCount {
            emoji: r.get(1)?,
            count: from_sql_u64(r.get(2)?),
            me: r.get::<_, Option<bool>>(3)?.unwrap_or(false),
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT reply_to, count(*), max(seq) FROM messages \
         WHERE room_id = ?1 AND reply_to IN (SELECT value FROM json_each(?2)) \
         GROUP BY reply_to",
    )?;
    let roots = stmt
        .query_map(params![room_id, seqs], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (root, replies, last) in roots {
        if let Some(&i) = at.get(&root) {
            messages[i].thread = Some(Box::new(summary(conn, room_id, root, replies, last)?));
        }
    }
    Ok(())
}

/// The thread summary of `root`, which has `replies` replies, the newest `last`.
fn summary(
    conn: &Connection,
    room_id: i64,
    root: i64,
    replies: i64,
    last: i64,
) -> rusqlite::Result<ThreadSummary> {
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
    Ok(ThreadSummary {
        replies: from_sql_u64(replies),
        last_seq: from_sql_u64(last),
        last_ts,
        participants,
    })
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
