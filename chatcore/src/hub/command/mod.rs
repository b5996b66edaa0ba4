//! The command layer: one file per command family, and the dispatch table below.
//!
//! A command takes the registry ([`Core`]) and the session's state, and goes down from there
//! (store, bus, room, queue); it never calls back into the session or the hub facade. A new
//! command gets a file of its own and one arm here.

mod dm;
mod host;
mod join;
mod query;
mod send;
mod typing;

use std::sync::Arc;

pub use host::{HostPost, Posted, Sender};
pub(crate) use host::{
    add_member, create_room, disconnect_here, disconnect_user, leave_here, post, remove_member,
    revoke, revoke_here,
};
pub(crate) use join::{attach, detach_all};
pub(crate) use query::{history, list_rooms, online, room_info};

use super::core::Core;
use super::session::state::SessionState;
use crate::Result;
use crate::protocol::{Command, Event, RequestId};

/// Refuses a message or a join over the hub's per-user, per-IP or per-room rates, before
/// anything is read or written. Sessions the host opened itself are not limited.
fn throttle(core: &Core, s: &SessionState, command: &Command) -> Result<()> {
    let Some(peer) = &s.peer else {
        return Ok(());
    };
    let user = &s.queue.user;
    match command {
        Command::Send { .. } | Command::Dm { .. } => core.throttle.message(user, peer.ip()),
        Command::Join { room, .. } => {
            // Only a valid room name becomes a key: a flood of junk names holds no memory.
            let key = crate::names::validate_room(room)
                .is_ok()
                .then_some(room.as_str());
            core.throttle.join(user, peer.ip(), key)
        }
        _ => Ok(()),
    }
}

/// Runs one command for a session. Replies and errors go to the session's queue by the
/// caller; a `send` is acknowledged there once the store committed it.
pub(crate) async fn dispatch(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    id: Option<RequestId>,
    command: Command,
) -> Result<()> {
    throttle(core, s, &command)?;
    match command {
        Command::Join { room, resume_after } => join::join(core, s, &room, resume_after, id).await,
        Command::Leave { room } => join::leave(core, s, &room, id).await,
        Command::Send {
            room,
            text,
            nonce,
            kind,
            reply_to,
            data,
        } => {
            let room = s.room(&room)?;
            let mut post = send::Post {
                text,
                nonce,
                kind,
                reply_to,
                data,
            };
            send::screen(core, s, &room.name, &mut post).await?;
            send::send(core, s, room, id, post)
        }
        Command::Dm { to, text, nonce } => dm::dm(core, s, &to, id, text, nonce).await,
        Command::Typing { room, on } => typing::typing(core, s, &room, on),
        Command::History {
            room,
            before,
            after,
            limit,
        } => query::history_command(core, s, id, room, before, after, limit).await,
        Command::Who { room } => query::who_command(core, s, id, room).await,
        Command::Rooms {} => query::rooms_command(core, s, id).await,
        Command::Ping {} => {
            s.queue.send(Event::Pong { id });
            Ok(())
        }
    }
}
