//! The crate's one error type, and why a connection ended.

use std::fmt;
use std::time::Duration;

use chatcore::ErrorCode;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the client.
///
/// Errors are `Clone` (they carry text, not I/O handles) because one connection failure fails
/// every request that was waiting on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value or a URL was invalid. Nothing was sent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A request was refused locally before it was sent (blank text, text over the server's
    /// `max_text_bytes`, a bad nonce).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The server could not be reached, or the WebSocket handshake failed on the network or
    /// protocol level (connection refused, DNS, timeout, not a chatcore server).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL that was tried (without credentials).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The TLS handshake with an `https://` or `wss://` server failed: its certificate was
    /// refused (not signed by a trusted CA, issued for another host name, expired), or TLS
    /// could not be negotiated (nothing speaks TLS on that port).
    #[error("TLS with {url} failed: {reason}")]
    Tls {
        /// The URL that was tried (without credentials).
        url: String,
        /// What went wrong, for people: "the server's certificate is not trusted
        /// (UnknownIssuer)".
        reason: String,
        /// `true` when the server's certificate was refused: trusting the CA that signed it
        /// ([`ClientConfig::with_ca_file`](crate::ClientConfig::with_ca_file)) may help.
        certificate: bool,
    },
    /// The server refused the credentials (HTTP 401 at the handshake or from the REST API).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The server answered an HTTP request (the handshake or a REST call) with an error status
    /// other than 401: 403 (origin or guests not allowed), 400, 404, 503 (full or shutting
    /// down), …
    #[error("the server refused the request (HTTP {status}, {code}): {message}", code = code.as_str())]
    Refused {
        /// HTTP status.
        status: u16,
        /// The error code of the JSON error body ([`ErrorCode::Unknown`] when absent or new).
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
    /// The server answered a command with an error frame. Nothing was changed on the server.
    #[error("{message} ({code})", code = code.as_str())]
    Server {
        /// The stable error code.
        code: ErrorCode,
        /// The server's explanation, for people.
        message: String,
    },
    /// No reply arrived within [`ClientConfig::request_timeout`](crate::ClientConfig::request_timeout).
    /// A `send` may or may not have been stored: retry it with the same nonce
    /// ([`OutgoingMessage::with_nonce`](crate::OutgoingMessage::with_nonce)) to find out safely.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The connection ended and the client does not reconnect (reconnecting is off, the
    /// attempts ran out, or the server closed with a code that forbids retrying).
    #[error("disconnected: {0}")]
    Disconnected(DisconnectReason),
    /// The client was closed with [`Client::close`](crate::Client::close) (or every handle
    /// was dropped).
    #[error("the client is closed")]
    Closed,
    /// The server sent something this client cannot understand (no `welcome`, a malformed
    /// reply, an unexpected HTTP answer).
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl Error {
    /// The server's error code, for [`Error::Server`] and [`Error::Refused`].
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Server { code, .. } | Error::Refused { code, .. } => Some(*code),
            Error::Unauthorized(_) => Some(ErrorCode::Unauthorized),
            _ => None,
        }
    }

    /// `true` when the error means "who you are is not accepted or not allowed": a 401/403
    /// answer, or an `unauthorized`/`forbidden` error frame.
    pub fn is_auth(&self) -> bool {
        match self {
            Error::Unauthorized(_) => true,
            Error::Refused { status, code, .. } => {
                *status == 401 || *status == 403 || *code == ErrorCode::Forbidden
            }
            Error::Server { code, .. } => {
                matches!(code, ErrorCode::Unauthorized | ErrorCode::Forbidden)
            }
            _ => false,
        }
    }

    /// `true` when the error is about reaching the server rather than about the request:
    /// [`Error::Connect`], [`Error::Tls`], [`Error::Timeout`], [`Error::Disconnected`], or a
    /// 503 refusal.
    pub fn is_connection(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::Tls { .. }
            | Error::Timeout(_)
            | Error::Disconnected(_) => true,
            Error::Refused { status, .. } => *status == 503,
            _ => false,
        }
    }

    pub(crate) fn server(code: ErrorCode, message: String) -> Self {
        Error::Server { code, message }
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server sent a close frame. Codes 1000, 1001 (shutdown), 4000 (idle) and 4008
    /// (slow consumer) invite a reconnect; 1002, 1007, 1008 and 1009 mean this client broke a
    /// rule and it does not reconnect (see `PROTOCOL.md`, "Close codes").
    ClosedByServer {
        /// The close code.
        code: u16,
        /// The close reason text.
        reason: String,
    },
    /// The connection broke without a close frame (I/O error, reset, the server vanished).
    ConnectionLost(String),
    /// Nothing (not even a ping) arrived for
    /// [`ClientConfig::idle_timeout`](crate::ClientConfig::idle_timeout).
    IdleTimeout,
    /// This client closed the connection ([`Client::close`](crate::Client::close)).
    ClientClosed,
    /// Reconnecting failed for good: the credentials were refused, or
    /// [`ClientConfig::max_reconnect_attempts`](crate::ClientConfig::max_reconnect_attempts)
    /// ran out. The last error says why.
    GaveUp(Box<Error>),
}

impl DisconnectReason {
    /// `true` when a reconnect may help: everything except a close code that says this
    /// client broke a rule (1002, 1007, 1008, 1009), a client-side close, or giving up.
    pub fn may_reconnect(&self) -> bool {
        match self {
            DisconnectReason::ClosedByServer { code, .. } => {
                !matches!(code, 1002 | 1003 | 1007 | 1008 | 1009 | 1010)
            }
            DisconnectReason::ConnectionLost(_) | DisconnectReason::IdleTimeout => true,
            DisconnectReason::ClientClosed | DisconnectReason::GaveUp(_) => false,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::ClosedByServer { code, reason } if reason.is_empty() => {
                write!(f, "closed by the server (code {code})")
            }
            DisconnectReason::ClosedByServer { code, reason } => {
                write!(f, "closed by the server (code {code}: {reason})")
            }
            DisconnectReason::ConnectionLost(why) => write!(f, "connection lost: {why}"),
            DisconnectReason::IdleTimeout => {
                f.write_str("no traffic from the server (idle timeout)")
            }
            DisconnectReason::ClientClosed => f.write_str("closed by the client"),
            DisconnectReason::GaveUp(last) => write!(f, "gave up reconnecting: {last}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(Error::Unauthorized("x".into()).is_auth());
        let forbidden = Error::server(ErrorCode::Forbidden, "no".into());
        assert!(forbidden.is_auth());
        assert_eq!(forbidden.code(), Some(ErrorCode::Forbidden));
        let full = Error::Refused {
            status: 503,
            code: ErrorCode::Unavailable,
            message: "full".into(),
        };
        assert!(full.is_connection() && !full.is_auth());
        assert!(Error::Timeout(Duration::from_secs(1)).is_connection());
        assert!(!Error::Closed.is_connection());
    }

    #[test]
    fn which_closes_invite_a_reconnect() {
        let close = |code| DisconnectReason::ClosedByServer {
            code,
            reason: String::new(),
        };
        for code in [1000, 1001, 1011, 4000, 4008] {
            assert!(close(code).may_reconnect(), "{code}");
        }
        for code in [1002, 1007, 1008, 1009] {
            assert!(!close(code).may_reconnect(), "{code}");
        }
        assert!(!DisconnectReason::ClientClosed.may_reconnect());
        assert_eq!(close(4008).to_string(), "closed by the server (code 4008)");
    }
}
