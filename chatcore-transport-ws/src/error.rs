//! The crate's one error type.

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while configuring or running the transport.
///
/// Problems of a single connection (bad frames, failed handshakes, slow peers) are not errors
/// of the server: they are answered on that connection (an HTTP status, an error frame or a
/// close code, see [`close`](crate::close)) and never surface here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A [`WsConfig`](crate::WsConfig) setter was given a value that breaks an invariant.
    #[error("invalid transport configuration: {0}")]
    Config(String),
    /// The listener or the HTTP server failed.
    #[error("HTTP server I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Shutting the hub down failed (its store or bus could not flush and close).
    #[error("hub shutdown failed: {0}")]
    Hub(#[from] chatcore::Error),
}

impl Error {
    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Error::Config(reason.into())
    }

    /// A core setting's refusal ([`chatcore::Error::Config`]) as this crate's.
    pub(crate) fn from_core_config(e: chatcore::Error) -> Self {
        match e {
            chatcore::Error::Config(reason) => Error::Config(reason),
            other => Error::Config(other.to_string()),
        }
    }
}
