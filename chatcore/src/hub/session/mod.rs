//! [`Session`]: one connected client. Frames come in here and go down to the command layer.

pub(crate) mod state;

use std::sync::Arc;

use super::command;
use super::core::Core;
use super::queue::CloseReason;
use crate::protocol::{Codec, Event, Request};
use state::SessionState;

/// One connected client. A transport's read pump owns it and feeds it frames; dropping it
/// takes the user offline in every room it joined (durable memberships stay).
#[derive(Debug)]
pub struct Session {
    core: Arc<Core>,
    state: Arc<SessionState>,
}

impl Session {
    pub(crate) fn new(core: Arc<Core>, state: Arc<SessionState>) -> Self {
        Self { core, state }
    }

    /// The session id (unique within the hub).
    pub fn id(&self) -> u64 {
        self.state.id()
    }

    /// The authenticated user.
    pub fn user(&self) -> &str {
        self.state.user()
    }

    /// The session's codec.
    pub fn codec(&self) -> Codec {
        self.state.queue.codec
    }

    /// Why the session ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.state.queue.close_reason()
    }

    /// Ends the session; the transport's [`Outbound`](crate::Outbound) then reports it.
    pub fn close(&self, reason: CloseReason) {
        self.state.queue.close(reason);
    }

    /// Decodes one frame in the session's codec and handles it. A frame that does not decode
    /// is answered with an error event (with the request id when it could be read).
    pub async fn handle_frame(&mut self, bytes: &[u8]) {
        match self.state.queue.codec.decode_request(bytes) {
            Ok(request) => self.handle(request).await,
            Err(e) => {
                self.state.queue.send(Event::error(e.id, e.code, e.detail));
            }
        }
    }

    /// Handles one request. Replies (and errors, with the request id) go to the outbound
    /// queue; a `send` is acknowledged there once the store committed it.
    pub async fn handle(&mut self, request: Request) {
        let id = request.id;
        if let Err(e) = command::dispatch(&self.core, &self.state, id, request.command).await {
            self.state.queue.send(Event::from_error(id, &e));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.state.queue.close(CloseReason::Normal);
        command::detach_all(&self.core, &self.state);
        self.core.forget_session(self.state.id());
    }
}
