//! The WebSocket close codes this transport sends, and how a [`CloseReason`] maps to them.
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
//!
//! Codes 1000, 1001 and 4008 invite a reconnect (with `resume`); 1002, 1007, 1008 and 1009
//! mean the client has a bug or is abusive and should not retry the same thing.
//!
//! A write that does not finish within [`WsConfig::write_timeout`](crate::WsConfig::write_timeout)
//! cannot be followed by a close frame: the TCP connection is dropped and the peer sees the
//! stream end without one (code 1006 in browsers).

use chatcore::CloseReason;

/// Normal closure.
pub const NORMAL: u16 = 1000;
/// The server is going away (shutdown).
pub const GOING_AWAY: u16 = 1001;
/// The peer violated the WebSocket protocol.
pub const PROTOCOL_ERROR: u16 = 1002;
/// A text frame carried invalid UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// Policy violation (flooding, or [`CloseReason::Policy`]).
pub const POLICY: u16 = 1008;
/// A message was larger than the configured limit.
pub const TOO_BIG: u16 = 1009;
/// The server hit a condition it does not know how to report otherwise.
pub const INTERNAL: u16 = 1011;
/// No traffic from the peer, not even a pong, for the idle timeout.
pub const IDLE_TIMEOUT: u16 = 4000;
/// The session's outbound queue overflowed: reconnect and resume.
pub const SLOW_CONSUMER: u16 = 4008;

/// The close code and reason text sent for a session that ended for `reason`.
pub fn for_reason(reason: CloseReason) -> (u16, &'static str) {
    match reason {
        CloseReason::Normal => (NORMAL, "session closed"),
        CloseReason::GoingAway => (GOING_AWAY, "server shutting down: reconnect and resume"),
        CloseReason::SlowConsumer => (SLOW_CONSUMER, "slow consumer: reconnect and resume"),
        CloseReason::Policy => (POLICY, "policy violation"),
        _ => (INTERNAL, "session closed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_documented_code() {
        assert_eq!(for_reason(CloseReason::Normal).0, 1000);
        assert_eq!(for_reason(CloseReason::GoingAway).0, 1001);
        assert_eq!(for_reason(CloseReason::SlowConsumer).0, 4008);
        assert_eq!(for_reason(CloseReason::Policy).0, 1008);
        for r in [
            CloseReason::Normal,
            CloseReason::GoingAway,
            CloseReason::SlowConsumer,
            CloseReason::Policy,
        ] {
            // Close reasons must fit a control frame (125 bytes minus the 2-byte code).
            assert!(for_reason(r).1.len() <= 123);
        }
    }
}
