//! What a connection is once it is open, whatever carries it (WebSocket or TCP): the sink
//! the writer task writes to, the stream of [`Incoming`] the reader task reads, and the
//! session its `welcome` opened.

use std::pin::Pin;

use chatcore::protocol::{Event, PROTOCOL_VERSION};
use futures::{Sink, Stream};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use crate::error::{Error, Result};
use crate::types::SessionInfo;

/// What the reader task reads: the events of a connection, whatever carries them.
pub(crate) type FrameStream = Pin<Box<dyn Stream<Item = Incoming> + Send>>;
/// Where the writer task writes: WebSocket messages, or their TCP framing.
pub(crate) type FrameSink = Pin<Box<dyn Sink<WsMessage, Error = WsError> + Send>>;

/// One thing that arrived on a connection.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// An event.
    Event(Event),
    /// A frame this version cannot decode (a newer server's event, or garbage).
    Undecodable(String),
    /// Keep-alive traffic (a ping, a pong, an empty TCP frame): the server is there.
    Alive,
    /// The server's close frame.
    Close {
        /// The close code.
        code: u16,
        /// Its reason.
        reason: String,
    },
    /// Reading failed; the connection is gone.
    Failed(String),
}

/// A connection whose `welcome` arrived.
pub(crate) struct Opened {
    pub(crate) sink: FrameSink,
    pub(crate) stream: FrameStream,
    pub(crate) session: SessionInfo,
}

/// The session a `welcome` opened; any other first event is a protocol error.
pub(super) fn session_info(first: Event) -> Result<SessionInfo> {
    match first {
        Event::Welcome {
            protocol,
            user,
            session,
            max_text_bytes,
            max_data_bytes,
        } => {
            if protocol != PROTOCOL_VERSION {
                return Err(Error::Protocol(format!(
                    "the server speaks protocol {protocol}, this client {PROTOCOL_VERSION}"
                )));
            }
            Ok(SessionInfo {
                user,
                session,
                max_text_bytes,
                max_data_bytes,
            })
        }
        other => Err(Error::Protocol(format!("expected welcome, got {other:?}"))),
    }
}
