//! Incoming events: replies go to the requests that wait for them, room messages through
//! their [`RoomTracker`] (exactly once, in order, gaps paged in), and the rest to the
//! application as [`ClientEvent`]s.

use chatcore::ErrorCode;
use chatcore::protocol::{Command, Event, Request, RequestId};

use super::State;
use super::requests::{JoinMode, Pending, Purpose};
use crate::client::rooms::{PAGE, PageRequest, RoomTracker};
use crate::error::Error;
use crate::events::ClientEvent;
use crate::types::Joined;

impl State {
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
