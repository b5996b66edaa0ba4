//! The event stream: messages, presence, typing and connection state.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use chatcore::protocol::{Message, Receipt};
use futures::Stream;
use tokio::sync::mpsc;

use crate::error::{DisconnectReason, Error};
use crate::types::{Joined, SessionInfo};

/// Something that happened, in the order it happened.
///
/// Messages of a room arrive in seq order, each exactly once, across reconnects (see the
/// [crate docs](crate#delivery-guarantees)). Presence and typing are hints: they are not
/// replayed after a reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A message of a joined room: live, or missed while disconnected and replayed on resume.
    /// Includes this client's own messages (their `nonce` matches the [`Ack`](crate::Ack)).
    Message(Message),
    /// The server joined this client to a room by itself: a direct message arrived (or was
    /// sent from here) in a conversation this session had not joined. The room is then
    /// tracked and rejoined like any other.
    Joined(Joined),
    /// A joined room could not be rejoined after a reconnect (it became private, the user
    /// was removed, …); its messages no longer arrive.
    RejoinFailed {
        /// Room name.
        room: String,
        /// Why.
        error: Error,
    },
    /// A user came online in a room.
    UserJoined {
        /// Room name.
        room: String,
        /// User name.
        user: String,
    },
    /// A user went offline in (or left) a room.
    UserLeft {
        /// Room name.
        room: String,
        /// User name.
        user: String,
    },
    /// The whole list of users online in a room, unasked: a large room became small again and
    /// per-user `UserJoined`/`UserLeft` resume from here.
    Presence {
        /// Room name.
        room: String,
        /// Online users, sorted.
        online: Vec<String>,
    },
    /// How many users are online in a large room, where joins and leaves are not announced
    /// one by one (ask [`Client::who`](crate::Client::who) for the list).
    OnlineCount {
        /// Room name.
        room: String,
        /// Users online.
        online: u64,
    },
    /// Someone started (`on`) or stopped typing.
    Typing {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// `true` while typing.
        on: bool,
    },
    /// The server took this client out of a joined room (kicked, banned, or left from
    /// another place); its messages no longer arrive.
    Left {
        /// Room name.
        room: String,
    },
    /// This user's read position in a room moved, from this or another session: clear the
    /// room's unread badge up to `seq`.
    Read {
        /// Room name.
        room: String,
        /// The stored read position.
        seq: u64,
    },
    /// Members' read positions (for a "seen by" line): the server sends a room's at most
    /// once a second, with every member who read further in that second.
    Receipts {
        /// Room name.
        room: String,
        /// Who read how far, sorted by user.
        reads: Vec<Receipt>,
    },
    /// This user was mentioned with `@name` in a room (whether or not it is joined here).
    Mention {
        /// Room name.
        room: String,
        /// The message's seq.
        seq: u64,
        /// Who wrote it.
        sender: String,
        /// The start of its text.
        text: String,
    },
    /// A joined room was deleted by `by` (a [`Left`](ClientEvent::Left) follows).
    RoomDeleted {
        /// Room name.
        room: String,
        /// Who deleted it.
        by: String,
    },
    /// This user was invited to a private room: [`Client::join`](crate::Client::join) it to
    /// accept.
    Invited {
        /// Room name.
        room: String,
        /// Who invited.
        by: String,
    },
    /// The connection changed state.
    State(ConnectionState),
}

/// The state of the client's connection.
///
/// The event stream starts with [`Connected`](ConnectionState::Connected). When the connection ends it
/// reports [`Disconnected`](ConnectionState::Disconnected); then either
/// [`Reconnecting`](ConnectionState::Reconnecting) (once per attempt) until `Connected`
/// again, or [`Closed`](ConnectionState::Closed), after which the event stream ends.
/// A client made with [`Client::start`](crate::Client::start) is
/// [`Connecting`](ConnectionState::Connecting) first (not an event); its stream starts with
/// `Connected`, or with `Reconnecting` when the first attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// The first connection of a [`Client::start`](crate::Client::start)ed client is being
    /// made.
    Connecting,
    /// Connected, and joined rooms are being resumed.
    Connected(SessionInfo),
    /// The connection ended.
    Disconnected(DisconnectReason),
    /// Waiting `delay`, then reconnect attempt number `attempt` (from 1).
    Reconnecting {
        /// Attempt number since the connection was lost.
        attempt: u32,
        /// Wait before this attempt.
        delay: Duration,
    },
    /// The client stopped for good (closed, or gave up reconnecting); the stream ends.
    Closed(DisconnectReason),
}

/// The client's events, as a [`Stream`] or with [`Events::recv`].
///
/// Read it continuously (in a task of its own), or drop it if you do not want events. It holds
/// at most [`ClientConfig::event_buffer`](crate::ClientConfig::event_buffer) events: when it is
/// full the client stops reading the socket, so command replies wait too, and a server whose
/// queue for this client overflows disconnects it (the client then resumes without loss).
/// Ends after [`ConnectionState::Closed`].
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<ClientEvent>,
}

impl Events {
    pub(crate) fn new(rx: mpsc::Receiver<ClientEvent>) -> Self {
        Self { rx }
    }

    /// The next event; `None` once the client is closed and every event was read.
    pub async fn recv(&mut self) -> Option<ClientEvent> {
        self.rx.recv().await
    }

    /// The next event if one is ready.
    pub fn try_recv(&mut self) -> Option<ClientEvent> {
        self.rx.try_recv().ok()
    }
}

impl Stream for Events {
    type Item = ClientEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        self.rx.poll_recv(cx)
    }
}
