//! The rules of change events (`edit`, `delete`, `react`, `unreact`) that only a store can
//! check atomically, with the write that stores the change, written once for every backend.
//!
//! The hub checks what never changes before it appends a change (the target exists, who sent
//! it, the caller's role); the store checks again, inside the transaction that stores the
//! event, what a concurrent change may have altered: the target still exists and is not
//! deleted, the reaction is (or is not) there, the message has room for another emoji. A
//! refused change writes nothing and burns no seq.

use super::types::NewMessage;
use crate::protocol::MessageKind;
use crate::{Error, Result};

/// Most distinct emoji one message may carry as reactions.
pub const MAX_REACTION_EMOJI: usize = 20;

/// What a store knows about a change's target when it appends the change.
#[derive(Debug, Clone, Copy)]
pub struct TargetState<'a> {
    /// The target's kind.
    pub kind: &'a MessageKind,
    /// Who sent the target.
    pub sender: &'a str,
    /// Whether the target was deleted.
    pub deleted: bool,
}

/// What a store knows about the target's reactions when it appends a `react` or `unreact`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReactionState {
    /// The change's sender already reacted to the target with the change's emoji.
    pub mine: bool,
    /// Someone reacted to the target with the change's emoji.
    pub used: bool,
    /// How many distinct emoji the target carries.
    pub distinct: usize,
}

/// Checks a change event against its target's state at commit; `Ok` for a message that is
/// not a change. `target` is `None` when no message with the change's `target` seq is in the
/// room.
///
/// Refusals: a missing, deleted or reserved-kind (change or moderation event) target is
/// [`Error::Invalid`] on `target`; an edit of someone else's message is
/// [`Error::Forbidden`], deleted or not (checked before the target's state); a repeated
/// `react`, an `unreact` of a reaction the sender does not have, or a new emoji past
/// [`MAX_REACTION_EMOJI`] is [`Error::Invalid`] on `emoji`.
pub fn check_change(
    change: &NewMessage,
    target: Option<TargetState<'_>>,
    reactions: ReactionState,
) -> Result<()> {
    if !change.kind.is_change() {
        return Ok(());
    }
    let Some(seq) = change.target else {
        return Err(Error::invalid("target", "a change event needs a target"));
    };
    let Some(target) = target else {
        return Err(Error::invalid(
            "target",
            format!("no message {seq} in room {}", change.room),
        ));
    };
    if target.kind.is_reserved() {
        return Err(Error::invalid(
            "target",
            format!("message {seq} is an event, not a message"),
        ));
    }
    // Who may act comes before the target's state: another's message is `forbidden` to
    // edit, deleted or not.
    if change.kind == MessageKind::Edit && target.sender != change.sender {
        return Err(Error::Forbidden(format!(
            "message {seq} is {}'s; only its sender edits it",
            target.sender
        )));
    }
    if target.deleted {
        return Err(Error::invalid(
            "target",
            format!("message {seq} was deleted"),
        ));
    }
    match change.kind {
        MessageKind::React if reactions.mine => Err(Error::invalid(
            "emoji",
            format!("already reacted to message {seq} with it"),
        )),
        MessageKind::React if !reactions.used && reactions.distinct >= MAX_REACTION_EMOJI => {
            Err(Error::invalid(
                "emoji",
                format!("message {seq} has {MAX_REACTION_EMOJI} distinct emoji already"),
            ))
        }
        MessageKind::Unreact if !reactions.mine => Err(Error::invalid(
            "emoji",
            format!("no such reaction of yours on message {seq}"),
        )),
        _ => Ok(()),
    }
}
