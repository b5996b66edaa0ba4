//! [`Session`]: one connected client, and what each command does.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::outbox::SessionShared;
use super::room::Room;
use super::{CloseReason, Hub};
use crate::bus::BusEvent;
use crate::protocol::{Command, Event, MessageKind, Request, RequestId, RoomKind};
use crate::store::{HistoryQuery, NewMessage, NewRoom, Role};
use crate::{Error, Result, names};

/// One connected client. A transport's read pump owns it and feeds it frames; dropping it
/// takes the user offline in every room it joined (durable memberships stay).
#[derive(Debug)]
pub struct Session {
    hub: Hub,
    shared: Arc<SessionShared>,
}

impl Session {
    pub(crate) fn new(hub: Hub, shared: Arc<SessionShared>) -> Self {
        Self { hub, shared }
    }

    /// The session id (unique within the hub).
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// The authenticated user.
    pub fn user(&self) -> &str {
        &self.shared.user
    }

    /// The session's codec.
    pub fn codec(&self) -> crate::protocol::Codec {
        self.shared.codec
    }

    /// Why the session ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.shared.close_reason()
    }

    /// Ends the session; the transport's [`Outbound`](super::Outbound) then reports it.
    pub fn close(&self, reason: CloseReason) {
        self.shared.close(reason);
    }

    /// Decodes one frame in the session's codec and handles it. A frame that does not decode
    /// is answered with an error event (with the request id when it could be read).
    pub async fn handle_frame(&mut self, bytes: &[u8]) {
        match self.shared.codec.decode_request(bytes) {
            Ok(request) => self.handle(request).await,
            Err(e) => {
                self.shared.send(Event::error(e.id, e.code, e.detail));
            }
        }
    }

    /// Handles one request. Replies (and errors, with the request id) go to the outbound
    /// queue; a `send` is acknowledged there once the store committed it.
    pub async fn handle(&mut self, request: Request) {
        let id = request.id;
        if let Err(e) = self.dispatch(id, request.command).await {
            self.shared.send(Event::error(id, e.code(), e.to_string()));
        }
    }

    async fn dispatch(&mut self, id: Option<RequestId>, command: Command) -> Result<()> {
        let hub = &self.hub;
        let me = &self.shared;
        match command {
            Command::Join { room, resume_after } => hub.join(me, &room, resume_after, id).await,
            Command::Leave { room } => hub.leave(me, &room, id).await,
            Command::Send {
                room,
                text,
                nonce,
                kind,
                reply_to,
            } => {
                let joined = me.rooms().get(&room).cloned();
                let room = joined.ok_or(Error::NotMember(room))?;
                hub.send(me, &room, id, text, nonce, kind, reply_to)
            }
            Command::Dm { to, text, nonce } => hub.dm(me, &to, id, text, nonce).await,
            Command::Typing { room, on } => {
                let joined = me.rooms().get(&room).cloned();
                let room = joined.ok_or(Error::NotMember(room))?;
                hub.typing(me, &room, on);
                Ok(())
            }
            Command::History {
                room,
                before,
                after,
                limit,
            } => {
                let query = HistoryQuery {
                    before,
                    after,
                    limit: limit.unwrap_or(hub.inner.limits.history_on_join),
                };
                let page = hub.history(&room, Some(&me.user), query).await?;
                me.send(Event::History {
                    id,
                    room,
                    messages: page.messages,
                    has_more: page.has_more,
                });
                Ok(())
            }
            Command::Who { room } => {
                let online = hub.online(&room, Some(&me.user)).await?;
                me.send(Event::Presence { id, room, online });
                Ok(())
            }
            Command::Rooms {} => {
                let rooms = hub.list_rooms(Some(&me.user)).await?;
                me.send(Event::Rooms { id, rooms });
                Ok(())
            }
            Command::Ping {} => {
                me.send(Event::Pong { id });
                Ok(())
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.close(CloseReason::Normal);
        let rooms: Vec<Arc<Room>> = self.shared.rooms().drain().map(|(_, r)| r).collect();
        for room in rooms {
            self.hub.detach(&self.shared, &room);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let hub = self.hub.clone();
                rt.spawn(async move { hub.maybe_unsubscribe(&room).await });
            }
        }
        self.hub.forget_session(self.shared.id);
    }
}

impl Hub {
    /// Joins a session to a room by name, checking who may.
    async fn join(
        &self,
        s: &Arc<SessionShared>,
        name: &str,
        resume_after: Option<u64>,
        id: Option<RequestId>,
    ) -> Result<()> {
        let room = if let Some((a, b)) = names::dm_members(name) {
            if *s.user != *a && *s.user != *b {
                return Err(Error::Forbidden(format!(
                    "{name} is someone else's conversation"
                )));
            }
            self.load_room(name, None).await?
        } else {
            names::validate_room(name)?;
            let create = NewRoom {
                name: name.to_owned(),
                kind: RoomKind::Public,
                creator: s.user.to_string(),
                created: crate::now_millis(),
            };
            self.load_room(name, Some(create)).await?
        };
        match room.kind {
            RoomKind::Public => {
                self.inner
                    .store
                    .add_member(name, &s.user, Role::Member)
                    .await?;
            }
            RoomKind::Private => {
                if self.inner.store.member(name, &s.user).await?.is_none() {
                    return Err(Error::Forbidden(format!("{name} is invite-only")));
                }
            }
            RoomKind::Direct => {}
        }
        self.attach(s, &room, resume_after, id).await
    }

    /// Makes the session a live member and queues its `joined` frame: a snapshot taken under
    /// the room lock splits stored history (up to `last_seq`) from live delivery (after it),
    /// so the seam has no gap and no duplicate.
    pub(super) async fn attach(
        &self,
        s: &Arc<SessionShared>,
        room: &Arc<Room>,
        resume_after: Option<u64>,
        id: Option<RequestId>,
    ) -> Result<()> {
        {
            let mut rooms = s.rooms();
            if rooms.len() >= self.inner.limits.max_rooms_per_session {
                return Err(Error::invalid(
                    "room",
                    format!(
                        "a session may join at most {} rooms",
                        self.inner.limits.max_rooms_per_session
                    ),
                ));
            }
            match rooms.entry(room.name.clone()) {
                Entry::Occupied(_) => {
                    return Err(Error::invalid(
                        "room",
                        format!("already joined {}", room.name),
                    ));
                }
                Entry::Vacant(v) => {
                    v.insert(Arc::clone(room));
                }
            }
        }
        let snapshot = {
            let mut subscribed = room.subscription.lock().await;
            if !*subscribed {
                let ready = async {
                    self.inner.bus.subscribe(&room.name).await?;
                    self.inner.store.last_seq(&room.name).await
                };
                match ready.await {
                    Ok(last) => {
                        *subscribed = true;
                        room.fast_forward(last);
                    }
                    Err(e) => {
                        s.rooms().remove(&room.name);
                        return Err(e);
                    }
                }
            }
            room.register(Arc::clone(s))
        };
        if snapshot.came_online {
            self.publish_presence(&room.name, &s.user, true);
        }
        let limits = &self.inner.limits;
        let last = snapshot.last_seq;
        let query = match resume_after {
            Some(seen) if seen >= last => None,
            Some(seen) => Some(HistoryQuery {
                after: Some(seen),
                before: Some(last + 1),
                limit: limits.resume_limit,
            }),
            None => Some(HistoryQuery {
                after: None,
                before: Some(last + 1),
                limit: limits.history_on_join,
            }),
        };
        let (history, complete) = match query {
            None => (Vec::new(), true),
            Some(q) => match self.inner.store.history(&room.name, q).await {
                Ok(page) => (page.messages, resume_after.is_none() || !page.has_more),
                Err(e) => {
                    s.rooms().remove(&room.name);
                    self.detach(s, room);
                    return Err(e);
                }
            },
        };
        room.activate(
            s.id,
            Event::Joined {
                id,
                room: room.name.clone(),
                kind: room.kind,
                last_seq: last,
                online: room.online(),
                history,
                complete,
            },
        );
        Ok(())
    }

    /// Takes a session out of a room's live members (not out of its session map).
    pub(super) fn detach(&self, s: &Arc<SessionShared>, room: &Arc<Room>) {
        if room.deregister(s.id) == Some(true) {
            self.publish_presence(&room.name, &s.user, false);
        }
    }

    /// Drops the bus subscription of a room with no local member left.
    pub(super) async fn maybe_unsubscribe(&self, room: &Arc<Room>) {
        let mut subscribed = room.subscription.lock().await;
        if *subscribed && room.local_members() == 0 {
            match self.inner.bus.unsubscribe(&room.name).await {
                Ok(()) => *subscribed = false,
                Err(e) => tracing::warn!(room = %room.name, error = %e, "bus unsubscribe failed"),
            }
        }
    }

    async fn leave(&self, s: &Arc<SessionShared>, name: &str, id: Option<RequestId>) -> Result<()> {
        let room = s
            .rooms()
            .remove(name)
            .ok_or_else(|| Error::NotMember(name.to_owned()))?;
        self.detach(s, &room);
        if room.kind != RoomKind::Direct {
            self.inner.store.remove_member(name, &s.user).await?;
        }
        self.maybe_unsubscribe(&room).await;
        s.send(Event::Left {
            id,
            room: name.to_owned(),
        });
        Ok(())
    }

    /// Validates and queues a message; the ack follows the commit on a task of its own so the
    /// session can keep reading (sends pipeline, and still commit in the order sent).
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        s: &Arc<SessionShared>,
        room: &Arc<Room>,
        id: Option<RequestId>,
        text: String,
        nonce: Option<String>,
        kind: MessageKind,
        reply_to: Option<u64>,
    ) -> Result<()> {
        let limits = &self.inner.limits;
        if text.trim().is_empty() {
            return Err(Error::invalid("text", "must not be empty"));
        }
        if text.len() > limits.max_text_bytes {
            return Err(Error::TooLarge {
                what: "text",
                size: text.len(),
                limit: limits.max_text_bytes,
            });
        }
        if let Some(n) = &nonce {
            if n.is_empty() || n.len() > limits.max_nonce_bytes {
                return Err(Error::invalid(
                    "nonce",
                    format!("must be 1 to {} bytes", limits.max_nonce_bytes),
                ));
            }
        }
        if kind == MessageKind::Unknown {
            return Err(Error::invalid("kind", "unknown message kind"));
        }
        let pending = self.inner.store.append(NewMessage {
            room: room.name.clone(),
            id: ulid::Ulid::generate().to_string(),
            sender: s.user.to_string(),
            kind,
            text,
            ts: crate::now_millis(),
            nonce,
            reply_to,
        });
        self.send_started();
        let hub = self.clone();
        let s = Arc::clone(s);
        let room = Arc::clone(room);
        tokio::spawn(async move {
            match pending.await {
                Ok(appended) => {
                    let m = &appended.message;
                    let ack = Event::Ack {
                        id,
                        room: m.room.clone(),
                        seq: m.seq,
                        msg_id: m.id.clone(),
                        ts: m.ts,
                        duplicate: appended.duplicate,
                    };
                    if !appended.duplicate {
                        hub.committed(&room, appended.message);
                    }
                    s.send(ack);
                }
                Err(e) => {
                    tracing::warn!(room = %room.name, error = %e, "append failed");
                    s.send(Event::error(id, e.code(), e.to_string()));
                }
            }
            hub.send_finished();
        });
        Ok(())
    }

    /// A direct message: creates the two-member room on first use, joins the sender and the
    /// recipient's sessions on this node to it, invites the recipient's sessions on other
    /// nodes unless they are in the room already, then sends.
    async fn dm(
        &self,
        s: &Arc<SessionShared>,
        to: &str,
        id: Option<RequestId>,
        text: String,
        nonce: Option<String>,
    ) -> Result<()> {
        let room = self.dm_room(&s.user, to).await?;
        for session in std::iter::once(Arc::clone(s)).chain(self.sessions_of(to)) {
            if !session.rooms().contains_key(&room.name) {
                match self.attach(&session, &room, None, None).await {
                    Ok(()) | Err(Error::Invalid { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if !room.online_elsewhere(to) {
            self.inner.bus.publish(BusEvent::Invite {
                user: to.to_owned(),
                room: room.name.clone(),
            });
        }
        self.send(s, &room, id, text, nonce, MessageKind::Text, None)
    }

    fn typing(&self, s: &Arc<SessionShared>, room: &Arc<Room>, on: bool) {
        let event = Event::Typing {
            room: room.name.clone(),
            user: s.user.to_string(),
            on,
        };
        room.broadcast_except(event, s.id);
        self.inner.bus.publish(BusEvent::Typing {
            room: room.name.clone(),
            user: s.user.to_string(),
            on,
        });
    }
}
