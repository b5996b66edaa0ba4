//! `--store`: [`StoreUrl`] parses the URL and opens the store (and the accounts kept in the same
//! database) whose feature is compiled in.

use std::path::PathBuf;
use std::sync::Arc;

use chatcore::accounts::MemoryAccounts;
use chatcore::store::{MemoryStore, Store};

use super::opened::OpenedStore;
use super::redact::redact;
use crate::error::{Result, StartupError};

/// A parsed `--store` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `memory://`: everything in memory, gone on exit.
    Memory,
    /// `sqlite://PATH`: a SQLite file (relative paths are relative to the working directory).
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: the full connection URL.
    Postgres(String),
}

impl StoreUrl {
    /// Parses a `--store` value.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(StartupError::Config(format!(
                "--store {url:?} is not a URL; use sqlite://{url} for a SQLite file, memory:// \
                 for an in-memory store or postgres://USER:PASSWORD@HOST/DB"
            )));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "memory" | "mem" => Ok(StoreUrl::Memory),
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(StartupError::Config(
                        "--store sqlite:// needs a file path, e.g. sqlite://chatcore.db or \
                         sqlite:///var/lib/chatcore/chat.db"
                            .into(),
                    ));
                }
                Ok(StoreUrl::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => Ok(StoreUrl::Postgres(url.to_owned())),
            other => Err(StartupError::Config(format!(
                "--store: unknown scheme {other:?} in {}; use sqlite://PATH, memory:// or \
                 postgres://USER:PASSWORD@HOST/DB",
                redact(url)
            ))),
        }
    }

    /// The URL for logs, with any password replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            StoreUrl::Memory => "memory://".into(),
            StoreUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            StoreUrl::Postgres(url) => redact(url),
        }
    }

    /// Opens (and for SQLite creates) the store. Fails with a one-line explanation when the
    /// backend is not compiled in or the database cannot be reached.
    pub async fn open(&self) -> Result<Arc<dyn Store>> {
        self.open_with_accounts().await.map(|opened| opened.store)
    }

    /// Opens the store and the accounts kept in the same database.
    pub async fn open_with_accounts(&self) -> Result<OpenedStore> {
        match self {
            StoreUrl::Memory => Ok(OpenedStore {
                store: Arc::new(MemoryStore::new()),
                accounts: Arc::new(MemoryAccounts::new()),
                metrics: None,
            }),
            StoreUrl::Sqlite(path) => open_sqlite(path).await,
            StoreUrl::Postgres(url) => open_postgres(url).await,
        }
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &std::path::Path) -> Result<OpenedStore> {
    crate::sqlite::open(path).await
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(path: &std::path::Path) -> Result<OpenedStore> {
    Err(StartupError::Config(format!(
        "--store sqlite://{}: this chat-server was built without the `sqlite` feature; rebuild \
         with `--features sqlite` or use --store memory://",
        path.display()
    )))
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<OpenedStore> {
    crate::postgres::open(url).await
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(url: &str) -> Result<OpenedStore> {
    Err(StartupError::Config(format!(
        "--store {}: this chat-server was built without the `postgres` feature; rebuild with \
         `cargo run --features postgres --bin chat-server`",
        redact(url)
    )))
}
