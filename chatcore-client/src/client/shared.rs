//! [`Shared`]: what a client's handles and its connection's tasks share (the configuration,
//! the state, the connection status), defined apart from [`Client`](crate::Client) so the
//! tasks need not name the module of their handle.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;

use super::state::State;
use crate::config::ClientConfig;
use crate::events::ConnectionState;

/// What the client's handles and tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(super) config: ClientConfig,
    /// A newer token than the configuration's, set by
    /// [`Client::set_token`](crate::Client::set_token) (an account's access token refreshed
    /// before it expires): the next reconnect presents it.
    pub(super) token: Mutex<Option<String>>,
    pub(super) state: Mutex<State>,
    /// The connection state, for [`Client::state`](crate::Client::state).
    pub(super) status: watch::Sender<ConnectionState>,
    /// `true` once [`Client::close`](crate::Client::close) was called or every handle dropped.
    pub(super) closing: watch::Sender<bool>,
}

impl Shared {
    /// Locks the state. A poisoned lock is taken over: every critical section leaves the state
    /// consistent between statements that could panic.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// The configuration to (re)connect with: the newest token from
    /// [`Client::set_token`](crate::Client::set_token) in place of the configured credentials,
    /// when one was set.
    pub(super) fn connect_config(&self) -> ClientConfig {
        let token = self.token.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match token {
            Some(token) => self.config.clone().with_token(token),
            None => self.config.clone(),
        }
    }
}
