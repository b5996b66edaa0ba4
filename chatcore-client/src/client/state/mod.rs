//! The state every task of a client shares: requests waiting for replies, joined rooms, and
//! the current connection's writer. Guarded by one `std::sync::Mutex`: every critical section
//! is short and never awaits (sending to the writer is an unbounded, synchronous send).

mod requests;
mod routing;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use chatcore::protocol::{Codec, Command, Event, Request, RequestId};
use tokio::sync::{mpsc, oneshot};

use super::rooms::RoomTracker;
use crate::error::{DisconnectReason, Error, Result};
use crate::types::SessionInfo;
use requests::{Pending, Purpose, encode};

pub(crate) use requests::{JoinMode, Outgoing};

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
}

/// The error a caller gets once the client stopped for `reason`.
pub(crate) fn closed_error(reason: &DisconnectReason) -> Error {
    match reason {
        DisconnectReason::ClientClosed => Error::Closed,
        DisconnectReason::GaveUp(e) => (**e).clone(),
        other => Error::Disconnected(other.clone()),
    }
}
