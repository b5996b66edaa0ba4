//! The numeric close codes of every chatcore transport, and how a [`CloseReason`] maps to them.
//!
//! The numbers are WebSocket close codes (RFC 6455 §7.4 and the 4000–4999 private range). The
//! WebSocket transport sends them in close frames; the TCP transport in its final `close`
//! frame. `PROTOCOL.md` lists what a client should do for each.
//!
//! | code | name | sent when |
//! |---|---|---|
//! | 1000 | [`NORMAL`] | the session ended normally ([`CloseReason::Normal`]) |
//! | 1001 | [`GOING_AWAY`] | the server shuts down ([`CloseReason::GoingAway`]); queued frames are written first |
//! | 1002 | [`PROTOCOL_ERROR`] | the peer broke the transport's framing (WebSocket protocol, a TCP `hello` that is not one) |
//! | 1007 | [`INVALID_PAYLOAD`] | a WebSocket text frame was not valid UTF-8 |
//! | 1008 | [`POLICY`] | the peer kept flooding after `rate_limited` errors ([`CloseReason::Policy`]) |
//! | 1009 | [`TOO_BIG`] | a message or frame exceeded the transport's size limit |
//! | 1011 | [`INTERNAL`] | a close reason this version does not know (a newer core) |
//! | 1013 | [`TRY_AGAIN_LATER`] | TCP handshake: the server is at its connection limit or shutting down |
//! | 4000 | [`IDLE_TIMEOUT`] | nothing (not even a keep-alive answer) arrived for the idle timeout |
//! | 4008 | [`SLOW_CONSUMER`] | the session's outbound queue overflowed ([`CloseReason::SlowConsumer`]) |
//! | 4403 | [`REVOKED`] | the account's session was revoked: logout, password change, replayed refresh token, deleted account ([`CloseReason::Revoked`]) |
//! | 4429 | [`TOO_MANY_CONNECTIONS`] | the peer's IP address has [`Limits::max_connections_per_ip`](crate::Limits::max_connections_per_ip) sessions open already (sent right after the handshake, on every transport) |
//! | 4401 | [`UNAUTHORIZED`] | TCP handshake: the credentials were refused |
//! | 4408 | [`HANDSHAKE_TIMEOUT`] | TCP handshake: no complete `hello` within the handshake timeout |
//!
//! The WebSocket transport answers handshake refusals with HTTP statuses before the upgrade,
//! so it never sends 1013, 4401 or 4408.

use crate::CloseReason;

/// Normal closure.
pub const NORMAL: u16 = 1000;
/// The server is going away (shutdown).
pub const GOING_AWAY: u16 = 1001;
/// The peer violated the transport's protocol.
pub const PROTOCOL_ERROR: u16 = 1002;
/// A text frame carried invalid UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// Policy violation (flooding, or [`CloseReason::Policy`]).
pub const POLICY: u16 = 1008;
/// A message was larger than the configured limit.
pub const TOO_BIG: u16 = 1009;
/// The server hit a condition it does not know how to report otherwise.
pub const INTERNAL: u16 = 1011;
/// The server cannot take the connection now (connection limit, shutdown): retry later.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// No traffic from the peer, not even a keep-alive answer, for the idle timeout.
pub const IDLE_TIMEOUT: u16 = 4000;
/// The session's outbound queue overflowed: reconnect and resume.
pub const SLOW_CONSUMER: u16 = 4008;
/// The account's session was revoked: sign in again.
pub const REVOKED: u16 = 4403;
/// The peer's IP address has as many sessions open as the hub allows: close one, or retry
/// later.
pub const TOO_MANY_CONNECTIONS: u16 = 4429;
/// The credentials were missing or refused.
pub const UNAUTHORIZED: u16 = 4401;
/// The handshake did not complete in time.
pub const HANDSHAKE_TIMEOUT: u16 = 4408;

/// Longest close reason in bytes: what a WebSocket close frame can carry (125 bytes of
/// payload minus the 2-byte code). Every transport keeps to it so reasons read the same.
pub const MAX_REASON_BYTES: usize = 123;

/// The close code and reason text sent for a session that ended for `reason`.
#[allow(
    unreachable_patterns,
    reason = "a reason added to the hub closes with 1011 until it is given a code"
)]
pub fn for_reason(reason: CloseReason) -> (u16, &'static str) {
    match reason {
        CloseReason::Normal => (NORMAL, "session closed"),
        CloseReason::GoingAway => (GOING_AWAY, "server shutting down: reconnect and resume"),
        CloseReason::SlowConsumer => (SLOW_CONSUMER, "slow consumer: reconnect and resume"),
        CloseReason::Policy => (POLICY, "policy violation"),
        CloseReason::Revoked => (REVOKED, "session revoked: sign in again"),
        _ => (INTERNAL, "session closed"),
    }
}

/// Cuts a close reason to [`MAX_REASON_BYTES`], on a character boundary.
pub fn reason_text(reason: &str) -> &str {
    if reason.len() <= MAX_REASON_BYTES {
        return reason;
    }
    let mut end = MAX_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
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
        assert_eq!(for_reason(CloseReason::Revoked).0, 4403);
        assert_eq!(TOO_MANY_CONNECTIONS, 4429);
        for r in [
            CloseReason::Revoked,
            CloseReason::Normal,
            CloseReason::GoingAway,
            CloseReason::SlowConsumer,
            CloseReason::Policy,
        ] {
            assert!(for_reason(r).1.len() <= MAX_REASON_BYTES);
        }
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = reason_text(&long);
        assert!(cut.len() <= MAX_REASON_BYTES);
        assert_eq!(cut.len(), 122);
        assert_eq!(reason_text("short"), "short");
    }
}
