//! # chatcore-client
//!
//! The Rust client of the [`chatcore`] chat engine: typed commands over one WebSocket
//! connection (plain or TLS) that heals itself. A [`Client`] connects to a chatcore server (`chat-server`,
//! or any service embedding `chatcore-transport-ws`), sends commands and awaits their
//! replies, and hands everything else that happens to an [`Events`] stream.
//! [`Client::connect`] makes one attempt and fails when it fails; [`Client::start`] returns
//! at once and keeps trying in the background, for programs that may start before their
//! server.
//!
//! ```no_run
//! # async fn demo() -> chatcore_client::Result<()> {
//! use chatcore_client::{Client, ClientConfig, ClientEvent};
//! use futures::StreamExt;
//!
//! let config = ClientConfig::new("http://127.0.0.1:8080")?.with_guest("ann");
//! let (client, mut events) = Client::connect(config).await?;
//!
//! let joined = client.join("general").await?;
//! println!("{} online, {} recent messages", joined.online.len(), joined.history.len());
//! let ack = client.send("general", "hello").await?;
//! println!("stored as #{}", ack.seq);
//!
//! while let Some(event) = events.next().await {
//!     match event {
//!         ClientEvent::Message(m) => println!("#{} <{}> {}", m.seq, m.sender, m.text),
//!         ClientEvent::State(state) => eprintln!("connection: {state:?}"),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## Transports
//!
//! `http://` and `ws://` URLs connect over WebSocket; `tcp://host:port` URLs over chatcore's
//! TCP transport (`chat-server --tcp-listen`, length-prefixed frames, `PROTOCOL.md` "TCP
//! transport"), and `tcps://host:port` over the same inside TLS (the rustls configuration and
//! CA file of `wss://`; a refused certificate is the same [`Error::Tls`]). Everything below
//! holds for both: the same commands, events, reconnect and
//! resume. A `tcp://` server has no REST API, so [`RestClient`] needs its `http://` address.
//!
//! ## Commands
//!
//! Every command gets a request id, and its future resolves with the reply that carries the
//! same id: [`Client::join`] → [`Joined`], [`Client::send`] / [`Client::dm`] → [`Ack`],
//! [`Client::history`] → [`HistoryPage`], [`Client::rooms`], [`Client::who`],
//! [`Client::ping`], [`Client::leave`]; [`Client::typing`] is fire-and-forget. An error frame
//! becomes [`Error::Server`] with its stable [`ErrorCode`]. Commands wait at most
//! [`ClientConfig::request_timeout`].
//!
//! ## Delivery guarantees
//!
//! - **Exactly once, in order.** Per room, the client remembers the highest seq up to which
//!   it delivered every message, yields a message only when it is the next seq, drops
//!   duplicates, and fills any gap from history before yielding what follows it.
//! - **Resume.** When the connection drops, the client reconnects with exponential backoff
//!   and jitter ([`ClientConfig::backoff_initial`], [`ClientConfig::backoff_max`]), rejoins
//!   every joined room with `resume_after` = the last seq delivered, and, when the server
//!   says the replay was incomplete, pages the rest with `history {after}` before yielding
//!   live messages. The stream sees
//!   [`ConnectionState::Disconnected`], [`ConnectionState::Reconnecting`] and
//!   [`ConnectionState::Connected`] along the way, and never a gap or a duplicate.
//! - **Idempotent send.** Every send carries a nonce (generated, or yours via
//!   [`OutgoingMessage::with_nonce`]). Commands waiting for a reply when the connection
//!   dropped are sent again after the reconnect, in their original order and after the
//!   rooms were rejoined; the server answers a repeated nonce with the original ack
//!   ([`Ack::duplicate`]), so a message is stored once however often it is retried.
//! - **Back-pressure.** The event stream is bounded ([`ClientConfig::event_buffer`]); when the
//!   application does not keep up, the client stops reading the socket rather than buffering
//!   without limit. Outgoing frames are paced under the server's rate limit
//!   ([`ClientConfig::rate_limit`]).
//!
//! The client closes with [`Client::close`] or when the last handle is dropped; it gives up
//! reconnecting when the server refuses the credentials or presents a certificate this client
//! does not trust, closes with a code that says the client broke a rule (1002, 1007, 1008, 1009), or [`ClientConfig::max_reconnect_attempts`]
//! run out. Then [`ConnectionState::Closed`] is the last event.
//!
//! ## Tasks
//!
//! One supervisor task per client runs the connections one after another; each connection
//! has a reader task (decode, route replies, keep rooms in order, feed the event stream) and
//! a writer task (batching, pacing, keep-alive pings). The tasks share one small state behind
//! a `std::sync::Mutex` that is never held across an `.await`.
//!
//! ## REST
//!
//! [`RestClient`] covers what needs no session: `POST /api/token` ([`RestClient::issue_token`])
//! and anonymous reads of public rooms. It runs on `reqwest` (HTTP/1.1, no proxy, no
//! redirects) with the same TLS roots as the WebSocket.
//!
//! ## TLS
//!
//! `https://` and `wss://` URLs connect over TLS (rustls); `http://` and `ws://` do not. The
//! server's certificate must chain to a root of `webpki-roots` (the Mozilla CA list, built
//! in, so it works the same on every machine and in minimal containers), or to a CA the
//! application adds with [`ClientConfig::with_ca_file`] (a private CA, or a self-signed
//! server's certificate) and [`RestClient::with_ca_file`]:
//!
//! ```no_run
//! # async fn demo() -> chatcore_client::Result<()> {
//! use chatcore_client::{Client, ClientConfig, Error};
//!
//! let config = ClientConfig::new("https://chat.internal:8443")?
//!     .with_ca_file("/etc/chat/ca.pem")? // read and checked here
//!     .with_guest("ann");
//! match Client::connect(config).await {
//!     Err(Error::Tls { reason, certificate: true, .. }) => eprintln!("not trusted: {reason}"),
//!     other => { other?; }
//! }
//! # Ok(()) }
//! ```
//!
//! A refused certificate is [`Error::Tls`] with `certificate: true` (and ends reconnecting:
//! retrying cannot make it trusted). Cryptography comes from the process's default rustls
//! `CryptoProvider` when the application installed one, and otherwise from ring, which the
//! client then installs as that default (so no other rustls user in the process can panic
//! for lack of one). ring builds from C and assembly with `cc` alone, faster than aws-lc-rs.
//!
//! ## Features
//!
//! None by default: the library alone pulls no command-line parser.
//!
//! - `cli`: the `chat-cli` binary (`cargo run -p chatcore-client --features cli --bin
//!   chat-cli -- --help`), with clap and tracing-subscriber.

mod backoff;
mod client;
mod config;
mod endpoint;
mod error;
mod events;
mod rest;
mod tls;
mod types;
mod view;

pub use chatcore::ErrorCode;
pub use chatcore::protocol::{
    Codec, Member, Message, MessageKind, Receipt, Role, RoomKind, RoomSummary, SearchHit,
};
pub use client::Client;
pub use config::{Auth, ClientConfig};
pub use error::{DisconnectReason, Error, Result};
pub use events::{ClientEvent, ConnectionState, Events};
pub use rest::{RestClient, SessionGrant, TokenGrant};
pub use types::{Ack, HistoryPage, HistoryQuery, Joined, OutgoingMessage, SearchPage, SessionInfo};
pub use view::RoomView;
