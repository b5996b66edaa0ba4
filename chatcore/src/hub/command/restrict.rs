//! What bans, mutes and blocks refuse, checked by `join`, `send` and `dm` before anything is
//! written. A timed restriction lapses by itself: it refuses only while it is active.

use crate::hub::core::Core;
use crate::hub::room::Room;
use crate::store::Restriction;
use crate::{Error, Result, names};

/// Refuses a join of a user banned from `room` (the same name, account or guest).
pub(crate) async fn refuse_banned(core: &Core, room: &str, user: &str) -> Result<()> {
    let now = crate::clock::now_millis();
    match core.store.ban(room, user).await? {
        Some(ban) if ban.active_at(now) => Err(banned(room, &ban, now)),
        _ => Ok(()),
    }
}

/// The refusal of a join by a user `ban` keeps out of `room`, saying for how long.
pub(crate) fn banned(room: &str, ban: &Restriction, now: i64) -> Error {
    Error::Forbidden(refusal(ban.until, now, &format!("banned from {room}"), ""))
}

/// Refuses a `send` of a muted user (saying for how long), or to a direct conversation
/// whose other member blocks the sender. Mutes are the room's, in memory: no store read.
pub(crate) async fn refuse_send(core: &Core, room: &Room, user: &str) -> Result<()> {
    if let Some((a, b)) = names::dm_members(&room.name) {
        let other = if a == user { b } else { a };
        return refuse_blocked(core, user, other).await;
    }
    let now = crate::clock::now_millis();
    match room.muted(user, now) {
        None => Ok(()),
        Some(until) => Err(Error::Forbidden(refusal(
            until,
            now,
            &format!("muted in {}", room.name),
            " until a moderator unmutes you",
        ))),
    }
}

/// Refuses a direct message to someone who blocks the sender.
pub(crate) async fn refuse_blocked(core: &Core, from: &str, to: &str) -> Result<()> {
    if core.store.blocks(to, from).await? {
        return Err(Error::Forbidden(format!(
            "{to} does not accept direct messages from you"
        )));
    }
    Ok(())
}

/// "you are {state} for N more s" (whole seconds left, rounded up) for a restriction
/// ending at `until`, "you are {state}{forever}" for one without an end.
fn refusal(until: Option<i64>, now: i64, state: &str, forever: &str) -> String {
    match until {
        Some(until) => format!("you are {state} for {} more s", (until - now + 999) / 1000),
        None => format!("you are {state}{forever}"),
    }
}
