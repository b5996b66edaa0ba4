//! # chatcore-transport-tcp
//!
//! A second transport for [`chatcore`]: length-prefixed frames over plain TCP, for clients
//! that have no use for HTTP (bots, embedded devices, other services). It speaks the same
//! protocol as the WebSocket transport — the same codecs (JSON and MessagePack), the same
//! credentials, the same limits, the same close codes — so TCP and WebSocket users of one
//! [`Hub`](chatcore::Hub) meet in the same rooms.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use chatcore::Hub;
//! use chatcore_transport_tcp::{TcpConfig, serve};
//!
//! let hub = Hub::builder().build().await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
//! let shutdown = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! // Returns after ctrl-c, once the hub has shut down and the connections have closed.
//! serve(listener, hub, TcpConfig::default(), shutdown).await?;
//! # Ok(()) }
//! ```
//!
//! Beside a WebSocket transport on the same hub, accept with a [`TcpTransport`] and let the
//! WebSocket side shut the hub down; then [`TcpTransport::drain`] waits for the TCP
//! connections:
//!
//! ```no_run
//! # async fn demo(hub: chatcore::Hub) {
//! use chatcore_transport_tcp::{TcpConfig, TcpTransport};
//! use tokio_util::sync::CancellationToken;
//!
//! let stop = CancellationToken::new();
//! let tcp = TcpTransport::new(hub.clone(), TcpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await.expect("bind");
//! let accepting = tokio::spawn({
//!     let (tcp, stop) = (tcp.clone(), stop.clone());
//!     async move { tcp.accept(listener, stop.cancelled_owned()).await }
//! });
//! // … serve WebSocket on the same hub until shutdown, which shuts the hub down …
//! stop.cancel();
//! let _ = accepting.await;
//! tcp.drain().await;
//! # }
//! ```
//!
//! ## How it works: the wire format
//!
//! Every frame is a 4-byte big-endian length and that many bytes of payload (see
//! [`chatcore::transport::framed`]):
//!
//! 1. The client sends a **hello**, always JSON:
//!    `{"type":"hello","protocol":1,"codec":"json","user":"ann"}` — `codec` is `json` or
//!    `msgpack`; credentials are `token` (a JWT) or `user` (a guest name, when the hub lets
//!    guests in).
//! 2. The server answers with the session's `welcome` in the chosen codec, or with a **close**
//!    frame and the end of the connection.
//! 3. Then requests and events flow in the chosen codec, exactly as over WebSocket.
//! 4. An **empty frame** (length 0) is a keep-alive. The server sends one every
//!    keep-alive interval; a client must send something (a keep-alive will do) at least
//!    once per idle timeout ([`TcpConfig::keepalive`]), or it is closed with 4000. Keep-alives are
//!    never answered.
//! 5. The server ends a connection with a **close** frame,
//!    `{"type":"close","code":1001,"reason":"…"}` in the connection's codec (JSON before one
//!    was chosen), then FIN. A client ends its session by closing its side of the connection.
//!
//! ## Limits and close codes
//!
//! The defaults are [`WsConfig`'s]: 64 KiB frames, 30 frames per second in bursts of 100,
//! 10,000 connections, a keep-alive every 20 s and a 60 s idle timeout, plus a 10 s handshake
//! timeout. The codes are chatcore's ([`chatcore::transport::close`]):
//!
//! | input | answer |
//! |---|---|
//! | a length prefix over [`TcpConfig::max_frame_bytes`] (HTTP or other garbage reads as one) | close 1009, before the payload is read |
//! | a first frame that is not a JSON hello, an unknown protocol version or codec | close 1002 |
//! | missing or refused credentials | close 4401 |
//! | no complete hello within [`TcpConfig::handshake_timeout`] (silence or a trickle) | close 4408 |
//! | over [`TcpConfig::max_connections`], or the server shutting down | close 1013 |
//! | the peer IP already has the hub's [`Limits::max_connections_per_ip`](chatcore::Limits::max_connections_per_ip) sessions open | close 4429 after the `hello` |
//! | over [`TcpConfig::handshake_limit`] (unfinished handshakes per peer IP or in total) | closed at accept, no close frame |
//! | invalid JSON / MessagePack, a frame in the other codec | error frame `bad_frame`; the connection stays |
//! | unknown `type` / missing fields | error frame `unknown_type` / `bad_request` with the request id |
//! | more frames than [`TcpConfig::rate_limit`] allows | error frame `rate_limited`; after 50 of them, close 1008 |
//! | silence for the idle timeout ([`TcpConfig::keepalive`]) | close 4000 |
//! | a client that stops reading: a write the kernel has not taken for `Limits::slow_consumer_after` (3 s) while frames wait | the connection is dropped: the client reads what the kernels held, then the end of the stream |
//! | the session's queue stayed full, untouched, for `slow_consumer_after` / server shutdown | close 4008 / 1001 (queued frames first) |
//!
//! ## TLS
//!
//! With the `tls` feature, `TcpTransport::with_tls` takes a rustls `ServerConfig`: every
//! connection does the TLS handshake first (within [`TcpConfig::handshake_timeout`], holding a
//! slot under [`TcpConfig::max_connections`], on its own task so a stalled handshake delays no
//! one), then the same frames flow inside TLS. Clients name such an endpoint `tcps://host:port`.
//!
//! ## Feature flags
//!
//! - `tls` (off by default): `TcpTransport::with_tls`, with rustls and the ring crypto
//!   provider, and the `rustls` it uses, re-exported.
//!
//! ## Limits of this version
//!
//! - No Prometheus metrics of its own: its sessions count in the hub's [`chatcore::Hub::stats`],
//!   and [`TcpTransport::open_connections`] tells the connections open.
//!
//! [`WsConfig`'s]: https://docs.rs/chatcore-transport-ws

mod config;
mod connection;
mod error;
mod handshake;
mod server;

pub use config::TcpConfig;
pub use error::{Error, Result};
pub use server::{TcpTransport, serve};

/// The `rustls` this crate speaks TLS with (feature `tls`), to build the
/// [`ServerConfig`](rustls::ServerConfig) for `TcpTransport::with_tls` with the same version.
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;
