//! The crate's error type.

use std::fmt;

/// `Result` with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the Redis bus.
///
/// Converts into [`chatcore::Error::Bus`] (wire code `unavailable`) where the core's
/// [`Bus`](chatcore::bus::Bus) trait needs it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The first connection to Redis failed. One line, meant to be shown to an operator as is.
    #[error("cannot reach Redis at {url}: {reason} — is it running? check the bus URL (--bus)")]
    Connect {
        /// The URL tried, with any password replaced by `***`.
        url: String,
        /// What the client reported.
        reason: String,
    },
    /// The configuration is inconsistent (bad URL, zero capacity, …).
    #[error("Redis bus configuration: {0}")]
    Config(String),
    /// Redis is not reachable right now; the bus keeps reconnecting in the background.
    #[error("Redis bus is disconnected (reconnecting)")]
    Disconnected,
    /// A Redis command failed.
    #[error("Redis command failed: {0}")]
    Redis(#[source] RedisError),
    /// The bus was closed.
    #[error("Redis bus is closed")]
    Closed,
}

impl From<Error> for chatcore::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Config(reason) => chatcore::Error::Config(reason),
            other => chatcore::Error::bus(other),
        }
    }
}

impl From<fred::error::Error> for Error {
    fn from(e: fred::error::Error) -> Self {
        Error::Redis(RedisError(e))
    }
}

/// An error reported by the Redis client library, wrapped so that library's types stay out of
/// this crate's public API.
pub struct RedisError(pub(crate) fred::error::Error);

impl fmt::Debug for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for RedisError {}

/// `url` with the password (if any) replaced by `***`, for logs and error messages.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("redis://:s3cret@host:6379"),
            "redis://:***@host:6379"
        );
        assert_eq!(
            redact_url("redis://ann:p@ss@host/1?x=y"),
            "redis://ann:***@host/1?x=y"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn connect_error_is_one_line() {
        let e = Error::Connect {
            url: "redis://127.0.0.1:1".into(),
            reason: "connection refused".into(),
        };
        let text = e.to_string();
        assert!(!text.contains('\n'));
        assert!(text.starts_with("cannot reach Redis at redis://127.0.0.1:1: connection refused"));
    }
}
