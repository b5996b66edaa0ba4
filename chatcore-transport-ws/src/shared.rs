//! [`Shared`]: the state of one transport that its HTTP handlers, its handshake and its
//! [`Transport`](crate::Transport) handle all reach. It has a module of its own so that
//! `server` (which builds the router) and `http`/`handshake` (which the router calls) both
//! import it without importing each other.

use std::sync::Arc;

use chatcore::Hub;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::WsConfig;
use crate::accounts::AccountService;
use crate::metrics::Metrics;

/// State shared by every request and connection of one transport.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) hub: Hub,
    pub(crate) config: Arc<WsConfig>,
    pub(crate) metrics: Arc<Metrics>,
    /// One permit per open WebSocket: the connection cap.
    pub(crate) permits: Arc<Semaphore>,
    /// Every connection task, so shutdown can wait for them.
    pub(crate) tracker: TaskTracker,
    /// Drops the connections still open when the shutdown grace has run out.
    pub(crate) kill: CancellationToken,
    /// The account routes' service, when accounts are on.
    pub(crate) accounts: Option<Arc<AccountService>>,
}
