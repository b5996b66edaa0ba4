//! What goes out on a connection and why a request waits: the writer's orders, the purposes
//! of pending requests, and a request's encoding as a WebSocket message.

use chatcore::protocol::{Codec, Event, Request};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::client::rooms::PageRequest;
use crate::error::Result;

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
