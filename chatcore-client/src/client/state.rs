//! The state every task of a client shares: requests waiting for replies, joined rooms, and
//! the current connection's writer. Guarded by one `std::sync::Mutex`: every critical section
//! is short and never awaits (sending to the writer is an unbounded, synchronous send).

use std::collections::{BTreeMap, HashMap};

use chatcore::ErrorCode;
use chatcore::protocol::{Codec, Command, Event, Request, RequestId};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::rooms::{PAGE, PageRequest, RoomTracker};
use crate::error::{DisconnectReason, Error, Result};
use crate::events::ClientEvent;
use crate::types::{Joined, SessionInfo};

/// What the writer task of a connection is asked to do.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Write this frame.
    Frame(WsMessage),
    /// Send a normal close frame and stop.
    Close,
}

/// How a caller's `join` sets up delivery once the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinMode {
    /// Recent history goes to the caller; the stream yields messages after `last_seq`.
    Fresh,
    /// The stream yields every message after this seq, then live ones.
    After(u64),
}

/// Why a request is waiting.
#[derive(Debug)]
pub(crate) enum Purpose {
    /// A caller awaits the reply. Retried on every new connection until answered, timed
    /// out or abandoned.
    Caller {
        reply: oneshot::Sender<Result<Event>>,
        join: Option<JoinMode>,
    },
    /// Rejoining a tracked room after a reconnect.
    Rejoin { room: String },
    /// Filling a gap in a room's delivery.
    Page { room: String, page: PageRequest },
}

/// A request waiting for its reply.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) request: Request,
    pub(crate) purpose: Purpose,
}

/// The shared state.
#[derive(Debug)]
pub(crate) struct State {
    codec: Codec,
    /// Request ids, counted up from 1; allocated under the lock so a retry never races a send.
    next_id: RequestId,
    /// The current connection's writer; `None` while disconnected.
    writer: Option<mpsc::UnboundedSender<Outgoing>>,
    /// The current session; `None` while disconnected.
    pub(crate) session: Option<SessionInfo>,
    /// The server's text limit from the last `welcome` (checked before sending).
    pub(crate) max_text_bytes: usize,
    /// Requests waiting for replies, by id (so retries go out in the order asked).
    pending: BTreeMap<RequestId, Pending>,
    /// Joined rooms and their delivery state.
    rooms: HashMap<String, RoomTracker>,
    /// Set once the client stopped for good.
    pub(crate) closed: Option<DisconnectReason>,
}

impl State {
    /// The state of a client connected already (`session`: the writer follows as soon as the
    /// supervisor starts) or not yet (`None`: no text limit is known, the server checks it).
    pub(crate) fn new(codec: Codec, session: Option<SessionInfo>) -> Self {
        Self {
            codec,
            next_id: 0,
            writer: None,
            max_text_bytes: session.as_ref().map_or(usize::MAX, |s| s.max_text_bytes),
            session,
            pending: BTreeMap::new(),
            rooms: HashMap::new(),
            closed: None,
        }
    }

    fn alloc_id(&mut self) -> RequestId {
        self.next_id += 1;
        self.next_id
    }

    /// Writes a frame if connected; otherwise it goes out with the next connection (callers)
    /// or is not needed any more (internal requests are rebuilt on reconnect).
    fn write(&self, request: &Request) {
        if let Some(writer) = &self.writer {
            let _ = writer.send(Outgoing::Frame(encode(self.codec, request)));
        }
    }

    /// Registers a caller's request and sends it if connected. Fails once the client is closed.
    pub(crate) fn call(
        &mut self,
        command: Command,
        join: Option<JoinMode>,
    ) -> Result<(RequestId, oneshot::Receiver<Result<Event>>)> {
        if let Some(reason) = &self.closed {
            return Err(closed_error(reason));
        }
        let id = self.alloc_id();
        let (reply, rx) = oneshot::channel();
        let request = Request::new(id, command);
        self.write(&request);
        let purpose = Purpose::Caller { reply, join };
        self.pending.insert(id, Pending { request, purpose });
        Ok((id, rx))
    }

    /// Sends a request nobody waits for (typing), if connected.
    pub(crate) fn fire(&self, command: Command) -> Result<()> {
        if let Some(reason) = &self.closed {
            return Err(closed_error(reason));
        }
        self.write(&Request { id: None, command });
        Ok(())
    }

    /// Forgets a caller's request (answered, timed out, or its future was dropped).
    pub(crate) fn abandon(&mut self, id: RequestId) {
        self.pending.remove(&id);
    }

    /// Asks the writer to close the connection.
    pub(crate) fn request_close(&self) {
        if let Some(writer) = &self.writer {
            let _ = writer.send(Outgoing::Close);
        }
    }

    /// The rooms joined, with their resume points, sorted by name.
    pub(crate) fn joined_rooms(&self) -> Vec<(String, u64)> {
        let mut rooms: Vec<_> = self
            .rooms
            .iter()
            .map(|(name, t)| (name.clone(), t.seen()))
            .collect();
        rooms.sort();
        rooms
    }

    /// A new connection is up: rejoin every tracked room from its resume point, then resend
    /// every caller's request still waiting, in the order they were made (a `send` thus goes
    /// out again with its original nonce, after its room was rejoined).
    pub(crate) fn install(
        &mut self,
        writer: mpsc::UnboundedSender<Outgoing>,
        session: SessionInfo,
    ) {
        self.max_text_bytes = session.max_text_bytes;
        self.session = Some(session);
        self.writer = Some(writer);
        let retries: Vec<Request> = self
            .pending
            .values()
            .filter(|p| matches!(p.purpose, Purpose::Caller { .. }))
            .map(|p| p.request.clone())
            .collect();
        let mut rooms: Vec<(String, u64)> = self
            .rooms
            .iter_mut()
            .map(|(name, t)| {
                t.reset();
                (name.clone(), t.seen())
            })
            .collect();
        rooms.sort();
        for (room, seen) in rooms {
            let id = self.alloc_id();
            let command = Command::Join {
                room: room.clone(),
                resume_after: Some(seen),
            };
            let request = Request::new(id, command);
            self.write(&request);
            let purpose = Purpose::Rejoin { room };
            self.pending.insert(id, Pending { request, purpose });
        }
        for request in &retries {
            self.write(request);
        }
    }

    /// The connection ended: keep callers' requests for the next one, drop internal ones.
    pub(crate) fn disconnected(&mut self) {
        self.writer = None;
        self.session = None;
        self.pending
            .retain(|_, p| matches!(p.purpose, Purpose::Caller { .. }));
        for tracker in self.rooms.values_mut() {
            tracker.reset();
        }
    }

    /// The client stopped for good: fail every waiting caller with `reason`.
    pub(crate) fn finish(
        &mut self,
        reason: DisconnectReason,
    ) -> Vec<oneshot::Sender<Result<Event>>> {
        self.writer = None;
        self.session = None;
        self.closed = Some(reason);
        std::mem::take(&mut self.pending)
            .into_values()
            .filter_map(|p| match p.purpose {
                Purpose::Caller { reply, .. } => Some(reply),
                _ => None,
            })
            .collect()
    }

    /// Handles one event from the server: routes replies to their requests, keeps room
    /// delivery exactly-once and in order, and returns what the application should see.
    pub(crate) fn on_event(&mut self, event: Event) -> Vec<ClientEvent> {
        let mut out = Vec::new();
        match event {
            Event::Message(m) => {
                let room = m.room.clone();
                let Some(tracker) = self.rooms.get_mut(&room) else {
                    out.push(ClientEvent::Message(m));
                    return out;
                };
                let mut delivered = Vec::new();
                let page = tracker.on_message(m, &mut delivered);
                out.extend(delivered.into_iter().map(ClientEvent::Message));
                if let Some(page) = page {
                    self.request_page(room, page);
                }
            }
            Event::Joined {
                id,
                room,
                kind,
                last_seq,
                online,
                history,
                complete,
                current_to,
            } => {
                let joined = Joined {
                    room,
                    kind,
                    last_seq,
                    online,
                    history,
                    current_to: current_to.unwrap_or(0),
                };
                self.on_joined(id, joined, complete, &mut out);
            }
            Event::History {
                id,
                room,
                messages,
                has_more,
                current_to,
            } => match self.take(id) {
                Some(Purpose::Page { room, page }) => {
                    let Some(tracker) = self.rooms.get_mut(&room) else {
                        return out;
                    };
                    let mut delivered = Vec::new();
                    let next = tracker.on_page(page, messages, &mut delivered);
                    out.extend(delivered.into_iter().map(ClientEvent::Message));
                    if let Some(next) = next {
                        self.request_page(room, next);
                    }
                }
                Some(Purpose::Caller { reply, .. }) => {
                    let _ = reply.send(Ok(Event::History {
                        id,
                        room,
                        messages,
                        has_more,
                        current_to,
                    }));
                }
                _ => {}
            },
            Event::Error {
                id, code, message, ..
            } => match self.take(id) {
                Some(Purpose::Caller { reply, .. }) => {
                    let _ = reply.send(Err(Error::server(code, message)));
                }
                Some(Purpose::Rejoin { room }) => {
                    tracing::warn!(%room, code = code.as_str(), %message, "rejoin failed");
                    self.rooms.remove(&room);
                    let error = Error::server(code, message);
                    out.push(ClientEvent::RejoinFailed { room, error });
                }
                Some(Purpose::Page { room, .. }) => {
                    tracing::warn!(%room, code = code.as_str(), %message, "gap-filling page failed");
                    if let Some(tracker) = self.rooms.get_mut(&room) {
                        tracker.on_page_failed();
                    }
                }
                None if code == ErrorCode::RateLimited => {
                    tracing::debug!(%message, "rate limited (a frame without request id)");
                }
                None => tracing::warn!(code = code.as_str(), %message, "error from the server"),
            },
            Event::Left { id: None, room } => {
                self.rooms.remove(&room);
                out.push(ClientEvent::Left { room });
            }
            Event::Left { id, room } => {
                self.rooms.remove(&room);
                self.reply(id, Event::Left { id, room });
            }
            Event::Read {
                id: None,
                room,
                seq,
            } => out.push(ClientEvent::Read { room, seq }),
            Event::RoomDeleted { id: None, room, by } => {
                out.push(ClientEvent::RoomDeleted { room, by })
            }
            Event::Invited { room, by } => out.push(ClientEvent::Invited { room, by }),
            Event::Receipts { room, reads } => out.push(ClientEvent::Receipts { room, reads }),
            Event::Mention {
                room,
                seq,
                sender,
                text,
            } => out.push(ClientEvent::Mention {
                room,
                seq,
                sender,
                text,
            }),
            Event::UserJoined { room, user } => out.push(ClientEvent::UserJoined { room, user }),
            Event::UserLeft { room, user } => out.push(ClientEvent::UserLeft { room, user }),
            Event::Typing { room, user, on } => out.push(ClientEvent::Typing { room, user, on }),
            Event::Presence {
                id: None,
                room,
                online,
            } => out.push(ClientEvent::Presence { room, online }),
            Event::OnlineCount { room, online } => {
                out.push(ClientEvent::OnlineCount { room, online })
            }
            Event::Welcome { .. } => {}
            // Ack, Presence, Rooms, Pong and any reply type added later.
            other => {
                if let Some(id) = reply_id(&other) {
                    self.reply(Some(id), other);
                }
            }
        }
        out
    }

    fn on_joined(
        &mut self,
        id: Option<RequestId>,
        mut joined: Joined,
        complete: bool,
        out: &mut Vec<ClientEvent>,
    ) {
        let room = joined.room.clone();
        let last_seq = joined.last_seq;
        match self.take(id) {
            Some(Purpose::Caller { reply, join }) => {
                if let Some(JoinMode::After(seq)) = join {
                    let history = std::mem::take(&mut joined.history);
                    self.resume(
                        RoomTracker::resume(seq),
                        &room,
                        last_seq,
                        history,
                        complete,
                        out,
                    );
                } else {
                    self.rooms.insert(room, RoomTracker::fresh(last_seq));
                }
                let Joined {
                    room,
                    kind,
                    last_seq,
                    online,
                    history,
                    current_to,
                } = joined;
                let _ = reply.send(Ok(Event::Joined {
                    id,
                    room,
                    kind,
                    last_seq,
                    online,
                    history,
                    complete,
                    current_to: Some(current_to),
                }));
            }
            Some(Purpose::Rejoin { .. }) => {
                let tracker = self
                    .rooms
                    .remove(&room)
                    .unwrap_or_else(|| RoomTracker::fresh(last_seq));
                self.resume(tracker, &room, last_seq, joined.history, complete, out);
            }
            _ => {
                // Joined by the server (a direct message), or by a request whose caller gave
                // up: the session is in the room either way, so track it.
                self.rooms
                    .entry(room)
                    .or_insert_with(|| RoomTracker::fresh(last_seq));
                out.push(ClientEvent::Joined(joined));
            }
        }
    }

    fn resume(
        &mut self,
        mut tracker: RoomTracker,
        room: &str,
        last_seq: u64,
        history: Vec<chatcore::protocol::Message>,
        complete: bool,
        out: &mut Vec<ClientEvent>,
    ) {
        let mut delivered = Vec::new();
        let page = tracker.on_resumed(last_seq, history, complete, &mut delivered);
        out.extend(delivered.into_iter().map(ClientEvent::Message));
        self.rooms.insert(room.to_owned(), tracker);
        if let Some(page) = page {
            self.request_page(room.to_owned(), page);
        }
    }

    fn request_page(&mut self, room: String, page: PageRequest) {
        if self.writer.is_none() {
            if let Some(tracker) = self.rooms.get_mut(&room) {
                tracker.on_page_failed();
            }
            return;
        }
        let id = self.alloc_id();
        let command = Command::History {
            room: room.clone(),
            before: Some(page.before),
            after: Some(page.after),
            limit: Some(PAGE),
        };
        let request = Request::new(id, command);
        self.write(&request);
        let purpose = Purpose::Page { room, page };
        self.pending.insert(id, Pending { request, purpose });
    }

    fn take(&mut self, id: Option<RequestId>) -> Option<Purpose> {
        id.and_then(|id| self.pending.remove(&id))
            .map(|p| p.purpose)
    }

    fn reply(&mut self, id: Option<RequestId>, event: Event) {
        if let Some(Purpose::Caller { reply, .. }) = self.take(id) {
            let _ = reply.send(Ok(event));
        }
    }
}

/// The request id an answering event carries.
fn reply_id(event: &Event) -> Option<RequestId> {
    match event {
        Event::Ack { id, .. }
        | Event::Presence { id, .. }
        | Event::Rooms { id, .. }
        | Event::Thread { id, .. }
        | Event::Read { id, .. }
        | Event::SearchResults { id, .. }
        | Event::Users { id, .. }
        | Event::Created { id, .. }
        | Event::Members { id, .. }
        | Event::Blocked { id, .. }
        | Event::RoomDeleted { id, .. }
        | Event::Pong { id } => *id,
        _ => None,
    }
}

/// The error a caller gets once the client stopped for `reason`.
pub(crate) fn closed_error(reason: &DisconnectReason) -> Error {
    match reason {
        DisconnectReason::ClientClosed => Error::Closed,
        DisconnectReason::GaveUp(e) => (**e).clone(),
        other => Error::Disconnected(other.clone()),
    }
}

/// A request as a WebSocket message in `codec`.
pub(crate) fn encode(codec: Codec, request: &Request) -> WsMessage {
    let bytes = codec.encode(request);
    if codec.is_binary() {
        WsMessage::binary(bytes)
    } else {
        // serde_json writes UTF-8; the lossy path is never taken.
        match String::from_utf8(bytes) {
            Ok(text) => WsMessage::text(text),
            Err(e) => WsMessage::text(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chatcore::protocol::{Message, Receipt, RoomKind};

    use super::*;

    fn session() -> SessionInfo {
        SessionInfo {
            user: "ann".into(),
            session: 1,
            max_text_bytes: 8192,
            max_data_bytes: 4096,
        }
    }

    fn msg(seq: u64) -> Message {
        Message {
            sender: "bob".into(),
            ..chatcore_testkit::fixtures::message("r", seq)
        }
    }

    fn joined(
        id: Option<RequestId>,
        last_seq: u64,
        history: Vec<Message>,
        complete: bool,
    ) -> Event {
        Event::Joined {
            id,
            room: "r".into(),
            kind: RoomKind::Public,
            last_seq,
            online: vec!["ann".into()],
            history,
            complete,
            current_to: None,
        }
    }

    fn connected() -> (State, mpsc::UnboundedReceiver<Outgoing>) {
        let mut st = State::new(Codec::Json, Some(session()));
        let (tx, rx) = mpsc::unbounded_channel();
        st.install(tx, session());
        (st, rx)
    }

    fn sent(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> Vec<Request> {
        let mut out = Vec::new();
        while let Ok(Outgoing::Frame(WsMessage::Text(t))) = rx.try_recv() {
            out.push(Codec::Json.decode_request(t.as_bytes()).expect("request"));
        }
        out
    }

    fn seqs(events: &[ClientEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message(m) => Some(m.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_fresh_join_routes_history_to_the_caller_only() {
        let (mut st, mut rx) = connected();
        let join = Command::Join {
            room: "r".into(),
            resume_after: None,
        };
        let (id, mut reply) = st.call(join, Some(JoinMode::Fresh)).expect("call");
        assert_eq!(sent(&mut rx).len(), 1);
        let events = st.on_event(joined(Some(id), 2, vec![msg(1), msg(2)], true));
        assert!(events.is_empty());
        match reply.try_recv() {
            Ok(Ok(Event::Joined { history, .. })) => assert_eq!(history.len(), 2),
            other => panic!("unexpected reply {other:?}"),
        }
        assert_eq!(seqs(&st.on_event(Event::Message(msg(3)))), [3]);
        assert_eq!(st.joined_rooms(), [("r".to_owned(), 3)]);
    }

    #[test]
    fn reconnect_rejoins_then_retries_waiting_sends_with_their_nonce() {
        let (mut st, mut rx) = connected();
        st.on_event(joined(None, 5, Vec::new(), true));
        let send = Command::Send {
            room: "r".into(),
            text: "hi".into(),
            nonce: Some("n1".into()),
            kind: Default::default(),
            reply_to: None,
            data: None,
        };
        let (_id, _reply) = st.call(send.clone(), None).expect("call");
        sent(&mut rx);
        st.disconnected();
        let (tx, mut rx) = mpsc::unbounded_channel();
        st.install(tx, session());
        let frames = sent(&mut rx);
        assert_eq!(frames.len(), 2);
        assert_eq!(
            frames[0].command,
            Command::Join {
                room: "r".into(),
                resume_after: Some(5)
            }
        );
        assert_eq!(frames[1].command, send);
        // An incomplete resume pages the rest, holding live messages until then.
        let rejoin = frames[0].id;
        let events = st.on_event(joined(rejoin, 9, vec![msg(6), msg(7)], false));
        assert_eq!(seqs(&events), [6, 7]);
        let page = sent(&mut rx);
        assert_eq!(page.len(), 1);
        assert!(seqs(&st.on_event(Event::Message(msg(10)))).is_empty());
        let events = st.on_event(Event::History {
            id: page[0].id,
            room: "r".into(),
            messages: vec![msg(7), msg(8), msg(9)],
            has_more: false,
            current_to: None,
        });
        assert_eq!(seqs(&events), [8, 9, 10]);
    }

    #[test]
    fn errors_reach_the_caller_typed_and_failed_rejoins_are_reported() {
        let (mut st, mut rx) = connected();
        let (id, mut reply) = st.call(Command::Rooms {}, None).expect("call");
        st.on_event(Event::error(Some(id), ErrorCode::Forbidden, "no"));
        assert!(matches!(
            reply.try_recv(),
            Ok(Err(Error::Server {
                code: ErrorCode::Forbidden,
                ..
            }))
        ));
        st.on_event(joined(None, 0, Vec::new(), true));
        st.disconnected();
        sent(&mut rx);
        let (tx, mut rx) = mpsc::unbounded_channel();
        st.install(tx, session());
        let rejoin = sent(&mut rx)[0].id;
        let events = st.on_event(Event::error(rejoin, ErrorCode::Forbidden, "private now"));
        assert!(matches!(&events[..], [ClientEvent::RejoinFailed { room, .. }] if room == "r"));
        assert!(st.joined_rooms().is_empty());
    }

    #[test]
    fn finishing_fails_every_caller_and_refuses_new_calls() {
        let (mut st, _rx) = connected();
        let (_id, mut reply) = st.call(Command::Ping {}, None).expect("call");
        let waiting = st.finish(DisconnectReason::ClientClosed);
        assert_eq!(waiting.len(), 1);
        drop(waiting);
        assert!(reply.try_recv().is_err());
        assert!(matches!(
            st.call(Command::Ping {}, None),
            Err(Error::Closed)
        ));
    }

    #[test]
    fn removals_read_moves_receipts_and_mentions_reach_the_application() {
        let (mut st, _rx) = connected();
        st.on_event(joined(None, 0, Vec::new(), true));
        let events = st.on_event(Event::Left {
            id: None,
            room: "r".into(),
        });
        assert_eq!(events, [ClientEvent::Left { room: "r".into() }]);
        assert!(st.joined_rooms().is_empty());
        let read = st.on_event(Event::Read {
            id: None,
            room: "r".into(),
            seq: 4,
        });
        assert_eq!(
            read,
            [ClientEvent::Read {
                room: "r".into(),
                seq: 4
            }]
        );
        let bob = Receipt {
            user: "bob".into(),
            seq: 3,
        };
        let receipts = st.on_event(Event::Receipts {
            room: "r".into(),
            reads: vec![bob.clone()],
        });
        assert!(matches!(&receipts[..], [ClientEvent::Receipts { reads, .. }] if reads == &[bob]));
        let mention = st.on_event(Event::Mention {
            room: "r".into(),
            seq: 5,
            sender: "bob".into(),
            text: "@ann hi".into(),
        });
        assert!(matches!(
            &mention[..],
            [ClientEvent::Mention { seq: 5, .. }]
        ));
        let deleted = st.on_event(Event::RoomDeleted {
            id: None,
            room: "r".into(),
            by: "ann".into(),
        });
        assert!(matches!(&deleted[..], [ClientEvent::RoomDeleted { by, .. }] if by == "ann"));
    }

    #[test]
    fn created_members_and_blocked_answer_their_callers() {
        let (mut st, _rx) = connected();
        let (id, mut reply) = st
            .call(Command::Members { room: "r".into() }, None)
            .expect("call");
        st.on_event(Event::Members {
            id: Some(id),
            room: "r".into(),
            members: Vec::new(),
        });
        assert!(matches!(reply.try_recv(), Ok(Ok(Event::Members { .. }))));
        let (id, mut reply) = st
            .call(Command::Block { user: "bob".into() }, None)
            .expect("call");
        st.on_event(Event::Blocked {
            id: Some(id),
            user: "bob".into(),
            on: true,
        });
        assert!(matches!(
            reply.try_recv(),
            Ok(Ok(Event::Blocked { on: true, .. }))
        ));
    }
}
