//! [`PostgresError`]: this crate's own failures, carried inside [`chatcore::Error::Store`].
//!
//! Driver errors (`tokio_postgres::Error`, pool errors) are boxed straight into
//! [`chatcore::Error::store`] so no driver type appears in the public API. The variants here
//! are the failures this crate diagnoses itself; callers may `downcast_ref` the boxed source
//! to tell them apart.

use std::sync::Arc;

use chatcore::BoxError;

/// A failure diagnosed by the PostgreSQL store, wrapped in [`chatcore::Error::Store`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The first connection at open failed: the server is down, unreachable, or refused the
    /// role, password or database.
    #[error("cannot reach PostgreSQL at {target}: {reason} — is it running? check the --store URL")]
    Connect {
        /// `host:port/database` (never the password).
        target: String,
        /// What the driver reported, on one line.
        reason: String,
    },
    /// A stored value could not be decoded (not UTF-8, unknown room kind, negative seq).
    /// Only another program writing to the tables can cause this.
    #[error("corrupt row in the chatcore tables: {0}")]
    Corrupt(String),
    /// A batch of appends kept conflicting with writers on other nodes and was given up.
    #[error("gave up committing a batch after {attempts} attempts: {last}")]
    Contended {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// One failure reported to every append of a failed batch: the error is shared, because
/// `chatcore::Error` is not `Clone`, and keeps its source chain.
#[derive(Debug, Clone)]
pub(crate) struct Shared(pub(crate) Arc<BoxError>);

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Shared {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A [`PostgresError::Corrupt`] as a store error.
pub(crate) fn corrupt(what: impl Into<String>) -> chatcore::Error {
    chatcore::Error::store(PostgresError::Corrupt(what.into()))
}
