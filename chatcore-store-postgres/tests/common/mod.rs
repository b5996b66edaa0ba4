//! Shared fixture: a fresh PostgreSQL schema per test, dropped when the fixture is; and the
//! helpers the test files share.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chatcore::protocol::RoomKind;
use chatcore::store::Store;
use chatcore_store_postgres::{PostgresConfig, PostgresStore};
use chatcore_testkit::fixtures::create_room;

/// The test server's URL, or `None` (test skipped) unless CI requires it.
pub fn url() -> Option<String> {
    chatcore::testing::service_url("CHATCORE_TEST_POSTGRES_URL")
}

/// One test's schema on the test server.
pub struct PgFactory {
    pub url: String,
    pub schema: String,
    opened: AtomicBool,
}

impl PgFactory {
    /// A new, unique schema (created by the first store opened on it), or `None` to skip.
    pub async fn new() -> Option<Self> {
        let url = url()?;
        let schema = chatcore_testkit::unique_name("chatcore_t");
        Some(Self {
            url,
            schema,
            opened: AtomicBool::new(false),
        })
    }

    /// A config for this schema, with small pools (tests run side by side).
    pub fn config(&self) -> PostgresConfig {
        PostgresConfig::new(self.url.clone())
            .with_schema(self.schema.clone())
            .expect("schema name")
            .with_pipelines(2)
            .expect("pipelines")
            .with_pool_size(4)
            .expect("pool size")
    }

    /// Opens a store (another node, when called again) on this schema.
    pub async fn store(&self) -> PostgresStore {
        self.store_with(self.config()).await
    }

    /// Opens a store with `config` (its schema should be this factory's).
    pub async fn store_with(&self, config: PostgresConfig) -> PostgresStore {
        PostgresStore::connect(config).await.expect("connect")
    }

    /// A plain connection whose `search_path` is this schema, for checking tables directly.
    pub async fn raw(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("raw connect");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", self.schema))
            .await
            .expect("search_path");
        client
    }

    /// Drops this schema now.
    pub async fn drop_schema(&self) {
        let client = self.raw().await;
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ))
            .await
            .expect("drop schema");
    }
}

#[async_trait::async_trait]
impl chatcore::testing::StoreFactory for PgFactory {
    async fn open(&self) -> Arc<dyn Store> {
        if self.opened.swap(true, Ordering::SeqCst) {
            // "Fresh, empty data" again: start the schema over.
            self.drop_schema().await;
        }
        Arc::new(self.store().await)
    }

    async fn reopen(&self) -> Option<Arc<dyn Store>> {
        Some(Arc::new(self.store().await))
    }
}

impl Drop for PgFactory {
    fn drop(&mut self) {
        // Drop the schema from a thread of its own: `drop` cannot await, and may run inside
        // the test's runtime.
        let url = self.url.clone();
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
        let done = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    if let Err(e) = client.batch_execute(&sql).await {
                        eprintln!("could not drop test schema: {e}");
                    }
                }
            });
        });
        let _ = done.join();
    }
}

/// A [`PgFactory`] for this test, or returns from it (skipped) without a test server. Needs
/// `PgFactory` in scope and `#[macro_use] mod common;`.
#[allow(unused_macros)] // not every test target uses it
macro_rules! factory {
    () => {
        match PgFactory::new().await {
            Some(f) => f,
            None => return,
        }
    };
}

/// Creates the public room `name`.
pub async fn room(store: &impl Store, name: &str) {
    create_room(store, name, RoomKind::Public).await;
}
