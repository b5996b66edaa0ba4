//! The kit's error type, for the calls a test may expect to fail.

/// What can go wrong in a kit call that returns a `Result` instead of panicking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HTTP request could not be built from the given method, path or headers.
    #[error("bad HTTP request: {0}")]
    Request(#[from] ::http::Error),
    /// The HTTP exchange failed (connection refused, reset before a response…).
    #[error("HTTP exchange failed: {0}")]
    Exchange(#[from] hyper_util::client::legacy::Error),
    /// The response body could not be read to its end.
    #[error("reading the HTTP body failed: {0}")]
    Body(#[from] hyper::Error),
    /// Nothing answered within [`BOUND`](crate::BOUND).
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// A child process could not be started or talked to.
    #[error("process {what}: {source}")]
    Process {
        /// Which process, doing what.
        what: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A `chat-server` process ended before printing the URL it listens on.
    #[error("chat-server exited without printing its URL")]
    NoUrl,
}

/// A `Result` with the kit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
