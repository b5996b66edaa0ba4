//! Commands on a whole room: `create`, `topic`, `members`, `delete_room`, and a user's
//! `block`/`unblock`; each also serves the REST API through [`Hub`](crate::Hub) with the
//! caller's [`Identity`] instead of a session.
//!
//! `delete_room` (the room's owner, or a server admin): the store deletes everything of the
//! room but its audit log in one transaction
//! ([`RoomAuthority::delete_room`](crate::store::RoomAuthority::delete_room)); then every
//! session that had it joined, here at once and on the other nodes through
//! [`BusEvent::RoomDeleted`], gets `room_deleted` and `left`, and each node forgets the
//! loaded room, so the next `join`, `history` or `search` reads the store and finds no room.

use std::sync::Arc;

use super::authority::{authority, check_text, commit, commit_event};
use super::join::{detach, maybe_unsubscribe};
use crate::accounts::is_server_admin;
use crate::auth::Identity;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::{Event, Member, MessageKind, RequestId, Role, RoomKind, RoomSummary};
use crate::store::{AuditEntry, NewRoom};
use crate::{Error, Result, names};

/// `create`: a new public or private room owned by `identity`, with an optional first
/// topic and a description; its summary.
pub(crate) async fn create(
    core: &Arc<Core>,
    identity: &Identity,
    room: &str,
    kind: RoomKind,
    topic: Option<String>,
    description: Option<String>,
) -> Result<RoomSummary> {
    names::validate_room(room)?;
    check_text("topic", topic.as_deref())?;
    check_text("description", description.as_deref())?;
    let actor = identity.user.as_str();
    if kind == RoomKind::Direct {
        return Err(Error::invalid(
            "kind",
            "direct rooms are made by the dm command",
        ));
    }
    if core.store.room(room).await?.is_some() {
        return Err(Error::RoomTaken(room.to_owned()));
    }
    if let Some(policy) = &core.policy {
        policy.create_room(identity, room, kind).await?;
    }
    let record = core
        .store
        .create_room(NewRoom {
            name: room.to_owned(),
            kind,
            creator: actor.to_owned(),
            created: crate::clock::now_millis(),
        })
        .await
        .map_err(|e| match e {
            // A deleted room's name is never a room again.
            Error::UnknownRoom(_) => {
                Error::RoomTaken(format!("{room} (a deleted room keeps its name)"))
            }
            e => e,
        })?;
    if record.creator != actor {
        // Someone else created it between the check and the insert.
        return Err(Error::RoomTaken(room.to_owned()));
    }
    core.store.add_member(room, actor, Role::Owner).await?;
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        core.store.set_description(room, Some(&description)).await?;
    }
    if let Some(topic) = topic.filter(|t| !t.is_empty()) {
        commit_event(core, actor, room, MessageKind::Topic, None, topic).await?;
    }
    super::query::room_info(core, room, Some(actor)).await
}

/// The `create` command.
pub(crate) async fn create_command(
    core: &Arc<Core>,
    s: &SessionState,
    id: Option<RequestId>,
    room: &str,
    kind: RoomKind,
    topic: Option<String>,
    description: Option<String>,
) -> Result<()> {
    let summary = create(core, &s.identity, room, kind, topic, description).await?;
    s.queue.send(Event::Created { id, room: summary });
    Ok(())
}

/// `topic`: moderators and up.
pub(crate) async fn topic_command(
    core: &Arc<Core>,
    s: &SessionState,
    id: Option<RequestId>,
    room: &str,
    topic: String,
) -> Result<()> {
    check_text("topic", Some(&topic))?;
    let (_, me) = authority(core, &s.identity, room).await?;
    if !me.has(Role::Moderator) {
        return Err(Error::Forbidden(format!(
            "only a room moderator or above may set the topic of {room}"
        )));
    }
    commit(core, s, id, room, MessageKind::Topic, None, topic).await
}

/// The durable members with roles, for whoever may read the room.
pub(crate) async fn members(core: &Core, viewer: &str, room: &str) -> Result<Vec<Member>> {
    names::validate_room(room)?;
    super::query::room_info(core, room, Some(viewer)).await?;
    core.store.members(room).await
}

/// The `members` command.
pub(crate) async fn members_command(
    core: &Core,
    s: &SessionState,
    id: Option<RequestId>,
    room: &str,
) -> Result<()> {
    let members = members(core, s.user(), room).await?;
    s.queue.send(Event::Members {
        id,
        room: room.to_owned(),
        members,
    });
    Ok(())
}

/// A page of the room's audit log, newest first, for its admins and up or a server admin.
/// A server admin also reads a deleted room's log; to anyone else a room they may not see
/// is unknown.
pub(crate) async fn audit(
    core: &Core,
    identity: &Identity,
    room: &str,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    names::validate_room(room)?;
    if !is_server_admin(identity) {
        let record = super::query::readable(core, room, Some(&identity.user))
            .await
            .map_err(|e| match e {
                Error::Forbidden(_) => Error::UnknownRoom(room.to_owned()),
                e => e,
            })?;
        let role = core
            .store
            .member(room, &identity.user)
            .await?
            .map(|m| m.role);
        if record.kind == RoomKind::Direct || role.is_none_or(|r| r < Role::Admin) {
            return Err(Error::Forbidden(format!(
                "only a room admin or above may read the audit log of {room}"
            )));
        }
    }
    core.store.audit(room, before, limit).await
}

/// `delete_room`: the owner or a server admin deletes the room on every node; the audit
/// row. A `caller` session gets its answer (with the request id) before its `left`.
pub(crate) async fn delete(
    core: &Arc<Core>,
    identity: &Identity,
    room: &str,
    caller: Option<(&SessionState, Option<RequestId>)>,
) -> Result<AuditEntry> {
    let (_, me) = authority(core, identity, room).await?;
    if !me.has(Role::Owner) {
        return Err(Error::Forbidden(format!(
            "only the owner of {room} or a server admin may delete it"
        )));
    }
    let by = identity.user.as_str();
    let entry = core
        .store
        .delete_room(room, by, crate::clock::now_millis())
        .await?;
    core.bus.publish(BusEvent::RoomDeleted {
        room: room.to_owned(),
        by: by.to_owned(),
    });
    let answered = caller.map(|(s, id)| {
        s.queue.send(Event::RoomDeleted {
            id,
            room: room.to_owned(),
            by: by.to_owned(),
        });
        s.id()
    });
    deleted_here(core, room, by, answered).await;
    Ok(entry)
}

/// A room was deleted: every session here that joined it gets `room_deleted` (but the
/// session `answered` already) and `left`, and the node forgets the loaded room.
pub(crate) async fn deleted_here(core: &Core, room: &str, by: &str, answered: Option<u64>) {
    let sessions = core.sessions_where(|_| true);
    let mut loaded = None;
    for s in sessions {
        let Some(joined) = s.joined().remove(room) else {
            continue;
        };
        detach(core, &s, &joined);
        if answered != Some(s.id()) {
            s.queue.send(Event::RoomDeleted {
                id: None,
                room: room.to_owned(),
                by: by.to_owned(),
            });
        }
        s.queue.send(Event::Left {
            id: None,
            room: room.to_owned(),
        });
        loaded = Some(joined);
    }
    if let Some(joined) = loaded.or_else(|| core.loaded(room)) {
        maybe_unsubscribe(core, &joined).await;
    }
    core.forget_room(room);
}

/// `block` / `unblock`.
pub(crate) async fn block(
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
