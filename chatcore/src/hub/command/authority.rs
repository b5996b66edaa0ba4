//! What an actor may do in a room, and the commit every moderation action shares: the
//! leaf of the moderation family (`moderation.rs` acts on users, `room_admin.rs` on rooms;
//! both call down here, never each other).

use std::sync::Arc;

use super::host::announce;
use crate::accounts::is_server_admin;
use crate::auth::Identity;
use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::{Event, MessageKind, Moderation, RequestId, Role, RoomKind};
use crate::store::{NewMessage, RoomRecord};
use crate::{Error, Result, names};

/// Longest reason, topic or description, in bytes.
pub(crate) const MAX_REASON_BYTES: usize = 500;

/// Longest ban or mute, in seconds (ten years); longer ones are refused as `invalid`.
pub(crate) const MAX_DURATION_S: u64 = 10 * 365 * 24 * 3600;

/// What the actor may do in a room.
pub(crate) struct Authority {
    /// Their role (`None`: no member).
    pub(crate) role: Option<Role>,
    /// A server admin acts everywhere, on anyone.
    pub(crate) server_admin: bool,
}

impl Authority {
    /// Whether they hold at least `needed`.
    pub(crate) fn has(&self, needed: Role) -> bool {
        self.server_admin || self.role.is_some_and(|r| r >= needed)
    }

    /// Whether they may act on someone of role `target` (strictly below their own).
    pub(crate) fn outranks(&self, target: Role) -> bool {
        self.server_admin || self.role.is_some_and(|r| r > target)
    }
}

/// The room's record and `identity`'s authority in it; a direct room has none.
pub(crate) async fn authority(
    core: &Core,
    identity: &Identity,
    room: &str,
) -> Result<(RoomRecord, Authority)> {
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
    let role = core
        .store
        .member(room, &identity.user)
        .await?
        .map(|m| m.role);
    let server_admin = is_server_admin(identity);
    Ok((record, Authority { role, server_admin }))
}

/// Refuses a reason, topic or description over [`MAX_REASON_BYTES`].
pub(crate) fn check_text(field: &'static str, text: Option<&str>) -> Result<()> {
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
pub(crate) fn until(duration_s: Option<u64>) -> Result<Option<i64>> {
    let Some(d) = duration_s else { return Ok(None) };
    if d == 0 || d > MAX_DURATION_S {
        return Err(Error::invalid(
            "duration_s",
            format!("must be 1 to {MAX_DURATION_S} seconds"),
        ));
    }
    Ok(Some(crate::clock::now_millis() + (d as i64) * 1000))
}

/// Commits a moderation event by `actor` and announces it to the room; the stored event.
pub(crate) async fn commit_event(
    core: &Arc<Core>,
    actor: &str,
    room: &str,
    kind: MessageKind,
    details: Option<Moderation>,
    text: String,
) -> Result<crate::protocol::Message> {
    let loaded = core.load_room(room, None).await?;
    let appended = core
        .store
        .moderate(NewMessage {
            room: room.to_owned(),
            id: ulid::Ulid::generate().to_string(),
            sender: actor.to_owned(),
            kind,
            text,
            ts: crate::clock::now_millis(),
            moderation: details,
            ..NewMessage::default()
        })
        .await?;
    let stored = appended.message.clone();
    announce(core, &loaded, appended.message).await;
    Ok(stored)
}

/// [`commit_event`] for a session, acked to it with the request id.
pub(crate) async fn commit(
    core: &Arc<Core>,
    s: &SessionState,
    id: Option<RequestId>,
    room: &str,
    kind: MessageKind,
    details: Option<Moderation>,
    text: String,
) -> Result<()> {
    let m = commit_event(core, s.user(), room, kind, details, text).await?;
    s.queue.send(Event::Ack {
        id,
        room: m.room,
        seq: m.seq,
        msg_id: m.id,
        ts: m.ts,
        duplicate: false,
    });
    Ok(())
}
