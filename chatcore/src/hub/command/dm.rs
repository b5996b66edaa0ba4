//! `dm`: a direct message, in the two-member room the pair shares.

use std::sync::Arc;

use super::join::attach;
use super::send::{Post, send};
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::room::Room;
use crate::hub::session::state::SessionState;
use crate::protocol::{MessageKind, RequestId, RoomKind};
use crate::store::{NewRoom, Role};
use crate::{Error, Result, names};

/// Creates the direct room on first use, joins the sender's and the recipient's sessions on
/// this node to it, invites the recipient's sessions on other nodes unless they are in the
/// room already, then sends.
pub(crate) async fn dm(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    to: &str,
    id: Option<RequestId>,
    text: String,
    nonce: Option<String>,
) -> Result<()> {
    let mut post = Post {
        text,
        nonce,
        kind: MessageKind::Text,
        reply_to: None,
        data: None,
        mentions: Vec::new(),
    };
    post.check(core)?;
    names::validate_user(to)?;
    super::restrict::refuse_blocked(core, s.user(), to).await?;
    if let Some(policy) = &core.policy {
        names::validate_user(to)?;
        let mut draft = post.take_draft();
        let verdict = policy.dm(&s.identity, to, &mut draft).await;
        post.put_draft(draft);
        verdict?;
        post.check(core)?;
    }
    let room = dm_room(core, s.user(), to).await?;
    for session in std::iter::once(Arc::clone(s)).chain(core.sessions_of(to)) {
        if !session.joined().contains_key(&room.name) {
            match attach(core, &session, &room, None, None).await {
                Ok(()) | Err(Error::Invalid { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    if !room.online_elsewhere(to) {
        core.bus.publish(BusEvent::Invite {
            user: to.to_owned(),
            room: room.name.clone(),
        });
    }
    send(core, s, room, id, post)
}

/// Loads a direct room, creating it with both durable members on first use.
async fn dm_room(core: &Core, me: &str, to: &str) -> Result<Arc<Room>> {
    names::validate_user(to)?;
    let name = names::dm_room(me, to);
    if core.loaded(&name).is_none() && core.store.room(&name).await?.is_none() {
        core.store
            .create_room(NewRoom {
                name: name.clone(),
                kind: RoomKind::Direct,
                creator: me.to_owned(),
                created: crate::clock::now_millis(),
            })
            .await?;
        core.store.add_member(&name, me, Role::Owner).await?;
        core.store.add_member(&name, to, Role::Owner).await?;
    }
    core.load_room(&name, None).await
}
