//! Tests of [`SqliteStore`] through its `Store` API, with a [`Gate`] on the writer so a
//! test can queue a known batch; split by theme in the files below.

use chatcore::protocol::RoomKind;
use chatcore::store::{NewMessage, Store};
use chatcore::testing::fixtures::{create_room, new_message};
use rusqlite::Connection;

use crate::SqliteConfig;
use crate::SqliteStore;
use crate::gate::Gate;

mod batching;
mod commits;
mod lifecycle;
mod log;
mod nonces;
mod queries;
mod search;

struct Fixture {
    dir: tempfile::TempDir,
    store: SqliteStore,
    /// Holds the store's writer while a test queues a known batch.
    gate: Gate,
}

impl Fixture {
    fn new() -> Self {
        Self::with(|c| c)
    }

    /// A store that commits every batch in a transaction of its own (no message log), for
    /// tests of the transactions themselves.
    fn without_log() -> Self {
        Self::with(|c| c.with_message_log(false))
    }

    fn with(tune: impl FnOnce(SqliteConfig) -> SqliteConfig) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = tune(
            SqliteConfig::new(dir.path().join("t.db"))
                .with_readers(2)
                .expect("readers"),
        );
        let gate = Gate::default();
        let store = SqliteStore::open_fed(config, |commands| gate.feed(commands)).expect("open");
        Self { dir, store, gate }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("t.db")
    }

    /// Waits until the writer thread has finished its last batch: nothing queued for it and
    /// its lock free. A write's reply goes out inside the batch, so an awaited write does
    /// not mean that yet.
    async fn writer_idle(&self) {
        let inner = &self.store.inner;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while inner
            .counters
            .queued
            .load(std::sync::atomic::Ordering::Acquire)
            > 0
            || inner.shared.try_lock().is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the writer is still busy after 5 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// A second, independent connection, for sabotage.
    fn raw(&self) -> Connection {
        Connection::open(self.path()).expect("raw connection")
    }
}

fn msg(room: &str, text: &str) -> NewMessage {
    new_message(room, "ann", text, None)
}

async fn room(store: &dyn Store, name: &str) {
    create_room(store, name, RoomKind::Public).await;
}
