//! [`Client`]: typed commands over one self-healing connection.

mod call;
mod changes;
mod connection;
mod find;
mod link;
mod messaging;
mod moderation;
mod replies;
mod rooms;
mod shared;
mod state;
mod supervisor;
mod tcp;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::protocol::{Command, Event};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::error::Result;
use crate::events::{ConnectionState, Events};
use crate::types::SessionInfo;
use replies::unexpected;
use shared::Shared;
use state::State;

pub(crate) use connection::error_body;

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
    /// Fails with [`Error::Connect`](crate::Error::Connect) when the server cannot be
    /// reached, [`Error::Unauthorized`](crate::Error::Unauthorized) when it refuses the
    /// credentials, [`Error::Refused`](crate::Error::Refused) for other refusals (403 origin,
    /// 503 full). Reconnecting applies only once connected.
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

    /// An application-level round trip; returns its duration.
    pub async fn ping(&self) -> Result<Duration> {
        let start = Instant::now();
        match self.call(Command::Ping {}, None).await? {
            Event::Pong { .. } => Ok(start.elapsed()),
            other => Err(unexpected(&other)),
        }
    }

    /// Closes the connection (a normal close frame, then waits briefly for the server's
    /// answer) and stops reconnecting. Waiting commands fail with
    /// [`Error::Closed`](crate::Error::Closed); the event stream yields
    /// [`ConnectionState::Closed`] and ends. Closing twice is fine.
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
}
