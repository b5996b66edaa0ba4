//! Change events (`edit`, `delete`, `react`, `unreact`) in the writer's transaction: the
//! rules checked against the target's state at commit, and the target's current state
//! updated in the same transaction as the event is stored.
//!
//! The current state lives on the target's row (`body` is the current text, `edited_ts`,
//! `deleted_by`, `deleted_ts`) and in `reactions` (one row per target, emoji and user).
//! A delete also empties the text of the target's earlier `edit` events, so the removed text
//! is nowhere in the messages table; the search index keeps stale words of edited and
//! deleted messages, which searches check against the current text (see `state.rs`).

use chatcore::Result;
use chatcore::protocol::{Message, MessageKind};
use chatcore::store::{NewMessage, ReactionState, TargetState, check_change};
use rusqlite::{Connection, OptionalExtension, params};

use crate::rows::to_sql_u64;

/// Checks a change against its target's state in the open transaction; `Ok(Ok(()))` for a
/// message that is not a change.
pub(crate) fn check(
    conn: &Connection,
    room_id: i64,
    msg: &NewMessage,
) -> rusqlite::Result<Result<()>> {
    if !msg.kind.is_change() {
        return Ok(Ok(()));
    }
    let target = msg.target.map(to_sql_u64).unwrap_or(0);
    let row: Option<(String, String, bool)> = conn
        .prepare_cached(
            "SELECT kind, sender, deleted_ts IS NOT NULL FROM messages \
             WHERE room_id = ?1 AND seq = ?2",
        )?
        .query_row(params![room_id, target], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let kind = row.as_ref().map(|(k, _, _)| MessageKind::from_name(k));
    let state = match (&row, &kind) {
        (Some((_, sender, deleted)), Some(kind)) => Some(TargetState {
            kind,
            sender,
            deleted: *deleted,
        }),
        _ => None,
    };
    let (distinct, used, mine): (i64, bool, bool) = conn
        .prepare_cached(
            "SELECT count(DISTINCT emoji), coalesce(max(emoji = ?3), 0), \
                    coalesce(max(emoji = ?3 AND user = ?4), 0) \
             FROM reactions WHERE room_id = ?1 AND target = ?2",
        )?
        .query_row(params![room_id, target, msg.text, msg.sender], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let reactions = ReactionState {
        mine,
        used,
        distinct: usize::try_from(distinct).unwrap_or(usize::MAX),
    };
    Ok(check_change(msg, state, reactions))
}

/// Applies a just-inserted change event (already checked) to its target's state.
pub(crate) fn apply(conn: &Connection, room_id: i64, event: &Message) -> rusqlite::Result<()> {
    let Some(target) = event.target.filter(|_| event.kind.is_change()) else {
        return Ok(());
    };
    let target = to_sql_u64(target);
    match event.kind {
        MessageKind::Edit => {
            conn.prepare_cached(
                "UPDATE messages SET body = ?3, edited_ts = ?4 WHERE room_id = ?1 AND seq = ?2",
            )?
            .execute(params![room_id, target, event.text, event.ts])?;
        }
        MessageKind::Delete => {
            conn.prepare_cached(
                "UPDATE messages SET body = '', data = NULL, edited_ts = NULL, \
                        deleted_by = ?3, deleted_ts = ?4 \
                 WHERE room_id = ?1 AND seq = ?2",
            )?
            .execute(params![room_id, target, event.sender, event.ts])?;
            conn.prepare_cached(
                "UPDATE messages SET body = '' \
                 WHERE room_id = ?1 AND target = ?2 AND kind = 'edit'",
            )?
            .execute(params![room_id, target])?;
            conn.prepare_cached("DELETE FROM reactions WHERE room_id = ?1 AND target = ?2")?
                .execute(params![room_id, target])?;
        }
        MessageKind::React => {
            conn.prepare_cached(
                "INSERT INTO reactions (room_id, target, emoji, user, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                room_id,
                target,
                event.text,
                event.sender,
                to_sql_u64(event.seq)
            ])?;
        }
        MessageKind::Unreact => {
            conn.prepare_cached(
                "DELETE FROM reactions \
                 WHERE room_id = ?1 AND target = ?2 AND emoji = ?3 AND user = ?4",
            )?
            .execute(params![room_id, target, event.text, event.sender])?;
        }
        _ => {}
    }
    Ok(())
}
