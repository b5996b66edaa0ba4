//! `--store sqlite://PATH`: opening the SQLite store (feature `sqlite`).

use std::path::Path;
use std::sync::Arc;

use chatcore_store_sqlite::{SqliteConfig, SqliteStore};

use crate::backend_metrics::{BackendMetrics, metrics};
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
            metrics: Some(store_metrics(store.clone())),
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

/// The SQLite store's counters for `/metrics`.
fn store_metrics(store: SqliteStore) -> BackendMetrics {
    Arc::new(move || {
        let s = store.stats();
        let mut out = String::with_capacity(1024);
        let counters = [
            (
                "chatcore_sqlite_commits_total",
                "SQLite transactions committed.",
                s.commits,
            ),
            (
                "chatcore_sqlite_failed_commits_total",
                "SQLite transactions rolled back (their commands retried one by one).",
                s.failed_commits,
            ),
            (
                "chatcore_sqlite_messages_total",
                "New messages made durable (in the message log or committed).",
                s.messages,
            ),
            (
                "chatcore_sqlite_logged_messages_total",
                "New messages acknowledged from the message log.",
                s.logged,
            ),
            (
                "chatcore_sqlite_nonce_lookups_total",
                "Nonces looked up in the database before a message was logged (retries, and the nonce filter's false positives).",
                s.nonce_lookups,
            ),
            (
                "chatcore_sqlite_indexed_messages_total",
                "Messages taken into the full-text search index.",
                s.indexed,
            ),
            (
                "chatcore_sqlite_checkpoints_total",
                "WAL checkpoints run.",
                s.checkpoints,
            ),
        ];
        metrics(&mut out, "counter", &counters);
        metrics(
            &mut out,
            "gauge",
            &[(
                "chatcore_sqlite_unapplied_messages",
                "Acknowledged messages in the message log that SQLite does not have yet.",
                s.unapplied,
            )],
        );
        out
    })
}
