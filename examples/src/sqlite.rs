//! `--store sqlite://PATH`: opening the SQLite store (feature `sqlite`).

use std::path::Path;
use std::sync::Arc;

use chatcore_store_sqlite::{SqliteConfig, SqliteStore};

use crate::backends::OpenedStore;
use crate::error::{Result, StartupError};

/// Opens (creating when missing) the SQLite database at `path`.
pub(crate) async fn open(path: &Path) -> Result<OpenedStore> {
    let config = SqliteConfig::new(path);
    // Opening runs migrations and starts the store's threads: blocking work, kept off the
    // runtime's worker threads.
    let opened = tokio::task::spawn_blocking(move || {
        let store = SqliteStore::open_with(config)?;
        let accounts = store.accounts()?;
        Ok::<_, chatcore::Error>((store, accounts))
    })
    .await
    .map_err(|e| StartupError::Store(format!("opening the SQLite store panicked: {e}")))?;
    match opened {
        Ok((store, accounts)) => Ok(OpenedStore {
            store: Arc::new(store),
            accounts: Arc::new(accounts),
        }),
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
