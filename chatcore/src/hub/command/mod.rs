//! The command layer: one file per command family, and the dispatch table below.
//!
//! A command takes the registry ([`Core`]) and the session's state, and goes down from there
//! (store, bus, room, queue); it never calls back into the session or the hub facade. A new
//! command gets a file of its own and one arm here.

mod authority;
mod change;
mod dm;
mod host;
mod join;
mod mention;
mod moderation;
mod query;
mod read;
mod restrict;
mod room_admin;
mod search;
mod send;
mod thread;
mod typing;

use std::sync::Arc;

pub use host::{HostPost, Posted, Sender};
pub(crate) use host::{
    add_member, create_room, disconnect_here, disconnect_user, leave_here, post, remove_member,
    revoke, revoke_here,
};
pub(crate) use join::{attach, detach_all};
pub(crate) use mention::notify_here;
pub(crate) use query::{history, list_rooms, online, room_info};
pub(crate) use read::{moved_here, spawn_read_timers};
pub(crate) use room_admin::delete as delete_room;
pub(crate) use room_admin::{audit, create, deleted_here, members};
pub use search::SearchPage;
pub(crate) use search::search;

use super::core::Core;
use super::session::state::SessionState;
use crate::Result;
use crate::protocol::{Command, Event, MessageKind, RequestId};
use change::Change;
use search::Found as Lookup;

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
            restrict::refuse_send(core, &room, s.user()).await?;
            let mut post = send::Post {
                text,
                nonce,
                kind,
                reply_to,
                data,
                mentions: Vec::new(),
            };
            send::screen(core, s, &room.name, &mut post).await?;
            post.mentions = mention::resolve(core, &room.name, s.user(), &post.text).await?;
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
        Command::Read { room, seq } => read::read(core, s, id, room, seq).await,
        Command::Search {
            q,
            room,
            before,
            limit,
        } => {
            let page =
                search::search(core, Some(s.user()), &q, room, before.as_deref(), limit).await?;
            s.queue.send(Event::SearchResults {
                id,
                hits: page.hits,
                next: page.next,
            });
            Ok(())
        }
        Command::Lookup { what, prefix } => {
            let event = match search::lookup(core, Some(s.user()), what, &prefix).await? {
                Lookup::Rooms(rooms) => Event::Rooms { id, rooms },
                Lookup::Users(users) => Event::Users { id, users },
            };
            s.queue.send(event);
            Ok(())
        }
        Command::Create {
            room,
            kind,
            topic,
            description,
        } => room_admin::create_command(core, s, id, &room, kind, topic, description).await,
        Command::Topic { room, topic } => {
            room_admin::topic_command(core, s, id, &room, topic).await
        }
        Command::Members { room } => room_admin::members_command(core, s, id, &room).await,
        Command::Block { user } => room_admin::block(core, s, id, user, true).await,
        Command::Unblock { user } => room_admin::block(core, s, id, user, false).await,
        Command::DeleteRoom { room } => room_admin::delete(core, &s.identity, &room, Some((s, id)))
            .await
            .map(drop),
        command @ (Command::Invite { .. }
        | Command::Kick { .. }
        | Command::Ban { .. }
        | Command::Unban { .. }
        | Command::Mute { .. }
        | Command::Unmute { .. }
        | Command::Role { .. }) => moderation::dispatch(core, s, id, command).await,
        Command::Edit { room, target, text } => {
            let kind = MessageKind::Edit;
            change::change(core, s, &room, id, Change { kind, target, text }).await
        }
        Command::Delete { room, target } => {
            let (kind, text) = (MessageKind::Delete, String::new());
            change::change(core, s, &room, id, Change { kind, target, text }).await
        }
        Command::React {
            room,
            target,
            emoji,
        } => {
            let (kind, text) = (MessageKind::React, emoji);
            change::change(core, s, &room, id, Change { kind, target, text }).await
        }
        Command::Unreact {
            room,
            target,
            emoji,
        } => {
            let (kind, text) = (MessageKind::Unreact, emoji);
            change::change(core, s, &room, id, Change { kind, target, text }).await
        }
        Command::Thread {
            room,
            root,
            after,
            limit,
        } => thread::thread_command(core, s, id, room, root, after, limit).await,
    }
}
