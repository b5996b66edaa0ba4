//! `edit`, `delete`, `react`, `unreact`: change events of an earlier message.
//!
//! The store checks every rule about the target in the transaction that stores the event
//! ([`check_change`](crate::store::check_change): it exists in the room, is a message and not
//! an event, is not deleted, an edit is its sender's, the reaction there or not, room for
//! another emoji), so an edit or a reaction asks the store nothing before it is queued: it
//! costs one store round trip, like a `send`. Only a `delete` of someone else's message reads
//! the target first, for the one rule the store cannot know: the deleter moderates the room.
//! A change is then delivered and acknowledged exactly like a `send` (a refused one gets its
//! `error` instead of the ack, and is neither stored nor delivered).

use std::sync::Arc;

use super::send::{Post, commit, screen};
use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::{Message, MessageKind, RequestId, Role, check_emoji};
use crate::store::{HistoryQuery, NewMessage};
use crate::{Error, Result};

/// One change a client asked for.
#[derive(Debug)]
pub(crate) struct Change {
    /// `edit`, `delete`, `react` or `unreact`.
    pub(crate) kind: MessageKind,
    /// Seq of the message changed.
    pub(crate) target: u64,
    /// The new text (edit), the emoji (react, unreact), empty (delete).
    pub(crate) text: String,
}

/// Checks, stores and delivers one change in a joined room; the ack follows the commit.
pub(crate) async fn change(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    room: &str,
    id: Option<RequestId>,
    mut change: Change,
) -> Result<()> {
    let room = s.room(room)?;
    match change.kind {
        MessageKind::Edit => {
            let mut post = Post {
                text: std::mem::take(&mut change.text),
                nonce: None,
                kind: MessageKind::Text,
                reply_to: None,
                data: None,
                mentions: Vec::new(),
            };
            // The host's policy screens (and may rewrite) an edit's text as it does a send's.
            screen(core, s, &room.name, &mut post).await?;
            post.check(core)?;
            change.text = post.text;
        }
        MessageKind::React | MessageKind::Unreact => check_emoji(&change.text)?,
        _ => change.text.clear(),
    }
    if change.kind == MessageKind::Delete {
        let target = target_message(core, &room.name, change.target).await?;
        // An event is refused as such (`invalid`) whoever asks, as the store would.
        if target.kind.is_reserved() {
            return Err(Error::invalid(
                "target",
                format!("message {} is an event, not a message", change.target),
            ));
        }
        if target.sender != s.user() && !may_moderate(core, s, &room.name).await? {
            return Err(Error::Forbidden(format!(
                "message {} is {}'s; only its sender or a moderator deletes it",
                change.target, target.sender
            )));
        }
    }
    let event = NewMessage {
        room: room.name.clone(),
        id: ulid::Ulid::generate().to_string(),
        sender: s.user().to_owned(),
        kind: change.kind,
        text: change.text,
        ts: crate::clock::now_millis(),
        target: Some(change.target),
        ..Default::default()
    };
    commit(core, s, room, id, event);
    Ok(())
}

/// The stored message at `seq` in `room`; `invalid` on `target` when there is none.
async fn target_message(core: &Core, room: &str, seq: u64) -> Result<Message> {
    let query = HistoryQuery {
        after: seq.checked_sub(1),
        before: seq.checked_add(1),
        limit: 1,
    };
    let page = core.store.history(room, query).await?;
    page.messages
        .into_iter()
        .find(|m| m.seq == seq)
        .ok_or_else(|| Error::invalid("target", format!("no message {seq} in room {room}")))
}

/// Whether the session's user moderates `room`: a room role of moderator or above, or a
/// server admin (the `admin` claim of an account's token).
async fn may_moderate(core: &Core, s: &SessionState, room: &str) -> Result<bool> {
    if s.is_server_admin() {
        return Ok(true);
    }
    let member = core.store.member(room, s.user()).await?;
    Ok(member.is_some_and(|m| m.role >= Role::Moderator))
}
