//! # chatcore-transport-ws
//!
//! The WebSocket transport and HTTP surface of [`chatcore`]: it authenticates a
//! client at the handshake, negotiates the codec, runs one reader and one writer task per
//! connection that feed a [`chatcore::Session`] and drain its outbound queue, keeps idle
//! connections alive, enforces size and rate limits, and serves a small REST API, health and
//! readiness probes, Prometheus metrics and the browser client, all as one axum [`Router`]
//! an embedding service can mount, or standalone through [`serve`].
//!
//! ## Serving standalone
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use chatcore::Hub;
//! use chatcore_transport_ws::{WsConfig, serve};
//!
//! let hub = Hub::builder().build().await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let shutdown = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! // Returns after ctrl-c, once the hub has shut down and the connections have closed.
//! serve(listener, hub, WsConfig::default(), shutdown).await?;
//! # Ok(()) }
//! ```
//!
//! Over TLS, wrap the listener in a `TlsListener` (feature `tls`) with a `rustls`
//! `ServerConfig`: `serve(TlsListener::new(listener, config), …)`.
//!
//! [`serve`] runs its own accept loop (hyper's HTTP/1.1 with upgrades): every connection gets
//! `TCP_NODELAY`, a slot among the unfinished handshakes ([`WsConfig::handshake_limit`]: 64
//! per peer IP, 1,024 in total; past it the connection is closed at accept) and
//! [`WsConfig::handshake_timeout`] for TLS and each request head. A router mounted into your
//! own server gets none of that from this crate: give your server a header-read timeout.
//!
//! ## Mounting into an existing axum application
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{Router, routing::get};
//! use chatcore::Hub;
//! use chatcore_transport_ws::{Transport, WsConfig};
//!
//! let hub = Hub::builder().build().await?;
//! let chat = Transport::new(hub, WsConfig::default());
//! let app = Router::new()
//!     .route("/", get(|| async { "my service" }))
//!     // Socket at /chat/ws, REST at /chat/api/…, the web client at /chat/.
//!     .nest("/chat", chat.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app)
//!     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await?;
//! // Closes the sessions (1001 after their queued frames) and waits for the sockets.
//! chat.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! ## The socket: `GET /ws`
//!
//! - **Credentials** at the handshake: `Authorization: Bearer <JWT>` or `?token=<JWT>`
//!   (browsers cannot set headers on a WebSocket); a guest name `?user=<name>` only when the
//!   hub's authenticator allows guests. Anything else is refused with HTTP 401 and a JSON
//!   body saying what to present, before the upgrade.
//! - **Codec** by subprotocol: `chatcore.v1.json` (text frames; the default when no
//!   subprotocol is asked for) or `chatcore.v1.msgpack` (binary frames). The chosen one is
//!   echoed. A request offering only unknown subprotocols is refused with HTTP 400 naming
//!   the supported ones; falling back to JSON would only make browsers fail the connection
//!   with a less helpful error.
//! - **Host** (every request, REST too): a loopback name, an IP address or one of
//!   [`WsConfig::allowed_hosts`]; others get HTTP 421 (DNS rebinding).
//! - **Origin**: browser origins must be the request's own (allowed) host, a loopback host, or
//!   listed in [`WsConfig::allowed_origins`]; others get HTTP 403. Requests without `Origin`
//!   pass.
//! - **Capacity**: past [`WsConfig::max_connections`] the handshake gets HTTP 503 with
//!   `Retry-After`; while the hub shuts down, too.
//! - **Keep-alive**: a ping every [`WsConfig::ping_interval`]; a peer silent (not even a
//!   pong) for [`WsConfig::idle_timeout`] is closed with 4000. A write that takes longer
//!   than [`WsConfig::write_timeout`] drops the connection.
//! - **Writes are coalesced**: after one frame the writer takes every frame already queued
//!   (up to 256) and flushes once. Each frame is encoded once per codec and shared by all
//!   recipients.
//!
//! ## Bad input
//!
//! | input | answer |
//! |---|---|
//! | invalid JSON / MessagePack | error frame `bad_frame` |
//! | unknown `type` | error frame `unknown_type` (with the request id) |
//! | missing or mistyped fields | error frame `bad_request` (with the request id) |
//! | binary frame on the JSON codec, text frame on MessagePack | error frame `bad_frame`; the connection stays |
//! | text over the hub's `max_text_bytes` | error frame `too_large` |
//! | message or frame over [`WsConfig::max_message_bytes`] (64 KiB) | close 1009, never buffered |
//! | text frame that is not UTF-8 | close 1007 |
//! | more than [`WsConfig::rate_limit`] allows (30 per second, bursts of 100) | error frame `rate_limited` per rejected frame, not handled |
//! | still flooding after 50 rejections ([`WsConfig::rate_limit`]) | close 1008 |
//! | WebSocket protocol violation | close 1002 |
//!
//! Close frames are delivered reliably even after an oversized message: the server sends
//! the close, ends its side of the TCP connection, and reads and discards what the peer
//! still sends (bounded in time and bytes) instead of resetting the connection. Nothing a
//! peer sends can panic the server or affect other sessions.
//!
//! ## Close codes
//!
//! | code | meaning |
//! |---|---|
//! | 1000 | normal closure |
//! | 1001 | server shutting down: queued frames were delivered first; reconnect and resume |
//! | 1002 | WebSocket protocol error |
//! | 1007 | a text frame was not UTF-8 |
//! | 1008 | policy: kept flooding after `rate_limited` errors |
//! | 1009 | message too big |
//! | 1011 | unexpected server condition |
//! | 4000 | idle timeout |
//! | 4008 | slow consumer: the outbound queue stayed full, untouched, for `Limits::slow_consumer_after`; reconnect and resume. A client whose socket is full cannot receive it: it reads its backlog, then the connection ends without a close frame (1006; PROTOCOL.md) |
//!
//! The constants are in [`close`].
//!
//! ## HTTP API
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the browser client |
//! | `GET /health` | 200 `ok` (liveness) |
//! | `GET /ready` | 200 `ready` when store and bus answer, else 503 with the reason |
//! | `GET /metrics` | Prometheus text: connections, rooms, messages in, deliveries, fan-out time, queue drops, slow consumers, gaps repaired, … |
//! | `GET /api/rooms` | `{"rooms":[{"name","kind","topic","members","online","last_seq"}…]}` |
//! | `GET /api/rooms/{room}` | one room summary |
//! | `GET /api/rooms/{room}/messages?before=&after=&limit=` | `{"room","messages":[…oldest first],"has_more"}` |
//! | `POST /api/token` | `{"user":"NAME"}` → `{"token","user"}`, only while guests are allowed (else 403) |
//!
//! Public rooms are readable by anyone; private and direct rooms need
//! `Authorization: Bearer <token>` of a member (401 without a token, 403 with someone
//! else's). An invalid token is refused (401), never treated as anonymous. Errors are JSON,
//! `{"error":{"code":"…","message":"…"}}`, with the codes of WebSocket error frames: 400
//! (`bad_request`, `bad_cursor`, `invalid`), 401 (`unauthorized`), 403 (`forbidden`), 404
//! (`unknown_room`, `not_found`), 503 (`unavailable`). A history `limit` above the hub's
//! `max_history_page` is clamped; 0 is an empty page, as over WebSocket.
//!
//! Every route runs under tower-http layers: a panic guard (500), request tracing, a
//! [`WsConfig::request_timeout`] (503) and a [`WsConfig::max_body_bytes`] body limit (413).
//!
//! ## Features
//!
//! - `tls` (off by default): `TlsListener`, TLS termination with rustls (the ring crypto
//!   provider) for [`serve`] and [`serve_router`], and the `rustls` it uses, re-exported.
//!   Off, the crate has no TLS dependency: put a TLS-terminating proxy in front instead.

mod accept;
mod accounts;
mod api_error;
mod bearer;
mod config;
mod connection;
mod error;
mod handshake;
mod headers;
mod host;
mod http;
mod metrics;
mod origin;
mod server;
mod shared;
mod strict_query;
#[cfg(feature = "tls")]
mod tls;

pub mod close;

pub use accept::Listener;
pub use accounts::{AccountsConfig, Registration};
pub use config::WsConfig;
pub use error::{Error, Result};
pub use server::{Transport, router, serve, serve_router};
#[cfg(feature = "tls")]
pub use tls::TlsListener;
/// The `rustls` this crate terminates TLS with (feature `tls`), to build the
/// [`ServerConfig`](rustls::ServerConfig) of a [`TlsListener`] with the same version.
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;

#[doc(no_inline)]
pub use axum::Router;
