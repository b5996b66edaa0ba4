//! Reads of messages as they are now: history pages and thread pages with current state.
//!
//! A page is **one statement**: the page's rows, each with its reactions (as arrays, in order
//! of first use) and its thread summary (lateral joins on the reactions and reply indexes),
//! and the room's newest seq. One statement reads one snapshot, so the page and the seq it is
//! current to agree without a transaction, and a page costs one round trip instead of six
//! (`BEGIN`, page, reactions, reply counts, head, `COMMIT`).

use chatcore::protocol::{Message, ReactionCount, ThreadSummary, Tombstone};
use chatcore::store::{HistoryPage, HistoryQuery};
use chatcore::{Error, Result};
use deadpool_postgres::Object;
use tokio_postgres::Row;

use crate::codec::{self, MESSAGE_COLUMNS, message_columns};

/// The room's row joined with its page (`$2 < seq < $3`, at most `$4` rows, viewer `$5`):
/// per message the message columns, `edited_ts, deleted_by, deleted_ts`, the reactions as
/// three arrays (`emoji`, `counts`, `mine`), the thread's `replies`, `last`, `last_ts` and
/// `participants`; then the room's `last_seq`. A room with nothing in the range gives one row
/// whose message columns are null; an unknown room gives no row.
macro_rules! page {
    ($filter:literal, $order:literal) => {
        concat!(
            "SELECT p.*, r.last_seq FROM rooms r LEFT JOIN LATERAL (SELECT ",
            message_columns!(),
            ", m.edited_ts, m.deleted_by, m.deleted_ts, \
             x.emoji, x.counts, x.mine, t.replies, t.last, \
             CASE WHEN t.replies > 0 THEN (SELECT l.ts FROM messages l \
                 WHERE l.room_id = m.room_id AND l.seq = t.last) END AS last_ts, \
             CASE WHEN t.replies > 0 THEN ARRAY(SELECT DISTINCT c.sender FROM messages c \
                 WHERE c.room_id = m.room_id AND c.reply_to = m.seq ORDER BY c.sender LIMIT 10) \
             END AS participants \
             FROM messages m \
             LEFT JOIN LATERAL (SELECT array_agg(e.emoji ORDER BY e.first) AS emoji, \
                 array_agg(e.n ORDER BY e.first) AS counts, \
                 array_agg(e.mine ORDER BY e.first) AS mine \
                 FROM (SELECT emoji, count(*) AS n, \
                     coalesce(bool_or(user_name = $5), false) AS mine, min(seq) AS first \
                     FROM reactions WHERE room_id = m.room_id AND target = m.seq \
                     GROUP BY emoji) e) x ON true \
             LEFT JOIN LATERAL (SELECT count(*) AS replies, max(c.seq) AS last FROM messages c \
                 WHERE c.room_id = m.room_id AND c.reply_to = m.seq) t ON true \
             WHERE m.room_id = r.id AND ",
            $filter,
            " ORDER BY m.seq ",
            $order,
            " LIMIT $4) p ON true WHERE r.name = $1"
        )
    };
}

const BACKWARD: &str = page!("m.seq > $2 AND m.seq < $3", "DESC");
const FORWARD: &str = page!("m.seq > $2 AND m.seq < $3", "ASC");
const THREAD: &str = page!("m.reply_to = $6 AND m.seq > $2 AND m.seq < $3", "ASC");

/// Where the columns after the message columns are.
const EDITED_TS: usize = MESSAGE_COLUMNS;
const DELETED_BY: usize = MESSAGE_COLUMNS + 1;
const DELETED_TS: usize = MESSAGE_COLUMNS + 2;
const EMOJI: usize = MESSAGE_COLUMNS + 3;
const COUNTS: usize = MESSAGE_COLUMNS + 4;
const MINE: usize = MESSAGE_COLUMNS + 5;
const REPLIES: usize = MESSAGE_COLUMNS + 6;
const LAST: usize = MESSAGE_COLUMNS + 7;
const LAST_TS: usize = MESSAGE_COLUMNS + 8;
const PARTICIPANTS: usize = MESSAGE_COLUMNS + 9;
const LAST_SEQ: usize = MESSAGE_COLUMNS + 10;

/// A history page with current state; the cursor rules are [`HistoryQuery`]'s.
pub(crate) async fn history(
    client: &mut Object,
    room: &str,
    query: HistoryQuery,
    viewer: Option<&str>,
) -> Result<HistoryPage> {
    query.check()?;
    let sql = if query.is_forward() {
        FORWARD
    } else {
        BACKWARD
    };
    let mut page = read(client, sql, room, None, query, viewer).await?;
    if !query.is_forward() {
        page.messages.reverse();
    }
    Ok(page)
}

/// A page of `root`'s replies with current state, oldest first.
pub(crate) async fn thread(
    client: &mut Object,
    room: &str,
    root: u64,
    query: HistoryQuery,
    viewer: Option<&str>,
) -> Result<HistoryPage> {
    query.check()?;
    read(client, THREAD, room, Some(root), query, viewer).await
}

async fn read(
    client: &mut Object,
    sql: &str,
    room: &str,
    root: Option<u64>,
    query: HistoryQuery,
    viewer: Option<&str>,
) -> Result<HistoryPage> {
    let limit = i64::from(query.clamped_limit());
    let after = query.after.map_or(0, codec::signed);
    let before = query.before.map_or(i64::MAX, codec::signed);
    let stmt = client.prepare_cached(sql).await.map_err(Error::store)?;
    let name = room.as_bytes();
    let viewer = viewer.map(str::as_bytes);
    let rows = match root {
        Some(root) => {
            let root = codec::signed(root);
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
                [&name, &after, &before, &(limit + 1), &viewer, &root];
            client.query(&stmt, &params).await
        }
        None => {
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
                [&name, &after, &before, &(limit + 1), &viewer];
            client.query(&stmt, &params).await
        }
    }
    .map_err(Error::store)?;
    let current_to = match rows.first() {
        Some(row) => codec::unsigned(row.try_get(LAST_SEQ).map_err(Error::store)?, "last_seq")?,
        None => 0,
    };
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        // The one row of an empty range has no message.
        if row
            .try_get::<_, Option<i64>>(0)
            .map_err(Error::store)?
            .is_some()
        {
            messages.push(current(row, room)?);
        }
    }
    let has_more = messages.len() as i64 > limit;
    messages.truncate(limit as usize);
    Ok(HistoryPage {
        messages,
        has_more,
        current_to,
    })
}

/// One row of a page: the message with its edit and delete state, reactions and thread
/// summary (a room event has none of them).
fn current(row: &Row, room: &str) -> Result<Message> {
    let mut m = codec::message(row, room.to_owned())?;
    if m.kind.is_reserved() {
        return Ok(m);
    }
    m.edited_ts = row.try_get(EDITED_TS).map_err(Error::store)?;
    let by: Option<&[u8]> = row.try_get(DELETED_BY).map_err(Error::store)?;
    let ts: Option<i64> = row.try_get(DELETED_TS).map_err(Error::store)?;
    if let (Some(by), Some(ts)) = (by, ts) {
        let by = codec::utf8(by, "messages.deleted_by")?;
        m.deleted = Some(Box::new(Tombstone { by, ts }));
    }
    let emoji: Option<Vec<String>> = row.try_get(EMOJI).map_err(Error::store)?;
    let counts: Option<Vec<i64>> = row.try_get(COUNTS).map_err(Error::store)?;
    let mine: Option<Vec<bool>> = row.try_get(MINE).map_err(Error::store)?;
    if let (Some(emoji), Some(counts), Some(mine)) = (emoji, counts, mine) {
        for ((emoji, count), me) in emoji.into_iter().zip(counts).zip(mine) {
            let count = codec::unsigned(count, "reactions")?;
            m.reactions.push(ReactionCount { emoji, count, me });
        }
    }
    let replies: i64 = row.try_get(REPLIES).map_err(Error::store)?;
    if replies > 0 {
        let last: i64 = row.try_get(LAST).map_err(Error::store)?;
        let participants: Vec<&[u8]> = row.try_get(PARTICIPANTS).map_err(Error::store)?;
        m.thread = Some(Box::new(ThreadSummary {
            replies: codec::unsigned(replies, "replies")?,
            last_seq: codec::unsigned(last, "messages.seq")?,
            last_ts: row.try_get(LAST_TS).map_err(Error::store)?,
            participants: participants
                .into_iter()
                .map(|p| codec::utf8(p, "messages.sender"))
                .collect::<Result<_>>()?,
        }));
    }
    Ok(m)
}
