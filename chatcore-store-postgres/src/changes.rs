//! Change events (`edit`, `delete`, `react`, `unreact`) in a writer transaction: the rules
//! checked against the target's state at commit, and the target's current state updated in
//! the same transaction as the event is stored.
//!
//! A change is committed in a batch of its own (see writer/pipeline.rs), after its room's row is
//! locked `FOR UPDATE`: changes to one room from any number of nodes are serialized by that
//! lock, so the rules see every change committed before and the room's seq stays gapless.
//!
//! The current state lives on the target's row (`body` is the current text, `search` its
//! words, `edited_ts`, `deleted_by`, `deleted_ts`) and in `reactions`. An edit or a delete
//! also rewrites the target's entry in the search index (`message_search`), and a delete
//! empties the text of the target's earlier `edit` events. Change events themselves are
//! stored with no search words: search finds messages, never changes.

use chatcore::protocol::{Message, MessageKind};
use chatcore::store::{NewMessage, ReactionState, TargetState, check_change};
use deadpool_postgres::Transaction;

use crate::codec::{self, Lexemes};

/// The target's kind, sender and whether it was deleted.
const TARGET: &str = "SELECT kind, sender, deleted_ts IS NOT NULL FROM messages \
     WHERE room_id = $1 AND seq = $2";

/// The target's distinct emoji, whether `$3` is one, whether `$4` reacted with it.
const REACTIONS: &str = "SELECT count(DISTINCT emoji), coalesce(bool_or(emoji = $3), false), \
            coalesce(bool_or(emoji = $3 AND user_name = $4), false) \
     FROM reactions WHERE room_id = $1 AND target = $2";

const EDIT: &str = "UPDATE messages SET body = $3, body_exact = $4, search = $5, edited_ts = $6 \
     WHERE room_id = $1 AND seq = $2";

const EDIT_INDEX: &str = "UPDATE message_search SET search = $3 WHERE room_id = $1 AND seq = $2";

const DELETE: &str = "UPDATE messages SET body = '', body_exact = NULL, data = NULL, \
            search = ''::tsvector, edited_ts = NULL, deleted_by = $3, deleted_ts = $4 \
     WHERE room_id = $1 AND seq = $2";

const DELETE_EDITS: &str = "UPDATE messages SET body = '', body_exact = NULL \
     WHERE room_id = $1 AND target = $2 AND kind = 'edit'";

const DELETE_INDEX: &str =
    "UPDATE message_search SET search = ''::tsvector WHERE room_id = $1 AND seq = $2";

const DELETE_REACTIONS: &str = "DELETE FROM reactions WHERE room_id = $1 AND target = $2";

const REACT: &str = "INSERT INTO reactions (room_id, target, emoji, user_name, seq) \
     VALUES ($1, $2, $3, $4, $5)";

const UNREACT: &str = "DELETE FROM reactions \
     WHERE room_id = $1 AND target = $2 AND emoji = $3 AND user_name = $4";

/// Checks a change against its target's state in the open transaction (its room locked);
/// `Ok(Ok(()))` for a message that is not a change.
pub(crate) async fn check(
    tx: &Transaction<'_>,
    room_id: i64,
    msg: &NewMessage,
) -> Result<chatcore::Result<()>, tokio_postgres::Error> {
    if !msg.kind.is_change() {
        return Ok(Ok(()));
    }
    let target = msg.target.map_or(0, codec::signed);
    let stmt = tx.prepare_cached(TARGET).await?;
    let row = tx.query_opt(&stmt, &[&room_id, &target]).await?;
    let found = match &row {
        Some(row) => {
            let kind: &str = row.try_get(0)?;
            let sender: &[u8] = row.try_get(1)?;
            let deleted: bool = row.try_get(2)?;
            Some((
                MessageKind::from_name(kind),
                String::from_utf8_lossy(sender),
                deleted,
            ))
        }
        None => None,
    };
    let state = found.as_ref().map(|(kind, sender, deleted)| TargetState {
        kind,
        sender,
        deleted: *deleted,
    });
    let stmt = tx.prepare_cached(REACTIONS).await?;
    let row = tx
        .query_one(
            &stmt,
            &[&room_id, &target, &msg.text, &msg.sender.as_bytes()],
        )
        .await?;
    let distinct: i64 = row.try_get(0)?;
    let reactions = ReactionState {
        used: row.try_get(1)?,
        mine: row.try_get(2)?,
        distinct: usize::try_from(distinct).unwrap_or(usize::MAX),
    };
    Ok(check_change(msg, state, reactions))
}

/// Applies a just-copied change event (already checked) to its target's state.
pub(crate) async fn apply(
    tx: &Transaction<'_>,
    room_id: i64,
    event: &Message,
) -> Result<(), tokio_postgres::Error> {
    let Some(target) = event.target.filter(|_| event.kind.is_change()) else {
        return Ok(());
    };
    let target = codec::signed(target);
    let sender = event.sender.as_bytes();
    match event.kind {
        MessageKind::Edit => {
            let (body, exact) = codec::body(&event.text);
            let search = Lexemes(codec::index_words(&event.text));
            let stmt = tx.prepare_cached(EDIT).await?;
            tx.execute(
                &stmt,
                &[&room_id, &target, &body, &exact, &search, &event.ts],
            )
            .await?;
            let stmt = tx.prepare_cached(EDIT_INDEX).await?;
            tx.execute(&stmt, &[&room_id, &target, &search]).await?;
        }
        MessageKind::Delete => {
            let stmt = tx.prepare_cached(DELETE).await?;
            tx.execute(&stmt, &[&room_id, &target, &sender, &event.ts])
                .await?;
            for sql in [DELETE_EDITS, DELETE_INDEX, DELETE_REACTIONS] {
                let stmt = tx.prepare_cached(sql).await?;
                tx.execute(&stmt, &[&room_id, &target]).await?;
            }
        }
        MessageKind::React => {
            let stmt = tx.prepare_cached(REACT).await?;
            let seq = codec::signed(event.seq);
            tx.execute(&stmt, &[&room_id, &target, &event.text, &sender, &seq])
                .await?;
        }
        MessageKind::Unreact => {
            let stmt = tx.prepare_cached(UNREACT).await?;
            tx.execute(&stmt, &[&room_id, &target, &event.text, &sender])
                .await?;
        }
        _ => {}
    }
    Ok(())
}
