//! What the host does from its own code, with no session: post as a user or as the system,
//! create rooms, change memberships. Same validation, nonce idempotency, commit, fan-out and
//! bus publish as a client's `send`; the ack is the returned value.

use std::sync::Arc;

use super::join;
use super::send::{Post, deliver};
use crate::accounts::Revoked;
use crate::bus::BusEvent;
use crate::hub::CloseReason;
use crate::hub::core::Core;
use crate::hub::room::Room;
use crate::hub::stats::Stats;
use crate::protocol::{Data, Message, MessageKind, RoomKind};
use crate::store::{NewMessage, NewRoom, Role, RoomRecord};
use crate::{Error, Result, names};

/// Who a host post is from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sender {
    /// The system ([`names::SYSTEM_USER`]); no client can connect under that name.
    System,
    /// A user (a valid user name); the host speaks for them.
    User(String),
}

impl Sender {
    fn name(&self) -> Result<&str> {
        match self {
            Sender::System => Ok(names::SYSTEM_USER),
            Sender::User(u) => names::validate_user(u).map(|()| u.as_str()),
        }
    }
}

/// A message the host posts with [`Hub::post`](crate::Hub::post).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostPost {
    /// The room (it must exist).
    pub room: String,
    /// Who it is from.
    pub sender: Sender,
    /// The text, checked against the hub's limits.
    pub text: String,
    /// The kind; `text` by default.
    pub kind: MessageKind,
    /// Idempotency key: posting again with the same sender and nonce returns the original.
    pub nonce: Option<String>,
    /// The seq this replies to.
    pub reply_to: Option<u64>,
    /// The structured payload (a card), usually with a custom kind; the text is then the
    /// fallback clients that do not know the kind show. Checked against the hub's limits.
    pub data: Option<Data>,
}

impl HostPost {
    /// A text message from the system.
    pub fn system(room: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            room: room.into(),
            sender: Sender::System,
            text: text.into(),
            kind: MessageKind::Text,
            nonce: None,
            reply_to: None,
            data: None,
        }
    }

    /// A text message from `user`.
    pub fn as_user(
        room: impl Into<String>,
        user: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            sender: Sender::User(user.into()),
            ..Self::system(room, text)
        }
    }

    /// With an idempotency key.
    pub fn with_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// With another kind (`emote`, or an application's own such as `shop.order`: see
    /// [`MessageKind::from_name`]).
    pub fn with_kind(mut self, kind: MessageKind) -> Self {
        self.kind = kind;
        self
    }

    /// With a structured payload (a JSON object; see [`Message::data`]).
    pub fn with_data(mut self, data: Data) -> Self {
        self.data = Some(data);
        self
    }

    /// As a reply to the message with seq `seq`.
    pub fn with_reply_to(mut self, seq: u64) -> Self {
        self.reply_to = Some(seq);
        self
    }
}

/// What a host post became: the stored message (for a duplicate nonce, the original).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Posted {
    /// The stored message, with its seq.
    pub message: Message,
    /// `true` when the nonce was used before and nothing new was stored or delivered.
    pub duplicate: bool,
}

/// Validates, appends, awaits the commit, then delivers as a client's send would.
pub(crate) async fn post(core: &Arc<Core>, host: HostPost) -> Result<Posted> {
    let post = Post {
        text: host.text,
        nonce: host.nonce,
        kind: host.kind,
        reply_to: host.reply_to,
        data: host.data,
        mentions: Vec::new(),
    };
    let sender = match host
        .sender
        .name()
        .and_then(|name| post.check(core).map(|()| name))
    {
        Ok(name) => name.to_owned(),
        Err(e) => {
            post.dispose();
            return Err(e);
        }
    };
    if names::dm_members(&host.room).is_none() {
        names::validate_room(&host.room)?;
    }
    let room = core.load_room(&host.room, None).await?;
    let appended = core
        .store
        .append(NewMessage {
            room: room.name.clone(),
            id: ulid::Ulid::generate().to_string(),
            sender,
            kind: post.kind,
            text: post.text,
            ts: crate::clock::now_millis(),
            nonce: post.nonce,
            reply_to: post.reply_to,
            data: post.data,
            ..Default::default()
        })
        .await?;
    let posted = Posted {
        message: appended.message.clone(),
        duplicate: appended.duplicate,
    };
    if !appended.duplicate {
        announce(core, &room, appended.message).await;
    }
    Ok(posted)
}

/// Delivers a message committed without a session's `send` (a host post, a moderation
/// event) to the room here and on the other nodes.
pub(super) async fn announce(core: &Core, room: &Arc<Room>, message: Message) {
    if *room.subscription.lock().await {
        deliver(core, room, message);
    } else {
        // Nobody here is subscribed: no local member to deliver to, and the room's
        // in-memory position may be behind other nodes' commits, so skip ahead.
        Stats::bump(&core.stats.messages_in);
        let seq = message.seq;
        core.bus.publish(BusEvent::Message(message));
        room.fast_forward(seq);
        core.wake.committed();
    }
}

/// Creates a room (idempotent: an existing room is returned as it is).
pub(crate) async fn create_room(
    core: &Core,
    name: &str,
    kind: RoomKind,
    creator: &str,
) -> Result<RoomRecord> {
    names::validate_room(name)?;
    if kind == RoomKind::Direct {
        return Err(Error::invalid(
            "kind",
            "direct rooms are made by the dm command",
        ));
    }
    core.store
        .create_room(NewRoom {
            name: name.to_owned(),
            kind,
            creator: creator.to_owned(),
            created: crate::clock::now_millis(),
        })
        .await
}

/// Makes `user` a durable member of an existing room (a private room's invitation).
pub(crate) async fn add_member(core: &Core, room: &str, user: &str, role: Role) -> Result<()> {
    names::validate_user(user)?;
    if core.store.room(room).await?.is_none() {
        return Err(Error::UnknownRoom(room.to_owned()));
    }
    core.store.add_member(room, user, role).await
}

/// Ends `user`'s durable membership; their sessions leave the room (each gets `left`): on
/// this node at once, on the others when the bus delivers [`BusEvent::Removed`].
pub(crate) async fn remove_member(core: &Core, room: &str, user: &str) -> Result<()> {
    names::validate_user(user)?;
    if core.store.room(room).await?.is_none() {
        return Err(Error::UnknownRoom(room.to_owned()));
    }
    leave_here(core, room, user).await?;
    core.store.remove_member(room, user).await?;
    core.bus.publish(BusEvent::Removed {
        room: room.to_owned(),
        user: user.to_owned(),
    });
    Ok(())
}

/// Takes `user`'s sessions on this node out of `room`.
pub(crate) async fn leave_here(core: &Core, room: &str, user: &str) -> Result<()> {
    if let Some(loaded) = core.loaded(room) {
        loaded.note_removal();
    }
    for s in core.sessions_of(user) {
        if s.joined().contains_key(room) {
            join::leave(core, &s, room, None).await?;
        }
    }
    Ok(())
}

/// Closes every session of `user` on this node ([`CloseReason::Normal`]); how many.
pub(crate) fn disconnect_here(core: &Core, user: &str) -> usize {
    let sessions = core.sessions_of(user);
    for s in &sessions {
        s.queue.close(CloseReason::Normal);
    }
    sessions.len()
}

/// Closes the sessions of account `account` on this node that `which` picks
/// ([`CloseReason::Revoked`]); how many.
pub(crate) fn revoke_here(core: &Core, account: &str, which: &Revoked) -> usize {
    let sessions = core.sessions_where(|identity| which.picks(account, identity));
    for s in &sessions {
        s.queue.close(CloseReason::Revoked);
    }
    sessions.len()
}

/// Closes the sessions of account `account` that `which` picks on every node: here at once
/// (returns how many), on the others when the bus delivers [`BusEvent::Revoke`].
pub(crate) fn revoke(core: &Core, account: &str, which: Revoked) -> usize {
    let closed = revoke_here(core, account, &which);
    core.bus.publish(BusEvent::Revoke {
        account: account.to_owned(),
        which,
    });
    closed
}

/// Closes every session of `user` on every node: here at once (returns how many), on the
/// others when the bus delivers [`BusEvent::Disconnect`].
pub(crate) fn disconnect_user(core: &Core, user: &str) -> usize {
    let closed = disconnect_here(core, user);
    core.bus.publish(BusEvent::Disconnect {
        user: user.to_owned(),
    });
    closed
}
