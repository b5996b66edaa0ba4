//! The crate's one error type.

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while configuring or shutting down the transport.
///
/// Problems of a single connection (a bad hello, refused credentials, oversized frames, slow
/// peers) are not errors of the server: they are answered on that connection with a close
/// frame (see [`chatcore::transport::close`]) and never surface here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A [`TcpConfig`](crate::TcpConfig) setter was given a value that breaks an invariant.
    #[error("invalid TCP transport configuration: {0}")]
    Config(String),
    /// Shutting the hub down failed (its store or bus could not flush and close).
    #[error("hub shutdown failed: {0}")]
    Hub(#[from] chatcore::Error),
}

impl Error {
    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Error::Config(reason.into())
    }
}
