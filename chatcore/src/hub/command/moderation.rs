//! Moderation actions on a user: `invite`, `kick`, `ban`, `unban`, `mute`, `unmute`,
//! `role`. The room-wide commands (`create`, `topic`, `members`, `block`, `delete_room`)
//! are in `room_admin.rs`; what an actor may do, and the commit both share, in
//! `authority.rs`.
//!
//! Who may do what (SECURITY.md, "Rooms with authority"): a moderator may kick, mute and set
//! the topic; an admin also ban, invite and promote up to moderator; the owner everything,
//! ownership transfer included. Nobody acts on someone of equal or higher role (themself
//! included). A server admin (the [`ADMIN_CLAIM`](crate::accounts::ADMIN_CLAIM)) acts
//! everywhere, on anyone. Every action is a room event committed with its state change and
//! audit row in one store transaction
//! ([`RoomAuthority::moderate`](crate::store::RoomAuthority::moderate)); a refused one
//! writes nothing.

use std::sync::Arc;

use super::authority::{Authority, authority, check_text, commit, until};
use super::host::leave_here;
use super::mention::notify_here;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::{Command, Event, MessageKind, Moderation, RequestId, Role, RoomKind};
use crate::{Error, Result, names};

/// A moderation action on a user, as asked.
enum Act {
    Invite,
    Kick(Option<String>),
    /// A ban or a mute (the event's kind), with its reason and duration.
    Restrict(MessageKind, Option<String>, Option<u64>),
    Unban,
    Unmute,
    Role(Role),
}

impl Act {
    /// The action a command asks for; `None` for a command of another family.
    fn of(command: Command) -> Option<(String, String, Self)> {
        Some(match command {
            Command::Invite { room, user } => (room, user, Act::Invite),
            Command::Kick { room, user, reason } => (room, user, Act::Kick(reason)),
            Command::Ban {
                room,
                user,
                reason,
                duration_s,
            } => (
                room,
                user,
                Act::Restrict(MessageKind::Ban, reason, duration_s),
            ),
            Command::Mute {
                room,
                user,
                duration_s,
                reason,
            } => (
                room,
                user,
                Act::Restrict(MessageKind::Mute, reason, duration_s),
            ),
            Command::Unban { room, user } => (room, user, Act::Unban),
            Command::Unmute { room, user } => (room, user, Act::Unmute),
            Command::Role { room, user, role } => (room, user, Act::Role(role)),
            _ => return None,
        })
    }

    /// The least room role that may take this action.
    fn needs(&self) -> Role {
        match self {
            Act::Kick(_) | Act::Restrict(MessageKind::Mute, ..) | Act::Unmute => Role::Moderator,
            _ => Role::Admin,
        }
    }
}

/// Runs one action of this family: check, commit, announce.
pub(crate) async fn dispatch(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    id: Option<RequestId>,
    command: Command,
) -> Result<()> {
    let (room, user, act) =
        Act::of(command).ok_or_else(|| Error::invalid("type", "not a moderation command"))?;
    names::validate_user(&user)?;
    let (record, me) = authority(core, &s.identity, &room).await?;
    if !me.has(act.needs()) {
        return Err(Error::Forbidden(format!(
            "only a room {} or above may do this in {room}",
            act.needs().as_str()
        )));
    }
    let target = core.store.member(&room, &user).await?.map(|m| m.role);
    if user == s.user() || !me.outranks(target.unwrap_or(Role::Member)) {
        return Err(Error::Forbidden(format!(
            "{user} is not below you in {room}"
        )));
    }
    let (kind, details, text) = event_of(&act, &me, s.user(), &user, &room, target, record.kind)?;
    commit(core, s, id, &room, kind.clone(), Some(details), text).await?;
    after(core, kind, &room, &user, s.user()).await
}

/// The event announcing `act` by `actor` on `user`, or why it is refused.
fn event_of(
    act: &Act,
    me: &Authority,
    actor: &str,
    user: &str,
    room: &str,
    target: Option<Role>,
    room_kind: RoomKind,
) -> Result<(MessageKind, Moderation, String)> {
    let not_member = || Error::NotMember(format!("{user} is no member of {room}"));
    Ok(match act {
        Act::Invite => {
            if room_kind != RoomKind::Private {
                return Err(Error::invalid("room", "a public room needs no invitation"));
            }
            let text = format!("{actor} invited {user}");
            (MessageKind::Invite, Moderation::on(user), text)
        }
        Act::Kick(reason) => {
            check_text("reason", reason.as_deref())?;
            target.ok_or_else(not_member)?;
            let text = with_reason(format!("{actor} kicked {user}"), reason);
            (MessageKind::Kick, on(user, reason, None), text)
        }
        Act::Restrict(kind, reason, duration_s) => {
            check_text("reason", reason.as_deref())?;
            let until = until(*duration_s)?;
            let verb = if *kind == MessageKind::Ban {
                "banned"
            } else {
                "muted"
            };
            let text = with_reason(
                format!("{actor} {verb} {user}{}", lasting(*duration_s)),
                reason,
            );
            (kind.clone(), on(user, reason, until), text)
        }
        Act::Unban => {
            let text = format!("{actor} unbanned {user}");
            (MessageKind::Unban, Moderation::on(user), text)
        }
        Act::Unmute => {
            let text = format!("{actor} unmuted {user}");
            (MessageKind::Unmute, Moderation::on(user), text)
        }
        Act::Role(role) => {
            target.ok_or_else(not_member)?;
            // The owner gives ownership away; below that nobody grants their own rank.
            let transfer =
                *role == Role::Owner && (me.role == Some(Role::Owner) || me.server_admin);
            if !transfer && !me.outranks(*role) {
                return Err(Error::Forbidden(format!(
                    "you may not make anyone {} in {room}",
                    role.as_str()
                )));
            }
            let title = match role {
                Role::Owner => "the owner",
                Role::Admin => "an admin",
                Role::Moderator => "a moderator",
                _ => "a member",
            };
            let text = format!("{actor} made {user} {title}");
            (MessageKind::SetRole, Moderation::on(user).role(*role), text)
        }
    })
}

/// What follows a committed action beyond the room: an invitee hears of it; a kicked or
/// banned user's sessions leave the room.
async fn after(
    core: &Arc<Core>,
    kind: MessageKind,
    room: &str,
    user: &str,
    actor: &str,
) -> Result<()> {
    match kind {
        MessageKind::Invite => {
            // The invitee has not joined: their sessions hear of it directly, on every node.
            core.bus.publish(BusEvent::Invitation {
                user: user.to_owned(),
                room: room.to_owned(),
                by: actor.to_owned(),
            });
            let event = Event::Invited {
                room: room.to_owned(),
                by: actor.to_owned(),
            };
            notify_here(core, user, event);
        }
        MessageKind::Kick | MessageKind::Ban => {
            // The user's sessions leave the room: here now, on the other nodes by the bus.
            leave_here(core, room, user).await?;
            core.bus.publish(BusEvent::Removed {
                room: room.to_owned(),
                user: user.to_owned(),
            });
        }
        _ => {}
    }
    Ok(())
}

fn on(user: &str, reason: &Option<String>, until: Option<i64>) -> Moderation {
    let mut m = Moderation::on(user);
    if let Some(r) = reason {
        m = m.reason(r.clone());
    }
    if let Some(u) = until {
        m = m.until(u);
    }
    m
}

fn with_reason(text: String, reason: &Option<String>) -> String {
    match reason {
        Some(r) if !r.is_empty() => format!("{text}: {r}"),
        _ => text,
    }
}

fn lasting(duration_s: Option<u64>) -> String {
    duration_s.map_or_else(String::new, |d| format!(" for {d} s"))
}
