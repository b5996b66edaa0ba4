//! Rooms with authority: `create`, `invite`, `kick`, `ban`, `unban`, `mute`, `unmute`,
//! `topic`, `role`, `members`, `block`, `unblock`, and the checks `join`, `send` and `dm`
//! make against bans, invitations, mutes and blocks.
//!
//! Who may do what (SECURITY.md, "Rooms with authority"): a moderator may kick, mute and set
//! the topic; an admin also ban, invite and promote up to moderator; the owner everything,
//! ownership transfer included. Nobody acts on someone of equal or higher role (themself
//! included). A server admin (the [`ADMIN_CLAIM`](crate::accounts::ADMIN_CLAIM)) acts everywhere, on anyone. Every action
//! is a room event committed with its state change and audit row in one store transaction
//! ([`RoomAuthority::moderate`](crate::store::RoomAuthority::moderate)); a refused one
//! writes nothing.

use std::sync::Arc;

use super::host::{announce, leave_here};
use super::mention::notify_here;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::{Command, Event, MessageKind, Moderation, RequestId, Role, RoomKind};
use crate::store::{NewMessage, NewRoom, RoomRecord};
use crate::{Error, Result, names};

/// Longest reason or topic, in bytes.
pub(crate) const MAX_REASON_BYTES: usize = 500;

/// Longest ban or mute, in seconds (ten years); longer ones are refused as `invalid`.
pub(crate) const MAX_DURATION_S: u64 = 10 * 365 * 24 * 3600;

/// Runs one command of this family (the dispatch table sends only those here).
pub(crate) async fn dispatch(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    id: Option<RequestId>,
    command: Command,
) -> Result<()> {
    match command {
        Command::Create { room, kind, topic } => create(core, s, id, &room, kind, topic).await,
        Command::Members { room } => members(core, s, id, &room).await,
        Command::Block { user } => block(core, s, id, user, true).await,
        Command::Unblock { user } => block(core, s, id, user, false).await,
        Command::Invite { room, user } => act(core, s, id, &room, Act::Invite, &user).await,
        Command::Kick { room, user, reason } => {
            act(core, s, id, &room, Act::Kick(reason), &user).await
        }
        Command::Ban {
            room,
            user,
            reason,
            duration_s,
        } => act(core, s, id, &room, Act::Ban(reason, duration_s), &user).await,
        Command::Unban { room, user } => act(core, s, id, &room, Act::Unban, &user).await,
        Command::Mute {
            room,
            user,
            duration_s,
            reason,
        } => act(core, s, id, &room, Act::Mute(reason, duration_s), &user).await,
        Command::Unmute { room, user } => act(core, s, id, &room, Act::Unmute, &user).await,
        Command::Role { room, user, role } => act(core, s, id, &room, Act::Role(role), &user).await,
        Command::Topic { room, topic } => topic_command(core, s, id, &room, topic).await,
        _ => Err(Error::invalid("type", "not a moderation command")),
    }
}

/// A moderation action on a user, as asked.
enum Act {
    Invite,
    Kick(Option<String>),
    Ban(Option<String>, Option<u64>),
    Unban,
    Mute(Option<String>, Option<u64>),
    Unmute,
    Role(Role),
}

impl Act {
    /// The least room role that may take this action.
    fn needs(&self) -> Role {
        match self {
            Act::Kick(_) | Act::Mute(..) | Act::Unmute => Role::Moderator,
            Act::Invite | Act::Ban(..) | Act::Unban | Act::Role(_) => Role::Admin,
        }
    }
}

/// What the actor may do in a room.
struct Authority {
    /// Their role (`None`: no member).
    role: Option<Role>,
    /// A server admin acts everywhere, on anyone.
    server_admin: bool,
}

impl Authority {
    /// Whether they hold at least `needed`.
    fn has(&self, needed: Role) -> bool {
        self.server_admin || self.role.is_some_and(|r| r >= needed)
    }

    /// Whether they may act on someone of role `target` (strictly below their own).
    fn outranks(&self, target: Role) -> bool {
        self.server_admin || self.role.is_some_and(|r| r > target)
    }
}

async fn authority(core: &Core, s: &SessionState, room: &str) -> Result<(RoomRecord, Authority)> {
    names::validate_room(room)?;
    let record = core
        .store
        .room(room)
        .await?
        .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
    if record.kind == RoomKind::Direct {
        return Err(Error::Forbidden(
            "a direct conversation has no moderation".into(),
        ));
    }
    let role = core.store.member(room, s.user()).await?.map(|m| m.role);
    let server_admin = s.is_server_admin();
    Ok((record, Authority { role, server_admin }))
}

fn check_text(field: &'static str, text: Option<&str>) -> Result<()> {
    match text {
        Some(t) if t.len() > MAX_REASON_BYTES => Err(Error::TooLarge {
            what: field,
            size: t.len(),
            limit: MAX_REASON_BYTES,
        }),
        _ => Ok(()),
    }
}

/// The end of a ban or mute of `duration_s` from now.
fn until(duration_s: Option<u64>) -> Result<Option<i64>> {
    let Some(d) = duration_s else { return Ok(None) };
    if d == 0 || d > MAX_DURATION_S {
        return Err(Error::invalid(
            "duration_s",
            format!("must be 1 to {MAX_DURATION_S} seconds"),
        ));
    }
    Ok(Some(crate::clock::now_millis() + (d as i64) * 1000))
}

/// `invite`, `kick`, `ban`, `unban`, `mute`, `unmute`, `role`: check, commit, announce.
async fn act(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    id: Option<RequestId>,
    room: &str,
    act: Act,
    user: &str,
) -> Result<()> {
    names::validate_user(user)?;
    let (record, me) = authority(core, s, room).await?;
    if !me.has(act.needs()) {
        return Err(Error::Forbidden(format!(
            "only a room {} or above may do this in {room}",
            act.needs().as_str()
        )));
    }
    let target = core.store.member(room, user).await?.map(|m| m.role);
    if user == s.user() || !me.outranks(target.unwrap_or(Role::Member)) {
        return Err(Error::Forbidden(format!(
            "{user} is not below you in {room}"
        )));
    }
    let actor = s.user();
    let (kind, details, text) = match &act {
        Act::Invite => {
            if record.kind != RoomKind::Private {
                return Err(Error::invalid("room", "a public room needs no invitation"));
            }
            let text = format!("{actor} invited {user}");
            (MessageKind::Invite, Moderation::on(user), text)
        }
        Act::Kick(reason) => {
            check_text("reason", reason.as_deref())?;
            if target.is_none() {
                return Err(Error::NotMember(format!("{user} is no member of {room}")));
            }
            let text = with_reason(format!("{actor} kicked {user}"), reason);
            (MessageKind::Kick, on(user, reason, None), text)
        }
        Act::Ban(reason, duration_s) => {
            check_text("reason", reason.as_deref())?;
            let until = until(*duration_s)?;
            let text = with_reason(
                format!("{actor} banned {user}{}", lasting(*duration_s)),
                reason,
            );
            (MessageKind::Ban, on(user, reason, until), text)
        }
        Act::Unban => {
            let text = format!("{actor} unbanned {user}");
            (MessageKind::Unban, Moderation::on(user), text)
        }
        Act::Mute(reason, duration_s) => {
            check_text("reason", reason.as_deref())?;
            let until = until(*duration_s)?;
            let text = with_reason(
                format!("{actor} muted {user}{}", lasting(*duration_s)),
                reason,
            );
            (MessageKind::Mute, on(user, reason, until), text)
        }
        Act::Unmute => {
            let text = format!("{actor} unmuted {user}");
            (MessageKind::Unmute, Moderation::on(user), text)
        }
        Act::Role(role) => {
            if target.is_none() {
                return Err(Error::NotMember(format!("{user} is no member of {room}")));
            }
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
    };
    commit(core, s, id, room, kind.clone(), Some(details), text).await?;
    if kind == MessageKind::Invite {
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
    if matches!(kind, MessageKind::Kick | MessageKind::Ban) {
        // The user's sessions leave the room: here now, on the other nodes by the bus.
        leave_here(core, room, user).await?;
        core.bus.publish(BusEvent::Removed {
            room: room.to_owned(),
            user: user.to_owned(),
        });
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

/// Commits a moderation event, acks it to the actor and announces it to the room.
async fn commit(
    core: &Arc<Core>,
    s: &SessionState,
    id: Option<RequestId>,
    room: &str,
    kind: MessageKind,
    details: Option<Moderation>,
    text: String,
) -> Result<()> {
    let loaded = core.load_room(room, None).await?;
    let appended = core
        .store
        .moderate(NewMessage {
            room: room.to_owned(),
            id: ulid::Ulid::generate().to_string(),
            sender: s.user().to_owned(),
            kind,
            text,
            ts: crate::clock::now_millis(),
            moderation: details,
            ..NewMessage::default()
        })
        .await?;
    let m = &appended.message;
    s.queue.send(Event::Ack {
        id,
        room: m.room.clone(),
        seq: m.seq,
        msg_id: m.id.clone(),
        ts: m.ts,
        duplicate: false,
    });
    announce(core, &loaded, appended.message).await;
    Ok(())
}

/// `topic`: moderators and up.
async fn topic_command(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    id: Option<RequestId>,
    room: &str,
    topic: String,
) -> Result<()> {
    check_text("topic", Some(&topic))?;
    let (_, me) = authority(core, s, room).await?;
    if !me.has(Role::Moderator) {
        return Err(Error::Forbidden(format!(
            "only a room moderator or above may set the topic of {room}"
        )));
    }
    commit(core, s, id, room, MessageKind::Topic, None, topic).await
}

/// `create`: a new public or private room owned by the caller, with an optional first topic.
async fn create(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    id: Option<RequestId>,
    room: &str,
    kind: RoomKind,
    topic: Option<String>,
) -> Result<()> {
    names::validate_room(room)?;
    check_text("topic", topic.as_deref())?;
    if kind == RoomKind::Direct {
        return Err(Error::invalid(
            "kind",
            "direct rooms are made by the dm command",
        ));
    }
    if core.store.room(room).await?.is_some() {
        return Err(Error::Forbidden(format!("{room} exists already")));
    }
    if let Some(policy) = &core.policy {
        policy.create_room(&s.identity, room, kind).await?;
    }
    let record = core
        .store
        .create_room(NewRoom {
            name: room.to_owned(),
            kind,
            creator: s.user().to_owned(),
            created: crate::clock::now_millis(),
        })
        .await?;
    if record.creator != s.user() {
        // Someone else created it between the check and the insert.
        return Err(Error::Forbidden(format!("{room} exists already")));
    }
    core.store.add_member(room, s.user(), Role::Owner).await?;
    if let Some(topic) = topic.filter(|t| !t.is_empty()) {
        let loaded = core.load_room(room, None).await?;
        let appended = core
            .store
            .moderate(NewMessage {
                room: room.to_owned(),
                id: ulid::Ulid::generate().to_string(),
                sender: s.user().to_owned(),
                kind: MessageKind::Topic,
                text: topic,
                ts: crate::clock::now_millis(),
                ..NewMessage::default()
            })
            .await?;
        announce(core, &loaded, appended.message).await;
    }
    let summary = super::query::room_info(core, room, Some(s.user())).await?;
    s.queue.send(Event::Created { id, room: summary });
    Ok(())
}

/// `members`: the durable members with roles, for whoever may read the room.
async fn members(core: &Core, s: &SessionState, id: Option<RequestId>, room: &str) -> Result<()> {
    super::query::room_info(core, room, Some(s.user())).await?;
    let members = core.store.members(room).await?;
    s.queue.send(Event::Members {
        id,
        room: room.to_owned(),
        members,
    });
    Ok(())
}

/// `block` / `unblock`.
async fn block(
    core: &Core,
    s: &SessionState,
    id: Option<RequestId>,
    user: String,
    on: bool,
) -> Result<()> {
    names::validate_user(&user)?;
    if user == s.user() {
        return Err(Error::invalid("user", "you cannot block yourself"));
    }
    core.store.set_block(s.user(), &user, on).await?;
    s.queue.send(Event::Blocked { id, user, on });
    Ok(())
}
