//! `--store sqlite://PATH`: opening the SQLite store (feature `sqlite`).

use std::path::Path;
use std::sync::Arc;

use chatcore::store::Store;
use chatcore_store_sqlite::{SqliteConfig, SqliteStore};

use crate::error::{Result, StartupError};

/// Opens (creating when missing) the SQLite database at `path`.
pub(crate) async fn open(path: &Path) -> Result<Arc<dyn Store>> {
    let config = SqliteConfig::new(path);
    // Opening runs migrations and starts the store's threads: blocking work, kept off the
    // runtime's worker threads.
    let opened = tokio::task::spawn_blocking(move || SqliteStore::open_with(config))
        .await
        .map_err(|e| StartupError::Store(format!("opening the SQLite store panicked: {e}")))?;
    match opened {
        Ok(store) => Ok(Arc::new(store)),
        Err(chatcore::Error::SchemaTooNew { .. }) => Err(StartupError::Store(format!(
            "--store sqlite://{}: the database was written by a newer chatcore; run a newer \
             chat-server or point --store at another file",
            path.display()
        ))),
        Err(e) => Err(StartupError::Store(format!(
            "cannot open the SQLite store sqlite://{}: {e}; check that its directory exists and \
             is writable, or choose another file with --store sqlite://PATH",
            path.display()
        ))),
    }
}
