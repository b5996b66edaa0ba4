//! The shared `Store` contract suite (`chatcore::testing`), run against `SqliteStore`.

use std::sync::Arc;

use chatcore::store::Store;
use chatcore::testing::StoreFactory;
use chatcore_store_sqlite::{SqliteConfig, SqliteStore};

/// Each factory owns a temporary directory holding one database file; the directory (and
/// the file) is deleted when the factory is dropped at the end of the test.
struct SqliteFactory {
    dir: tempfile::TempDir,
    /// [`SqliteConfig::message_log`]: the suite runs with it (the default) and without.
    log: bool,
}

impl SqliteFactory {
    fn new(log: bool) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            log,
        }
    }

    fn config(&self) -> SqliteConfig {
        // Two readers: the suite runs many tests at once on a small machine.
        SqliteConfig::new(self.dir.path().join("chat.db"))
            .with_readers(2)
            .expect("readers")
            .with_message_log(self.log)
    }
}

#[async_trait::async_trait]
impl StoreFactory for SqliteFactory {
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open_with(self.config()).expect("open sqlite store"))
    }

    async fn reopen(&self) -> Option<Arc<dyn Store>> {
        Some(Arc::new(
            SqliteStore::open_with(self.config()).expect("reopen sqlite store"),
        ))
    }
}

chatcore::store_contract_tests!(SqliteFactory::new(true));

/// Every message in a transaction of its own, as before the message log.
mod without_the_message_log {
    chatcore::store_contract_tests!(super::SqliteFactory::new(false));
}

/// The accounts of a fresh database; the factory (one per test) owns its directory.
struct SqliteAccountsFactory {
    dir: tempfile::TempDir,
}

#[async_trait::async_trait]
impl chatcore::testing::AccountsFactory for SqliteAccountsFactory {
    async fn open(&self) -> Arc<dyn chatcore::accounts::Accounts> {
        let store = SqliteStore::open(self.dir.path().join("chat.db")).expect("open sqlite store");
        Arc::new(store.accounts().expect("accounts"))
    }
}

mod accounts {
    chatcore::accounts_contract_tests!(super::SqliteAccountsFactory {
        dir: tempfile::tempdir().expect("temporary directory"),
    });
}
