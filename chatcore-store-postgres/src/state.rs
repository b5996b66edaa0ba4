//! Reads of messages as they are now: history pages and thread pages with current state,
//! each read in one snapshot (a repeatable-read, read-only transaction), so a page and the
//! seq it is current to agree.

use std::collections::HashMap;

use chatcore::protocol::{Message, ReactionCount, ThreadSummary, Tombstone};
use chatcore::store::{HistoryPage, HistoryQuery};
use chatcore::{Error, Result};
use deadpool_postgres::{Object, Transaction};
use tokio_postgres::IsolationLevel;

use crate::codec::{self, MESSAGE_COLUMNS, message_columns};

/// The message columns, then `edited_ts, deleted_by, deleted_ts`, then the room id.
macro_rules! page {
    ($filter:literal, $order:literal) => {
        concat!(
            "SELECT ",
            message_columns!(),
            ", m.edited_ts, m.deleted_by, m.deleted_ts, m.room_id FROM messages m \
             WHERE m.room_id = (SELECT id FROM rooms WHERE name = $1) AND ",
            $filter,
            " ORDER BY m.seq ",
            $order,
            " LIMIT $4"
        )
    };
}

const BACKWARD: &str = page!("m.seq > $2 AND m.seq < $3", "DESC");
const FORWARD: &str = page!("m.seq > $2 AND m.seq < $3", "ASC");
const THREAD: &str = page!("m.reply_to = $5 AND m.seq > $2 AND m.seq < $3", "ASC");

const LAST_SEQ: &str = "SELECT last_seq FROM rooms WHERE name = $1";

/// The reactions of a page's messages (`$2`, an array of seqs), by message, each message's
/// emoji in order of first use.
const REACTIONS: &str = "SELECT target, emoji, count(*), \
            coalesce(bool_or(user_name = $3), false), min(seq) AS first \
     FROM reactions WHERE room_id = $1 AND target = ANY($2) \
     GROUP BY target, emoji ORDER BY target, first";

/// Reply counts and newest reply of those of a page's messages (`$2`) that have replies.
const SUMMARIES: &str = "SELECT reply_to, count(*), max(seq) FROM messages \
     WHERE room_id = $1 AND reply_to = ANY($2) GROUP BY reply_to";

const TS: &str = "SELECT ts FROM messages WHERE room_id = $1 AND seq = $2";

const PARTICIPANTS: &str = "SELECT DISTINCT sender FROM messages \
     WHERE room_id = $1 AND reply_to = $2 ORDER BY sender LIMIT 10";

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
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(Error::store)?;
    let stmt = tx.prepare_cached(sql).await.map_err(Error::store)?;
    let name = room.as_bytes();
    let rows = match root {
        Some(root) => {
            let root = codec::signed(root);
            tx.query(&stmt, &[&name, &after, &before, &(limit + 1), &root])
                .await
        }
        None => {
            tx.query(&stmt, &[&name, &after, &before, &(limit + 1)])
                .await
        }
    }
    .map_err(Error::store)?;
    let has_more = rows.len() as i64 > limit;
    let mut messages = Vec::with_capacity(rows.len());
    let mut room_id = None;
    for row in rows.iter().take(rows.len().min(limit as usize)) {
        let mut m = codec::message(row, room.to_owned())?;
        room_id = Some(
            row.try_get::<_, i64>(MESSAGE_COLUMNS + 3)
                .map_err(Error::store)?,
        );
        if !m.kind.is_reserved() {
            m.edited_ts = row.try_get(MESSAGE_COLUMNS).map_err(Error::store)?;
            let by: Option<&[u8]> = row.try_get(MESSAGE_COLUMNS + 1).map_err(Error::store)?;
            let ts: Option<i64> = row.try_get(MESSAGE_COLUMNS + 2).map_err(Error::store)?;
            if let (Some(by), Some(ts)) = (by, ts) {
                let by = codec::utf8(by, "messages.deleted_by")?;
                m.deleted = Some(Box::new(Tombstone { by, ts }));
            }
        }
        messages.push(m);
    }
    if let Some(room_id) = room_id {
        fill(&tx, room_id, &mut messages, viewer).await?;
    }
    let stmt = tx.prepare_cached(LAST_SEQ).await.map_err(Error::store)?;
    let current_to = match tx.query_opt(&stmt, &[&name]).await.map_err(Error::store)? {
        Some(row) => codec::unsigned(row.try_get(0).map_err(Error::store)?, "last_seq")?,
        None => 0,
    };
    tx.commit().await.map_err(Error::store)?;
    Ok(HistoryPage {
        messages,
        has_more,
        current_to,
    })
}

/// Fills the reactions and thread summaries of a page's messages: one statement for all
/// their reactions and one for all their reply counts (the seqs as one array), instead of
/// two or more round trips per message; only a root that has replies costs two more.
async fn fill(
    tx: &Transaction<'_>,
    room_id: i64,
    messages: &mut [Message],
    viewer: Option<&str>,
) -> Result<()> {
    let at: HashMap<i64, usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.kind.is_reserved())
        .map(|(i, m)| (codec::signed(m.seq), i))
        .collect();
    if at.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = at.keys().copied().collect();
    let viewer = viewer.map(str::as_bytes);
    let stmt = tx.prepare_cached(REACTIONS).await.map_err(Error::store)?;
    for row in tx
        .query(&stmt, &[&room_id, &seqs, &viewer])
        .await
        .map_err(Error::store)?
    {
        let target: i64 = row.try_get(0).map_err(Error::store)?;
        let Some(&i) = at.get(&target) else {
            continue;
        };
        messages[i].reactions.push(ReactionCount {
            emoji: row.try_get(1).map_err(Error::store)?,
            count: codec::unsigned(row.try_get(2).map_err(Error::store)?, "reactions")?,
            me: row.try_get(3).map_err(Error::store)?,
        });
    }
    let stmt = tx.prepare_cached(SUMMARIES).await.map_err(Error::store)?;
    let roots = tx
        .query(&stmt, &[&room_id, &seqs])
        .await
        .map_err(Error::store)?;
    for row in roots {
        let root: i64 = row.try_get(0).map_err(Error::store)?;
        let replies: i64 = row.try_get(1).map_err(Error::store)?;
        let last: i64 = row.try_get(2).map_err(Error::store)?;
        if let Some(&i) = at.get(&root) {
            messages[i].thread = Some(Box::new(summary(tx, room_id, root, replies, last).await?));
        }
    }
    Ok(())
}

/// The thread summary of `root`, which has `replies` replies, the newest `last`.
async fn summary(
    tx: &Transaction<'_>,
    room_id: i64,
    root: i64,
    replies: i64,
    last: i64,
) -> Result<ThreadSummary> {
    let stmt = tx.prepare_cached(TS).await.map_err(Error::store)?;
    let last_ts: i64 = tx
        .query_one(&stmt, &[&room_id, &last])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(Error::store)?;
    let stmt = tx
        .prepare_cached(PARTICIPANTS)
        .await
        .map_err(Error::store)?;
    let participants = tx
        .query(&stmt, &[&room_id, &root])
        .await
        .map_err(Error::store)?
        .iter()
        .map(|r| codec::string(r, 0, "messages.sender"))
        .collect::<Result<Vec<String>>>()?;
    Ok(ThreadSummary {
        replies: codec::unsigned(replies, "replies")?,
        last_seq: codec::unsigned(last, "messages.seq")?,
        last_ts,
        participants,
    })
}
