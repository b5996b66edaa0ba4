//! [`Client`]: typed commands over one self-healing connection.

mod changes;
mod connection;
mod find;
mod link;
mod moderation;
mod rooms;
mod state;
mod supervisor;
mod tcp;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chatcore::ErrorCode;
use chatcore::protocol::{Command, Event, RoomSummary};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::events::{ConnectionState, Events};
use crate::types::{
    Ack, HistoryPage, HistoryQuery, Joined, OutgoingMessage, SessionInfo, new_nonce,
};
use state::{JoinMode, State};

pub(crate) use connection::error_body;

/// First wait before a command refused with `rate_limited` is sent again; doubles each time.
const RATE_LIMIT_RETRY: Duration = Duration::from_millis(250);

/// What the client's handles and tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    config: ClientConfig,
    /// A newer token than the configuration's, set by [`Client::set_token`] (an account's
    /// access token refreshed before it expires): the next reconnect presents it.
    token: Mutex<Option<String>>,
    state: Mutex<State>,
    /// The connection state, for [`Client::state`].
    status: watch::Sender<ConnectionState>,
    /// `true` once [`Client::close`] was called or every handle dropped.
    closing: watch::Sender<bool>,
}

impl Shared {
    /// Locks the state. A poisoned lock is taken over: every critical section leaves the state
    /// consistent between statements that could panic.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// The configuration to (re)connect with: the newest token from [`Client::set_token`]
    /// in place of the configured credentials, when one was set.
    fn connect_config(&self) -> ClientConfig {
        let token = self.token.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match token {
            Some(token) => self.config.clone().with_token(token),
            None => self.config.clone(),
        }
    }
}

/// Closes the client when the last [`Client`] handle is dropped.
#[derive(Debug)]
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.closing.send_replace(true);
    }
}

/// A connection to a chatcore server with typed commands, automatic reconnect and resume.
///
/// Cheap to clone: clones share the connection. The client closes when [`Client::close`] is
/// called or the last clone is dropped.
///
/// Every command waits for its reply (matched by request id) up to
/// [`ClientConfig::request_timeout`]. A command made while the connection is down waits for
/// the next connection; one in flight when the connection drops is sent again after the
/// reconnect (a `send` with its original nonce, so the server stores it at most once).
/// A command refused with `rate_limited` is sent again after a pause.
#[derive(Debug, Clone)]
pub struct Client {
    handle: Arc<Handle>,
}

impl Client {
    /// Connects (one attempt, within [`ClientConfig::connect_timeout`]), waits for the
    /// server's `welcome`, and starts the connection's tasks. Returns the client and its
    /// event stream.
    ///
    /// Fails with [`Error::Connect`] when the server cannot be reached,
    /// [`Error::Unauthorized`] when it refuses the credentials, [`Error::Refused`] for other
    /// refusals (403 origin, 503 full). Reconnecting applies only once connected.
    pub async fn connect(config: ClientConfig) -> Result<(Client, Events)> {
        let opened = connection::open(&config).await?;
        let status = ConnectionState::Connected(opened.session.clone());
        Ok(Self::spawn(config, status, Some(opened)))
    }

    /// Starts a client without waiting for the server: the first connection is made in the
    /// background and retried like a reconnect ([`ConnectionState::Reconnecting`] after each
    /// failed attempt, with the same backoff and [`ClientConfig::max_reconnect_attempts`];
    /// a single attempt when [`ClientConfig::reconnect`] is off) until it succeeds. Must be
    /// called within a Tokio runtime.
    ///
    /// For programs that run whether or not the server is up yet (a terminal client started
    /// before its server). Until the first connection, [`Client::state`] is
    /// [`ConnectionState::Connecting`] and commands wait for it (within
    /// [`ClientConfig::request_timeout`]). When the server refuses the credentials (or the
    /// attempts run out) the stream ends with [`ConnectionState::Closed`] and waiting
    /// commands fail with that error, as after a connection was lost.
    pub fn start(config: ClientConfig) -> (Client, Events) {
        Self::spawn(config, ConnectionState::Connecting, None)
    }

    /// Creates the shared state and the supervisor, connected already or not.
    fn spawn(
        config: ClientConfig,
        status: ConnectionState,
        opened: Option<link::Opened>,
    ) -> (Client, Events) {
        let (tx, rx) = mpsc::channel(config.event_buffer);
        let session = opened.as_ref().map(|o| o.session.clone());
        let state = State::new(config.codec, session);
        let shared = Arc::new(Shared {
            status: watch::Sender::new(status),
            closing: watch::Sender::new(false),
            state: Mutex::new(state),
            token: Mutex::new(None),
            config,
        });
        tokio::spawn(supervisor::supervise(Arc::clone(&shared), opened, tx));
        let client = Client {
            handle: Arc::new(Handle(shared)),
        };
        (client, Events::new(rx))
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.0
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.shared().config
    }

    /// Presents `token` from the next (re)connect on, instead of the configured credentials:
    /// for an account's access token refreshed before it expires (`POST /api/refresh`,
    /// [`RestClient::refresh`](crate::RestClient::refresh)). The open connection is kept.
    pub fn set_token(&self, token: impl Into<String>) {
        *self
            .shared()
            .token
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(token.into());
    }

    /// The current connection state.
    pub fn state(&self) -> ConnectionState {
        self.shared().status.borrow().clone()
    }

    /// The current session (user name, session id, text limit); `None` while disconnected.
    pub fn session(&self) -> Option<SessionInfo> {
        self.shared().lock().session.clone()
    }

    /// The joined rooms with their resume points (every message up to that seq was
    /// delivered), sorted by name.
    pub fn joined_rooms(&self) -> Vec<(String, u64)> {
        self.shared().lock().joined_rooms()
    }

    /// Joins `room` (a public room is created when missing). The reply carries recent history;
    /// the event stream yields every later message of the room. Joining a room already
    /// joined fails with [`ErrorCode::Invalid`].
    pub async fn join(&self, room: impl Into<String>) -> Result<Joined> {
        let command = Command::Join {
            room: room.into(),
            resume_after: None,
        };
        let reply = self.call(command, Some(JoinMode::Fresh)).await?;
        joined(reply)
    }

    /// Joins `room` and yields on the event stream every message with a seq above `seq`
    /// (paging through history when there are many), then live ones: no gap, no duplicate.
    /// The reply's `history` is empty.
    pub async fn join_after(&self, room: impl Into<String>, seq: u64) -> Result<Joined> {
        let command = Command::Join {
            room: room.into(),
            resume_after: Some(seq),
        };
        let reply = self.call(command, Some(JoinMode::After(seq))).await?;
        joined(reply)
    }

    /// Leaves `room`: its messages stop, and the durable membership ends.
    pub async fn leave(&self, room: impl Into<String>) -> Result<()> {
        match self
            .call(Command::Leave { room: room.into() }, None)
            .await?
        {
            Event::Left { .. } => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends a text message to a joined room, with a fresh nonce. Resolves once the server
    /// stored it.
    pub async fn send(&self, room: impl Into<String>, text: impl Into<String>) -> Result<Ack> {
        self.send_message(OutgoingMessage::new(room, text)).await
    }

    /// Sends a message with options (nonce, emote, reply-to). Resolves once the server stored
    /// it; with a nonce used before, resolves with the original's ack (`duplicate: true`).
    pub async fn send_message(&self, message: OutgoingMessage) -> Result<Ack> {
        self.check_text(&message.text)?;
        check_nonce(&message.nonce)?;
        let OutgoingMessage {
            room,
            text,
            nonce,
            kind,
            reply_to,
            data,
        } = message;
        let command = Command::Send {
            room,
            text,
            nonce: Some(nonce.clone()),
            kind,
            reply_to,
            data,
        };
        ack(self.call(command, None).await?, nonce)
    }

    /// Sends a direct message to user `to` (in the room `dm:<a>:<b>`, which the server joins
    /// this client to: a [`ClientEvent::Joined`](crate::ClientEvent::Joined) announces it).
    pub async fn dm(&self, to: impl Into<String>, text: impl Into<String>) -> Result<Ack> {
        let text = text.into();
        self.check_text(&text)?;
        let nonce = new_nonce();
        let command = Command::Dm {
            to: to.into(),
            text,
            nonce: Some(nonce.clone()),
        };
        ack(self.call(command, None).await?, nonce)
    }

    /// Starts (`on`) or stops the typing indicator in a joined room. Fire and forget: there is
    /// no reply, and nothing is sent while disconnected.
    pub fn typing(&self, room: impl Into<String>, on: bool) -> Result<()> {
        self.shared().lock().fire(Command::Typing {
            room: room.into(),
            on,
        })
    }

    /// A page of a room's history (public rooms, or rooms the user is a member of; joining is
    /// not required).
    pub async fn history(
        &self,
        room: impl Into<String>,
        query: HistoryQuery,
    ) -> Result<HistoryPage> {
        let command = Command::History {
            room: room.into(),
            before: query.before,
            after: query.after,
            limit: query.limit,
        };
        match self.call(command, None).await? {
            Event::History {
                room,
                messages,
                has_more,
                current_to,
                ..
            } => Ok(HistoryPage {
                room,
                messages,
                has_more,
                current_to: current_to.unwrap_or(0),
            }),
            other => Err(unexpected(&other)),
        }
    }

    /// Public rooms and the user's private and direct rooms, sorted by name.
    pub async fn rooms(&self) -> Result<Vec<RoomSummary>> {
        match self.call(Command::Rooms {}, None).await? {
            Event::Rooms { rooms, .. } => Ok(rooms),
            other => Err(unexpected(&other)),
        }
    }

    /// Users online in a room, sorted.
    pub async fn who(&self, room: impl Into<String>) -> Result<Vec<String>> {
        match self.call(Command::Who { room: room.into() }, None).await? {
            Event::Presence { online, .. } => Ok(online),
            other => Err(unexpected(&other)),
        }
    }

    /// An application-level round trip; returns its duration.
    pub async fn ping(&self) -> Result<Duration> {
        let start = Instant::now();
        match self.call(Command::Ping {}, None).await? {
            Event::Pong { .. } => Ok(start.elapsed()),
            other => Err(unexpected(&other)),
        }
    }

    /// Closes the connection (a normal close frame, then waits briefly for the server's
    /// answer) and stops reconnecting. Waiting commands fail with [`Error::Closed`]; the event
    /// stream yields [`ConnectionState::Closed`] and ends. Closing twice is fine.
    pub async fn close(&self) -> Result<()> {
        let shared = self.shared();
        shared.closing.send_replace(true);
        let mut status = shared.status.subscribe();
        // The supervisor always ends in `Closed`; the sender lives as long as `shared`.
        let _ = status
            .wait_for(|s| matches!(s, ConnectionState::Closed(_)))
            .await;
        Ok(())
    }

    /// Sends a command and waits for its reply, retrying after `rate_limited`.
    async fn call(&self, command: Command, join: Option<JoinMode>) -> Result<Event> {
        let shared = self.shared();
        let timeout = shared.config.request_timeout;
        let deadline = Instant::now() + timeout;
        let mut pause = RATE_LIMIT_RETRY;
        loop {
            let (id, reply) = shared.lock().call(command.clone(), join)?;
            // Forgets the request however this future ends (answered, timed out, dropped).
            let _forget = Forget { shared, id };
            let outcome = match tokio::time::timeout_at(deadline, reply).await {
                Err(_) => return Err(Error::Timeout(timeout)),
                Ok(Err(_)) => {
                    let closed = shared.lock().closed.clone();
                    return Err(closed.map_or(Error::Closed, |r| state::closed_error(&r)));
                }
                Ok(Ok(outcome)) => outcome,
            };
            match outcome {
                Err(Error::Server {
                    code: ErrorCode::RateLimited,
                    message,
                }) => {
                    if Instant::now() + pause >= deadline {
                        return Err(Error::server(ErrorCode::RateLimited, message));
                    }
                    tracing::debug!(?pause, "rate limited; sending again after a pause");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(4));
                }
                other => return other,
            }
        }
    }

    /// Refuses blank text and text over the server's limit before sending.
    fn check_text(&self, text: &str) -> Result<()> {
        if text.trim().is_empty() {
            return Err(Error::Invalid("the message text is blank".into()));
        }
        let limit = self.shared().lock().max_text_bytes;
        if text.len() > limit {
            return Err(Error::Invalid(format!(
                "the message text has {} bytes; the server accepts at most {limit}",
                text.len()
            )));
        }
        Ok(())
    }
}

/// Removes a caller's pending request when dropped.
struct Forget<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.shared.lock().abandon(self.id);
    }
}

fn check_nonce(nonce: &str) -> Result<()> {
    if nonce.is_empty() || nonce.len() > 128 {
        return Err(Error::Invalid("a nonce must have 1 to 128 bytes".into()));
    }
    Ok(())
}

fn joined(reply: Event) -> Result<Joined> {
    match reply {
        Event::Joined {
            room,
            kind,
            last_seq,
            online,
            history,
            current_to,
            ..
        } => Ok(Joined {
            room,
            kind,
            last_seq,
            online,
            history,
            current_to: current_to.unwrap_or(0),
        }),
        other => Err(unexpected(&other)),
    }
}

fn ack(reply: Event, nonce: String) -> Result<Ack> {
    match reply {
        Event::Ack {
            room,
            seq,
            msg_id,
            ts,
            duplicate,
            ..
        } => Ok(Ack {
            room,
            seq,
            msg_id,
            ts,
            duplicate,
            nonce,
        }),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(event: &Event) -> Error {
    Error::Protocol(format!("unexpected reply {event:?}"))
}
