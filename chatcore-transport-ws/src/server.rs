//! [`Transport`] (a mountable router plus its shutdown) and the standalone [`serve`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chatcore::Hub;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::accept::{self, Listener};
use crate::accounts::{AccountService, AccountsConfig};
use crate::metrics::Metrics;
use crate::shared::Shared;
use crate::{Result, WsConfig};

/// The WebSocket transport and HTTP API of one hub: a [`Router`] to serve or mount, and the
/// graceful shutdown of the connections it accepted.
///
/// Cheap to clone: clones share the connection cap, the metrics and the connection set.
#[derive(Debug, Clone)]
pub struct Transport {
    shared: Arc<Shared>,
}

impl Transport {
    /// A transport for `hub`. Its metrics are private to it (no global recorder is installed).
    pub fn new(hub: Hub, config: WsConfig) -> Self {
        Self::build(hub, config, None)
    }

    /// A transport for `hub` that also serves the account routes (`/api/register`,
    /// `/api/login`, …; see [`AccountsConfig`]).
    pub fn with_accounts(hub: Hub, config: WsConfig, accounts: AccountsConfig) -> Self {
        Self::build(hub, config, Some(Arc::new(AccountService::new(accounts))))
    }

    fn build(hub: Hub, config: WsConfig, accounts: Option<Arc<AccountService>>) -> Self {
        let text = hub.limits().max_text_bytes;
        if config.max_message_bytes < text + 1024 {
            tracing::warn!(
                max_message_bytes = config.max_message_bytes,
                max_text_bytes = text,
                "max_message_bytes leaves no room for a message at the hub's text limit"
            );
        }
        let shared = Shared {
            hub,
            permits: Arc::new(Semaphore::new(config.max_connections)),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            tracker: TaskTracker::new(),
            kill: CancellationToken::new(),
            accounts,
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The HTTP surface (see the [crate docs](crate#http-api)); mount it with
    /// [`Router::nest`] or [`Router::merge`], or serve it as is.
    pub fn router(&self) -> Router {
        crate::http::router(Arc::clone(&self.shared))
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.shared.hub
    }

    /// The configuration in force.
    pub fn config(&self) -> &WsConfig {
        &self.shared.config
    }

    /// WebSocket connections currently open (or upgrading).
    pub fn open_connections(&self) -> usize {
        self.shared.config.max_connections - self.shared.permits.available_permits()
    }

    /// Shuts the hub down ([`Hub::shutdown`] with [`WsConfig::shutdown_grace`]): sessions
    /// are closed as going away, so every connection writes its queued frames and a 1001
    /// close. Then waits (bounded by the grace plus two close timeouts) for the connections
    /// to end, and drops the stragglers. Returns the hub's shutdown result.
    pub async fn shutdown(&self) -> Result<()> {
        let config = &self.shared.config;
        let hub = self.shared.hub.shutdown(config.shutdown_grace).await;
        let tracker = &self.shared.tracker;
        tracker.close();
        let bound = config.shutdown_grace + config.close_timeout * 2;
        if tokio::time::timeout(bound, tracker.wait()).await.is_err() {
            tracing::warn!(
                open = tracker.len(),
                "connections still open after the shutdown grace; dropping them"
            );
            self.shared.kill.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(1), tracker.wait()).await;
        }
        hub.map_err(Into::into)
    }
}

/// The HTTP surface of `hub` as a router with its own connection cap and metrics; shorthand
/// for `Transport::new(hub, config).router()`. Use a [`Transport`] to also wait for the
/// WebSocket connections at shutdown.
pub fn router(hub: Hub, config: WsConfig) -> Router {
    Transport::new(hub, config).router()
}

/// Serves the transport on `listener` (a [`tokio::net::TcpListener`], or the `TlsListener`
/// of the `tls` feature; see [`Listener`]) until `shutdown` resolves, then shuts down
/// gracefully: stops accepting, shuts the hub down (in-flight sends commit, sessions close
/// with 1001 after their queued frames), waits for the connections (bounded by
/// [`WsConfig::shutdown_grace`] and [`WsConfig::close_timeout`]) and returns.
///
/// Every connection gets `TCP_NODELAY`, a handshake slot ([`WsConfig::handshake_limit`]) and
/// [`WsConfig::handshake_timeout`] to finish its TLS handshake and each request head; see
/// [`Listener`].
///
/// Errors: the hub failing to close its store or bus ([`Error::Hub`](crate::Error::Hub)).
/// A failing `accept` (out of file descriptors) is logged and retried with a backoff.
pub async fn serve<L, F>(listener: L, hub: Hub, config: WsConfig, shutdown: F) -> Result<()>
where
    L: Listener,
    F: Future<Output = ()> + Send,
{
    let transport = Transport::new(hub, config);
    let router = transport.router();
    serve_router(listener, transport, router, shutdown).await
}

/// [`serve`] with a router of your own making: `transport.router()` with extra routes or
/// layers (a `/metrics` addition, authentication, tracing). The shutdown is the same:
/// `transport` closes its hub and waits for its connections.
pub async fn serve_router<L, F>(
    listener: L,
    transport: Transport,
    router: Router,
    shutdown: F,
) -> Result<()>
where
    L: Listener,
    F: Future<Output = ()> + Send,
{
    let grace = transport.config().shutdown_grace + transport.config().close_timeout;
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "chat transport listening");
    }
    let stop = CancellationToken::new();
    let drain = CancellationToken::new();
    let connections = TaskTracker::new();
    let accepting = accept::run(
        listener,
        router,
        Arc::clone(&transport.shared),
        connections.clone(),
        stop.clone(),
        drain.clone(),
    );
    tokio::pin!(accepting);
    tokio::pin!(shutdown);
    tokio::select! {
        () = &mut accepting => {}
        () = &mut shutdown => {}
    }
    tracing::info!("shutting down: no new connections");
    stop.cancel();
    accepting.await;
    drain.cancel();
    connections.close();
    let (closed, served) = tokio::join!(
        transport.shutdown(),
        tokio::time::timeout(grace, connections.wait())
    );
    if served.is_err() {
        tracing::warn!("HTTP connections still open after the shutdown grace");
    }
    tracing::info!("shut down");
    closed
}
