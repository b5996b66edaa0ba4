//! [`TcpTransport`]: the accept loop, the connection cap, and the graceful drain.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chatcore::transport::{HandshakeSlot, Handshakes, close};
use chatcore::{Hub, Outbound, Session};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio_util::future::FutureExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connection::{self, Conn, Io};
use crate::{Result, TcpConfig, handshake};

/// Longest pause after a failed `accept` (out of file descriptors, …), so a server at its
/// limit neither spins nor stops serving.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// State shared by the accept loop and every connection.
#[derive(Debug)]
struct Shared {
    /// The hub every session belongs to.
    hub: Hub,
    /// The settings, shared by every connection.
    config: Arc<TcpConfig>,
    /// One permit per open connection, taken at accept time: the cap also covers peers that
    /// never finish their handshake.
    permits: Arc<Semaphore>,
    /// Connections that have not finished their handshake, per peer IP and in total.
    handshakes: Handshakes,
    /// Every connection task, so a shutdown can wait for them.
    tracker: TaskTracker,
    /// Drops the connections still open when the shutdown grace has run out.
    kill: CancellationToken,
    /// When set, every connection does this TLS handshake before its `hello`.
    #[cfg(feature = "tls")]
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

/// The TCP transport of one hub: accepts connections on any number of listeners, runs their
/// sessions, and drains them on shutdown.
///
/// Cheap to clone: clones share the connection cap and the connection set. It can run beside
/// a WebSocket transport on the same hub: users of both meet in the same rooms.
#[derive(Debug, Clone)]
pub struct TcpTransport {
    shared: Arc<Shared>,
}

impl TcpTransport {
    /// A transport for `hub`.
    pub fn new(hub: Hub, config: TcpConfig) -> Self {
        Self::from_shared(Self::shared(hub, config))
    }

    /// The state of a transport without TLS.
    fn shared(hub: Hub, config: TcpConfig) -> Shared {
        Shared {
            hub,
            handshakes: Handshakes::new(config.handshake_limit()),
            permits: Arc::new(Semaphore::new(config.max_connections())),
            config: Arc::new(config),
            tracker: TaskTracker::new(),
            kill: CancellationToken::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    fn from_shared(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }

    /// A transport for `hub` that speaks TLS (feature `tls`): every accepted connection does
    /// the TLS handshake with `tls` first, then the same frames as over plain TCP.
    ///
    /// The TLS handshake runs on the connection's own task, holds a slot under
    /// [`TcpConfig::max_connections`], and must finish within
    /// [`TcpConfig::handshake_timeout`] (else the connection is dropped: there is no TLS
    /// session yet to carry a close frame). Then the `hello` has the handshake timeout again.
    /// Over the connection cap a TLS connection is dropped at once, without a handshake.
    #[cfg(feature = "tls")]
    pub fn with_tls(
        hub: Hub,
        config: TcpConfig,
        tls: Arc<tokio_rustls::rustls::ServerConfig>,
    ) -> Self {
        let mut shared = Self::shared(hub, config);
        shared.tls = Some(tls);
        Self::from_shared(shared)
    }

    /// Whether connections speak TLS (`TcpTransport::with_tls`).
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.shared.tls.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.shared.hub
    }

    /// The configuration in force.
    pub fn config(&self) -> &TcpConfig {
        &self.shared.config
    }

    /// Connections currently open, handshakes included.
    pub fn open_connections(&self) -> usize {
        self.shared.config.max_connections() - self.shared.permits.available_permits()
    }

    /// Accepts connections on `listener` until `stop` resolves. Each gets `TCP_NODELAY` (chat
    /// frames are small: with Nagle's algorithm and the peer's delayed ACK a small room stalls
    /// 40 ms per message), a handshake slot ([`TcpConfig::handshake_limit`]; past it the
    /// connection is closed at once), a slot under the connection cap (or close 1013), and a
    /// task of its own. Failed accepts are retried with a short backoff. Connections
    /// keep running after this returns; [`TcpTransport::drain`] or
    /// [`TcpTransport::shutdown`] ends them.
    pub async fn accept(&self, listener: TcpListener, stop: impl Future<Output = ()>) {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "chat TCP transport listening");
        }
        tokio::pin!(stop);
        let mut backoff = Duration::from_millis(5);
        loop {
            let accepted = tokio::select! {
                () = &mut stop => return,
                accepted = accept_next(&listener) => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    backoff = Duration::from_millis(5);
                    tracing::trace!(%peer, "TCP connection accepted");
                    self.spawn(stream, peer);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                }
            }
        }
    }

    /// Runs a connection's handshakes on a task of its own; its session then runs on another
    /// ([`serve_conn`]).
    fn spawn(&self, stream: TcpStream, peer: SocketAddr) {
        let Some(slot) = self.shared.handshakes.try_start(peer.ip()) else {
            tracing::debug!(%peer, "too many unfinished handshakes; connection closed");
            return;
        };
        let shared = Arc::clone(&self.shared);
        let permit = Arc::clone(&shared.permits).try_acquire_owned();
        let kill = shared.kill.clone();
        self.shared.tracker.spawn(async move {
            tokio::select! {
                () = kill.cancelled() => tracing::debug!("connection dropped at the end of shutdown"),
                () = serve_stream(stream, peer, permit, slot, &shared) => {}
            }
        });
    }

    /// Waits for the connections to end after the hub was shut down (by this transport or by
    /// another one on the same hub): bounded by the shutdown grace plus two close timeouts,
    /// after which the stragglers are dropped.
    pub async fn drain(&self) {
        let config = &self.shared.config;
        let tracker = &self.shared.tracker;
        tracker.close();
        let bound = config.shutdown_grace() + config.close_timeout() * 2;
        if tokio::time::timeout(bound, tracker.wait()).await.is_err() {
            tracing::warn!(
                open = tracker.len(),
                "TCP connections still open after the shutdown grace; dropping them"
            );
            self.shared.kill.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(1), tracker.wait()).await;
        }
    }

    /// Shuts the hub down ([`Hub::shutdown`] with the shutdown grace): every session closes as
    /// going away, so each connection writes its queued frames and a close 1001. Then
    /// [`TcpTransport::drain`]s. Returns the hub's shutdown result.
    pub async fn shutdown(&self) -> Result<()> {
        let hub = self
            .shared
            .hub
            .shutdown(self.shared.config.shutdown_grace())
            .await;
        self.drain().await;
        hub.map_err(Into::into)
    }
}

/// The next connection on `listener`, with `TCP_NODELAY` set: the one place the transport
/// accepts, so every connection gets it.
async fn accept_next(listener: &TcpListener) -> std::io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    Ok((stream, peer))
}

/// Runs one accepted connection: the TLS handshake when configured, then [`serve_conn`].
/// `slot` is held until the handshake is over.
async fn serve_stream(
    stream: TcpStream,
    peer: SocketAddr,
    permit: Permit,
    slot: HandshakeSlot,
    shared: &Shared,
) {
    #[cfg(feature = "tls")]
    if let Some(tls) = &shared.tls {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls));
        let Ok(_permit) = permit else {
            tracing::debug!("TLS connection over the connection cap dropped");
            return;
        };
        let timeout = shared.config.handshake_timeout();
        let stream = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("no TLS handshake within the handshake timeout; dropped");
                return;
            }
        };
        let conn = Conn::new(stream, &shared.config);
        return serve_conn(conn, peer, Ok(_permit), slot, shared).await;
    }
    serve_conn(
        Conn::new(stream, &shared.config),
        peer,
        permit,
        slot,
        shared,
    )
    .await;
}

/// A slot under the connection cap, or the sign that there was none.
type Permit = std::result::Result<OwnedSemaphorePermit, TryAcquireError>;

/// Runs a connection's `hello` on its stream (plain or TLS), then starts its session on a
/// task of its own: the task an open connection holds for its whole life is the session's
/// alone, not sized for the handshakes too (the TLS handshake's future is kilobytes).
async fn serve_conn<S: Io>(
    conn: Conn<S>,
    peer: SocketAddr,
    permit: Permit,
    slot: HandshakeSlot,
    shared: &Shared,
) {
    let Ok(permit) = permit else {
        let reason = format!(
            "the server is at its limit of {} connections; retry later",
            shared.config.max_connections()
        );
        conn.refuse(close::TRY_AGAIN_LATER, &reason, None).await;
        return;
    };
    let accepted = handshake::accept(conn, peer, &shared.hub, &shared.config).await;
    drop(slot);
    if let Some((conn, session, outbound)) = accepted {
        let task = session_task(conn, session, outbound, permit, shared);
        shared.tracker.spawn(task);
    }
}

/// A session's task: the connection until it ends, or (`None`) until the end of a shutdown
/// drops it. A plain adapter, not an `async` block, which would hold the connection's future
/// twice.
fn session_task<S: Io>(
    conn: Conn<S>,
    session: Session,
    outbound: Outbound,
    permit: OwnedSemaphorePermit,
    shared: &Shared,
) -> impl Future<Output = Option<()>> + Send + 'static {
    let config = Arc::clone(&shared.config);
    connection::run(conn, session, outbound, config, permit)
        .with_cancellation_token_owned(shared.kill.clone())
}

/// Serves `hub` over TCP on `listener` until `shutdown` resolves, then shuts down gracefully:
/// stops accepting, shuts the hub down (in-flight sends commit, sessions close with 1001 after
/// their queued frames) and waits for the connections.
///
/// Errors: the hub failing to close its store or bus ([`Error::Hub`](crate::Error::Hub)).
pub async fn serve<F>(listener: TcpListener, hub: Hub, config: TcpConfig, shutdown: F) -> Result<()>
where
    F: Future<Output = ()> + Send,
{
    let transport = TcpTransport::new(hub, config);
    transport.accept(listener, shutdown).await;
    tracing::info!("TCP transport shutting down: no new connections");
    transport.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #16: Nagle's algorithm with the peer's delayed ACK stalled small rooms 40 ms per
    /// message. Every connection the transport serves comes from `accept_next`.
    #[tokio::test]
    async fn accepted_sockets_have_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (server_side, peer) = accept_next(&listener).await.expect("accept");
        assert_eq!(peer, client.local_addr().expect("client addr"));
        assert!(server_side.nodelay().expect("read TCP_NODELAY"));
    }

    /// Issue #16: an idle connection's task held 11.8 KB, sized for the TLS handshake and
    /// the `hello` it had finished long before (BENCHMARKS.md, "The TCP transport's memory
    /// per connection"). Its session now runs on a task of its own, holding the session's
    /// state alone: the command layer's future is boxed per request, the handshakes are not
    /// part of it.
    #[tokio::test]
    async fn an_open_connections_task_holds_the_session_alone() {
        let hub = chatcore_testkit::memory_hub().await;
        let transport = TcpTransport::new(hub, TcpConfig::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _client = TcpStream::connect(addr).await.expect("connect");
        let (stream, _) = accept_next(&listener).await.expect("accept");
        let (mut session, outbound) = chatcore_testkit::guest_session(transport.hub(), "ann").await;
        let command = std::mem::size_of_val(&session.handle_frame(b"{}"));
        let conn = Conn::new(stream, transport.config());
        let permit = Arc::clone(&transport.shared.permits)
            .try_acquire_owned()
            .expect("a slot");
        let task = session_task(conn, session, outbound, permit, &transport.shared);
        let size = std::mem::size_of_val(&task);
        assert!(
            size < command,
            "session task {size} bytes, command {command}"
        );
        assert!(
            size <= 1280,
            "session task {size} bytes (1,048 when last measured)"
        );
    }
}
