//! What every transport needs besides the [`Hub`](crate::Hub): the close codes a session ends
//! with, a per-connection rate limiter, the [`link`] between a connection's reader and writer,
//! the [`DirectSink`] through which the hub writes to an idle connection's socket itself, and
//! the cork ([`poll_corked`]) under which a connection's reader has its frames written that way
//! (through a socket shared with the write pump: [`SocketSink`], [`PumpWrite`]), and the
//! choice of [`Credentials`](crate::auth::Credentials) from what a client presented.
//!
//! [`framed`] is the wire format of stream transports (length-prefixed frames, `hello`,
//! `close`), shared by the TCP transport and the clients that speak it.
//!
//! Transports (`chatcore-transport-ws`, `chatcore-transport-tcp`) never depend on each other;
//! what both must do the same way lives here, once, so a WebSocket user and a TCP user see
//! the same limits, the same refusals and the same close codes.

mod activity;
pub mod close;
mod credentials;
pub mod framed;
mod handshakes;
mod limits;
mod link;
mod rate;
mod socket;
mod stall;

pub use crate::hub::cork::poll_corked;
pub use crate::hub::sink::{Direct, DirectSink};
pub use activity::Activity;
pub use credentials::{CredentialHints, choose_credentials};
pub(crate) use handshakes::canonical;
pub use handshakes::{HandshakeLimit, HandshakeSlot, Handshakes};
pub use limits::{Keepalive, RateLimit};
pub use link::{LinkSender, ReaderLink, WriterLink, link};
pub use rate::{ABUSE, Admission, RateLimiter, Verdict};
pub use socket::{
    Framing, KEEP_BUFFER, LengthPrefixed, PumpWrite, SharedSocket, SocketSink, Split, recycle,
};
pub use stall::{Guarded, WriteGuard};
