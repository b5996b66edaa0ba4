//! `--tcp-listen`: the TCP transport beside the WebSocket listener, on the same hub, so TCP
//! and WebSocket users chat in the same rooms. With `--tls-cert/--tls-key` it speaks TLS
//! with the same certificate (`tcps://`).

use std::net::SocketAddr;
use std::sync::Arc;

use chatcore::Hub;
use chatcore::transport::RateLimit;
use chatcore_transport_tcp::rustls::ServerConfig;
use chatcore_transport_tcp::{TcpConfig, TcpTransport};
use chatcore_transport_ws::WsConfig;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{Result, StartupError};

/// The TCP transport's settings: the WebSocket transport's frame limit, connection cap and
/// rate limit, so a client meets the same limits on either.
pub fn tcp_config(ws: &WsConfig) -> Result<TcpConfig> {
    let why = |e: chatcore_transport_tcp::Error| StartupError::Config(format!("--tcp-listen: {e}"));
    let rate: RateLimit = ws.rate_limit();
    Ok(TcpConfig::default()
        .with_max_frame_bytes(ws.max_message_bytes())
        .and_then(|c| c.with_max_connections(ws.max_connections()))
        .and_then(|c| c.with_handshake_timeout(ws.handshake_timeout()))
        .map_err(why)?
        .with_handshake_limit(ws.handshake_limit())
        .with_rate_limit(rate))
}

/// Binds the TCP listener, with a message that names the flag when it cannot.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        StartupError::Config(format!(
            "cannot listen on {addr}: {e}; pick another address or port with --tcp-listen"
        ))
    })
}

/// A TCP transport accepting on its listener.
#[derive(Debug)]
pub struct TcpListening {
    transport: TcpTransport,
    accepting: JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

impl TcpListening {
    /// Starts accepting TCP connections into `hub`, over TLS when `tls` is given.
    pub fn start(
        listener: TcpListener,
        hub: Hub,
        config: TcpConfig,
        tls: Option<Arc<ServerConfig>>,
    ) -> Self {
        let transport = match tls {
            Some(tls) => TcpTransport::with_tls(hub, config, tls),
            None => TcpTransport::new(hub, config),
        };
        let (stop, stopped) = oneshot::channel();
        let accepting = tokio::spawn({
            let transport = transport.clone();
            async move {
                transport
                    .accept(listener, async {
                        let _ = stopped.await;
                    })
                    .await;
            }
        });
        Self {
            transport,
            accepting,
            stop,
        }
    }

    /// Stops accepting; the connections run on until the hub shuts down.
    pub fn stop_accepting(self) -> TcpDraining {
        let _ = self.stop.send(());
        TcpDraining {
            transport: self.transport,
            accepting: self.accepting,
        }
    }
}

/// A TCP transport that no longer accepts, waiting for its connections.
#[derive(Debug)]
pub struct TcpDraining {
    transport: TcpTransport,
    accepting: JoinHandle<()>,
}

impl TcpDraining {
    /// Once the hub has shut down (its sessions closed with 1001), waits for the TCP
    /// connections to write their queued frames and end.
    pub async fn drain(self) {
        let _ = self.accepting.await;
        self.transport.drain().await;
    }
}
