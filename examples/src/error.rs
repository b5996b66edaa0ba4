//! [`StartupError`]: why `chat-server` could not start, phrased so the person running it knows
//! what to do next.

/// Why a server could not start. Every message is one line that names the setting involved and
/// what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// A flag or environment variable had a value that cannot work.
    #[error("{0}")]
    Config(String),
    /// The store could not be opened or reached.
    #[error("{0}")]
    Store(String),
    /// The bus could not be set up.
    #[error("{0}")]
    Bus(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}; pick another address or port with --listen")]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error: {0}")]
    Serve(String),
}

/// `Result` with [`StartupError`].
pub type Result<T, E = StartupError> = std::result::Result<T, E>;
