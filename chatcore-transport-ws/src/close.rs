//! The WebSocket close codes this transport sends, and how a [`CloseReason`] maps to them.
//!
//! The codes and the mapping are chatcore's, shared by every transport
//! ([`chatcore::transport::close`]); this module names the ones a WebSocket connection uses.
//!
//! | code | name | sent when |
//! |---|---|---|
//! | 1000 | [`NORMAL`] | the session ended normally ([`CloseReason::Normal`]) |
//! | 1001 | [`GOING_AWAY`] | the server shuts down ([`CloseReason::GoingAway`]); queued frames are written first |
//! | 1002 | [`PROTOCOL_ERROR`] | the peer broke the WebSocket protocol (unmasked or reserved frames, bad fragmentation) |
//! | 1007 | [`INVALID_PAYLOAD`] | a text frame was not valid UTF-8 (RFC 6455 §8.1 prescribes this code) |
//! | 1008 | [`POLICY`] | the peer kept flooding after `rate_limited` errors, or the hub dropped it for breaking policy ([`CloseReason::Policy`]) |
//! | 1009 | [`TOO_BIG`] | a message or frame exceeded [`WsConfig::max_message_bytes`](crate::WsConfig::max_message_bytes) |
//! | 1011 | [`INTERNAL`] | a close reason this version does not know (a newer core) |
//! | 4000 | [`IDLE_TIMEOUT`] | nothing (not even a pong) arrived for [`WsConfig::idle_timeout`](crate::WsConfig::idle_timeout) |
//! | 4008 | [`SLOW_CONSUMER`] | the session's outbound queue overflowed ([`CloseReason::SlowConsumer`]): reconnect and resume |
//! | 4429 | [`TOO_MANY_CONNECTIONS`] | the peer's IP address already has the hub's `max_connections_per_ip` sessions open: the upgrade is answered, then closed at once (a browser cannot read an HTTP refusal of a WebSocket, but it reads a close code) |
//! | 4403 | [`REVOKED`] | the account's session was revoked ([`CloseReason::Revoked`]: logout, password change, replayed refresh token): sign in again |
//!
//! Codes 1000, 1001 and 4008 invite a reconnect (with `resume`); 1002, 1007, 1008 and 1009
//! mean the client has a bug or is abusive and should not retry the same thing.
//!
//! A write that does not finish within [`WsConfig::write_timeout`](crate::WsConfig::write_timeout)
//! cannot be followed by a close frame: the TCP connection is dropped and the peer sees the
//! stream end without one (code 1006 in browsers).

#[cfg(doc)]
use chatcore::CloseReason;

pub use chatcore::transport::close::{
    GOING_AWAY, IDLE_TIMEOUT, INTERNAL, INVALID_PAYLOAD, NORMAL, POLICY, PROTOCOL_ERROR, REVOKED,
    SLOW_CONSUMER, TOO_BIG, TOO_MANY_CONNECTIONS, for_reason,
};
