//! The accept loop behind [`serve`](crate::serve): every TCP connection from `accept` to its
//! WebSocket upgrade (or its last HTTP response).
//!
//! Each accepted connection gets `TCP_NODELAY` (chat frames are small: with Nagle's
//! algorithm and the peer's delayed ACK a small room stalls 40 ms per message), then a
//! handshake slot ([`Handshakes`], per peer IP and in total) or it is closed at once, and a
//! slot under the connection cap while one is free. On its own task it then has
//! [`WsConfig::handshake_timeout`] for the [`Listener::handshake`] (TLS) and again for each
//! HTTP request head (hyper's header-read timeout, which also ends idle keep-alive
//! connections). The slots travel with the request as a [`PendingHandshake`]: the WebSocket
//! handshake takes the connection slot over and frees the handshake slot; any other
//! connection returns both when it closes.

mod listener;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use chatcore::transport::{HandshakeSlot, Handshakes};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

pub use listener::Listener;

use crate::WsConfig;
use crate::metrics::Rejection;
use crate::shared::Shared;

/// Longest pause after a failed `accept` (out of file descriptors, …), so a server at its
/// limit neither spins nor stops serving.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The slots an HTTP connection holds until it becomes a WebSocket or closes.
#[derive(Debug)]
pub(crate) struct Slots {
    /// Its place among the unfinished handshakes, held only to be dropped (freed) with it.
    _handshake: HandshakeSlot,
    /// Its slot under the connection cap, when one was free at accept.
    connection: Option<OwnedSemaphorePermit>,
}

/// The [`Slots`] of the connection a request arrived on (a request extension). The WebSocket
/// handshake takes them; they are gone for later requests on the same connection.
#[derive(Debug, Clone)]
pub(crate) struct PendingHandshake(Arc<Mutex<Option<Slots>>>);

impl PendingHandshake {
    /// Ends the handshake: frees the handshake slot and returns the connection slot, if the
    /// connection holds one.
    pub(crate) fn finish(&self) -> Option<OwnedSemaphorePermit> {
        let slots = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        slots.and_then(|s| s.connection)
    }
}

/// Sets `TCP_NODELAY` on an accepted connection (see the module docs for why).
pub(crate) fn tune(tcp: &TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
}

/// Accepts connections on `listener` until `stop` is cancelled; each runs on a task of
/// `connections`, which end gracefully (their current request answered) once `drain` is
/// cancelled.
pub(crate) async fn run<L: Listener>(
    mut listener: L,
    router: Router,
    shared: Arc<Shared>,
    connections: TaskTracker,
    stop: CancellationToken,
    drain: CancellationToken,
) {
    let handshakes = Handshakes::new(shared.config.handshake_limit);
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(5);
        tune(&tcp);
        let Some(handshake) = handshakes.try_start(peer.ip()) else {
            shared.metrics.rejected(Rejection::HandshakeLimit);
            tracing::debug!(%peer, "too many unfinished handshakes; connection closed");
            continue;
        };
        let slots = Slots {
            _handshake: handshake,
            connection: Arc::clone(&shared.permits).try_acquire_owned().ok(),
        };
        let secured = listener.handshake(tcp);
        let (router, shared, drain) = (router.clone(), Arc::clone(&shared), drain.clone());
        connections.spawn(async move {
            let config = &shared.config;
            let io = match tokio::time::timeout(config.handshake_timeout, secured).await {
                Ok(Ok(io)) => io,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "handshake failed");
                    return;
                }
                Err(_) => {
                    shared.metrics.rejected(Rejection::HandshakeTimeout);
                    tracing::debug!(%peer, "no handshake within the handshake timeout");
                    return;
                }
            };
            serve_http(io, peer, router, config, slots, drain).await;
        });
    }
}

/// Serves HTTP/1.1 (with upgrades) on one connection.
async fn serve_http<I>(
    io: I,
    peer: std::net::SocketAddr,
    router: Router,
    config: &WsConfig,
    slots: Slots,
    drain: CancellationToken,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let pending = PendingHandshake(Arc::new(Mutex::new(Some(slots))));
    let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(pending.clone());
        // The peer's address, for per-IP limits (login attempts).
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.handshake_timeout)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let served = tokio::select! {
        served = conn.as_mut() => served,
        () = drain.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = served {
        tracing::debug!(error = %e, "HTTP connection ended with an error");
    }
}
