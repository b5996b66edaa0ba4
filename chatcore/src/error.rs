//! The crate's one error type and the stable wire error codes.

use serde::{Deserialize, Serialize};

/// A boxed error from a backend client library (database driver, Redis client, …), kept out of
/// our public API's types.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in chatcore and its backends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The room does not exist.
    #[error("no such room: {0}")]
    UnknownRoom(String),
    /// The session is not a member of the room (join it first).
    #[error("not a member of room {0}; join it first")]
    NotMember(String),
    /// The user may not do this (private room, someone else's DM, …).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// `create` of a room whose name is taken (by a room, or a deleted one: names are never
    /// reused). Reported as [`ErrorCode::NameTaken`].
    #[error("room name taken: {0}")]
    RoomTaken(String),
    /// A field failed validation (empty text, bad name, …).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A value exceeded a configured limit.
    #[error("{what} too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A history cursor was out of range or contradictory.
    #[error("bad cursor: {0}")]
    BadCursor(String),
    /// A full-text search query could not be parsed.
    #[error("bad search query: {0}")]
    BadQuery(String),
    /// Credentials were missing, malformed, forged or expired.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Too many requests.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// Too many commands of one kind from one user, one IP address or into one room; the
    /// command was not applied. Reported as `rate_limited` with `retry_after_ms`.
    #[error("rate limited: {what}; retry in {} ms", retry_after.as_millis())]
    Throttled {
        /// What was over its limit ("messages from this user", …).
        what: &'static str,
        /// When one more would be admitted.
        retry_after: std::time::Duration,
    },
    /// The peer's IP address has as many sessions open as the hub allows.
    #[error("too many connections from your address (at most {0}); close one or retry later")]
    TooManyConnections(usize),
    /// The session already closed.
    #[error("session closed")]
    Closed,
    /// The store failed; the operation was not applied.
    #[error("store error: {0}")]
    Store(#[source] BoxError),
    /// The store holds data written by a newer version of chatcore.
    #[error(
        "store schema version {found} is newer than this build supports ({supported}); upgrade chatcore"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The bus failed.
    #[error("bus error: {0}")]
    Bus(#[source] BoxError),
    /// Configuration was inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// An event-stream consumer's lease passed to another holder: it may no longer commit
    /// (the new holder resumes from the last committed cursor).
    #[error("the lease of consumer group {0} is held by another consumer")]
    LeaseLost(String),
    /// The host's [`Policy`](crate::policy::Policy) panicked while deciding (the named hook);
    /// the command was not applied.
    #[error("the server's policy failed while deciding {0}")]
    PolicyFailed(&'static str),
    /// The host's [`Policy`](crate::policy::Policy) did not answer in time; the command was
    /// not applied.
    #[error("the server's policy did not answer within {0:?}; retry later")]
    PolicyTimeout(std::time::Duration),
}

impl Error {
    /// Wraps a store backend error.
    pub fn store(e: impl Into<BoxError>) -> Self {
        Error::Store(e.into())
    }

    /// Wraps a bus backend error.
    pub fn bus(e: impl Into<BoxError>) -> Self {
        Error::Bus(e.into())
    }

    /// A validation error.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// When a refused command may be tried again ([`Error::Throttled`]).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Throttled { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The stable code this error is reported with on the wire.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::UnknownRoom(_) => ErrorCode::UnknownRoom,
            Error::NotMember(_) => ErrorCode::NotMember,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::RoomTaken(_) => ErrorCode::NameTaken,
            Error::Invalid { .. } => ErrorCode::Invalid,
            Error::TooLarge { .. } => ErrorCode::TooLarge,
            Error::BadCursor(_) => ErrorCode::BadCursor,
            Error::BadQuery(_) => ErrorCode::BadQuery,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::RateLimited(_) | Error::Throttled { .. } | Error::TooManyConnections(_) => {
                ErrorCode::RateLimited
            }
            Error::Closed => ErrorCode::Internal,
            Error::Store(_) | Error::SchemaTooNew { .. } | Error::Bus(_) => ErrorCode::Unavailable,
            Error::Config(_) | Error::PolicyFailed(_) => ErrorCode::Internal,
            Error::PolicyTimeout(_) | Error::LeaseLost(_) => ErrorCode::Unavailable,
        }
    }
}

/// Stable, documented error codes carried by [`Event::Error`](crate::protocol::Event::Error).
/// Codes are never renamed or reused; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The frame is not a valid JSON/MessagePack object, or has no `type`.
    BadFrame,
    /// The frame's `type` is not a known command.
    UnknownType,
    /// A known command with missing or mistyped fields.
    BadRequest,
    /// A field failed validation (empty text, bad room or user name, unknown message kind).
    Invalid,
    /// Text or frame over the size limit.
    TooLarge,
    /// No such room.
    UnknownRoom,
    /// The session has not joined the room.
    NotMember,
    /// Not allowed (private room, someone else's DM).
    Forbidden,
    /// History cursor out of range or contradictory.
    BadCursor,
    /// Unparseable search query.
    BadQuery,
    /// Missing, forged or expired credentials.
    Unauthorized,
    /// Too many requests; slow down.
    RateLimited,
    /// The store or bus is unreachable; retry later (with the same nonce).
    Unavailable,
    /// A bug on the server.
    Internal,
    /// No such HTTP endpoint (REST API only; a socket answers `unknown_type`).
    NotFound,
    /// The account name (or one that differs only in case or by a look-alike letter) is
    /// registered already (REST API only).
    NameTaken,
    /// A code this version does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Invalid => "invalid",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnknownRoom => "unknown_room",
            ErrorCode::NotMember => "not_member",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::BadCursor => "bad_cursor",
            ErrorCode::BadQuery => "bad_query",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for c in [
            ErrorCode::BadFrame,
            ErrorCode::UnknownType,
            ErrorCode::BadRequest,
            ErrorCode::Invalid,
            ErrorCode::TooLarge,
            ErrorCode::UnknownRoom,
            ErrorCode::NotMember,
            ErrorCode::Forbidden,
            ErrorCode::BadCursor,
            ErrorCode::BadQuery,
            ErrorCode::Unauthorized,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
            ErrorCode::NotFound,
            ErrorCode::NameTaken,
        ] {
            assert_eq!(
                serde_json::to_value(c).expect("encode"),
                serde_json::Value::String(c.as_str().into())
            );
        }
    }
}
