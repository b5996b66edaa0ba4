//! [`SqliteConfig`]: where the database lives and how hard it works to keep it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chatcore::{Error, Result};

/// How hard SQLite works to make a commit survive a power cut (`PRAGMA synchronous`).
///
/// The store always runs in WAL mode, where both settings keep the database consistent after
/// any crash; they differ only in what a *power loss or OS crash* may take back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Synchronous {
    /// `synchronous=NORMAL`: a commit is durable against a crash of the process, and the
    /// WAL is synced to disk at each checkpoint. A power loss or OS crash may roll back the
    /// last commits before the checkpoint (never corrupt the file). The default: it makes a
    /// commit a memory copy plus a `write()`, which is what lets batches reach hundreds of
    /// thousands of messages per second.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit waits for `fsync` of the WAL, so an acknowledged
    /// message survives a power cut too. Each batch costs one `fsync` (from well under a
    /// millisecond on an SSD with a write cache to several milliseconds on a disk); group
    /// commit keeps throughput high, latency grows by that amount.
    Full,
}

impl Synchronous {
    /// The `PRAGMA synchronous` value.
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// Everything [`SqliteStore::open_with`](crate::SqliteStore::open_with) needs to know.
///
/// Build it with [`SqliteConfig::new`] (or [`SqliteConfig::from_url`]) and the `with_*`
/// setters, which check invariants:
///
/// ```
/// use chatcore_store_sqlite::{SqliteConfig, Synchronous};
///
/// let config = SqliteConfig::new("chat.db")
///     .with_synchronous(Synchronous::Full)
///     .with_readers(8)?
///     .with_max_batch(4096)?;
/// assert_eq!(config.readers, 8);
/// # Ok::<(), chatcore::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteConfig {
    /// The database file; created (with its `-wal` and `-shm` companions) when missing.
    /// Default `chatcore.db` in the working directory, the file `chat-server` uses when given
    /// no `--store`. In-memory databases are not supported: the writer and the readers are
    /// separate connections and must see one file.
    pub path: PathBuf,
    /// Durability of each commit. Default [`Synchronous::Normal`]; see [`Synchronous`].
    pub synchronous: Synchronous,
    /// Read-only connections, each on its own thread, serving history, search and lookups.
    /// Default 4: reads never wait for the writer (WAL), and four threads keep a couple of
    /// cores busy while one read waits on the disk. Between 1 and 64.
    pub readers: usize,
    /// Most write commands (appends, room and membership changes) committed in one
    /// transaction. Default 2048: large enough that the per-commit cost vanishes at full
    /// load, small enough that a batch commits in a few milliseconds.
    pub max_batch: usize,
    /// How long a connection waits for a lock held by another process before failing with a
    /// store error. Default 5 s. Within one store readers never wait for the writer; this
    /// only matters when another program (a backup, the `sqlite3` shell) holds the file.
    pub busy_timeout: Duration,
    /// Page cache of each connection, in KiB. Default 32768 (32 MiB): enough to keep the hot
    /// end of every index of a busy database in memory.
    pub cache_kib: u32,
    /// Pages (4 KiB each) the WAL grows by between two checkpoints, which copy the log back
    /// into the database file (the checkpoint thread copies the bulk, the writer the few
    /// frames appended meanwhile, and the log starts over). Default 4096 (a 16 MiB log):
    /// larger than SQLite's own default of 1000, so pages that many commits rewrite (the
    /// right edge of each index) are copied once per checkpoint rather than several times.
    /// At least 1.
    pub checkpoint_pages: u32,
    /// Bytes of the file each reader maps into memory (`PRAGMA mmap_size`), saving a copy per
    /// page read. Default 256 MiB; 0 turns memory mapping off.
    pub mmap_bytes: u64,
    /// Where the full-text search index lives. `None` (the default) puts it beside the
    /// database, at the database's path with `-search` appended (`chatcore.db-search`). The
    /// file is derived data: it may be deleted while the store is closed, and is rebuilt from
    /// the messages at the next open.
    pub index_path: Option<PathBuf>,
    /// How long a search waits for the index to take in every message committed before the
    /// search was called. The index trails the appends by tens of milliseconds; if it lags
    /// longer than this (a huge catch-up after an upgrade, a failing disk), the search
    /// answers from what is indexed so far. Default 5 s.
    pub search_wait: Duration,
    /// Acknowledge new messages from a log file of their own instead of a SQLite
    /// transaction each (default `true`). The log sits beside the database (its path with
    /// `-msglog` appended); the writer appends a batch of messages to it with one `write`
    /// and replies (when the writer is free, on the caller's thread), then writes them into
    /// the database hundreds per transaction, within 100 ms, and before any read runs, so a
    /// read sees every acknowledged message.
    /// Durability is the same as a commit's under [`SqliteConfig::synchronous`] (the log is
    /// `fdatasync`ed under [`Synchronous::Full`]); opening the store replays what a crash
    /// left in the log. With few messages in flight this is what keeps a durable message
    /// cheap: a commit of its own costs several times what the rest of its delivery does.
    /// The log belongs to its database: move, copy or delete them together.
    pub message_log: bool,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("chatcore.db"),
            synchronous: Synchronous::Normal,
            readers: 4,
            max_batch: 4096,
            busy_timeout: Duration::from_secs(5),
            cache_kib: 32 * 1024,
            checkpoint_pages: 4096,
            mmap_bytes: 256 * 1024 * 1024,
            index_path: None,
            search_wait: Duration::from_secs(5),
            message_log: true,
        }
    }
}

impl SqliteConfig {
    /// Defaults, with the database at `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            ..Self::default()
        }
    }

    /// Parses a store URL as given to `--store`: `sqlite://PATH` or `sqlite:PATH`
    /// (`sqlite://chat.db`, `sqlite:///var/lib/chat.db`). Anything else is
    /// [`Error::Config`].
    pub fn from_url(url: &str) -> Result<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| Error::Config(format!("not a sqlite URL: {url}")))?;
        if path.is_empty() {
            return Err(Error::Config(format!("no database path in {url}")));
        }
        Ok(Self::new(path))
    }

    /// Sets [`SqliteConfig::path`].
    pub fn with_path(mut self, path: impl AsRef<Path>) -> Self {
        self.path = path.as_ref().to_path_buf();
        self
    }

    /// Sets [`SqliteConfig::synchronous`].
    pub fn with_synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Sets [`SqliteConfig::readers`] (1 to 64).
    pub fn with_readers(mut self, readers: usize) -> Result<Self> {
        if !(1..=64).contains(&readers) {
            return Err(Error::Config(format!(
                "readers must be between 1 and 64, not {readers}"
            )));
        }
        self.readers = readers;
        Ok(self)
    }

    /// Sets [`SqliteConfig::max_batch`] (at least 1).
    pub fn with_max_batch(mut self, commands: usize) -> Result<Self> {
        if commands == 0 {
            return Err(Error::Config("max_batch must be at least 1".into()));
        }
        self.max_batch = commands;
        Ok(self)
    }

    /// Sets [`SqliteConfig::checkpoint_pages`] (at least 1).
    pub fn with_checkpoint_pages(mut self, pages: u32) -> Result<Self> {
        if pages == 0 {
            return Err(Error::Config("checkpoint_pages must be at least 1".into()));
        }
        self.checkpoint_pages = pages;
        Ok(self)
    }

    /// Sets [`SqliteConfig::busy_timeout`].
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets [`SqliteConfig::cache_kib`].
    pub fn with_cache_kib(mut self, kib: u32) -> Self {
        self.cache_kib = kib;
        self
    }

    /// Sets [`SqliteConfig::mmap_bytes`].
    pub fn with_mmap_bytes(mut self, bytes: u64) -> Self {
        self.mmap_bytes = bytes;
        self
    }

    /// Sets [`SqliteConfig::index_path`].
    pub fn with_index_path(mut self, path: impl AsRef<Path>) -> Self {
        self.index_path = Some(path.as_ref().to_path_buf());
        self
    }

    /// Sets [`SqliteConfig::search_wait`].
    pub fn with_search_wait(mut self, wait: Duration) -> Self {
        self.search_wait = wait;
        self
    }

    /// The search index file's path: [`SqliteConfig::index_path`], or the database's path
    /// with `-search` appended.
    pub fn index_path(&self) -> PathBuf {
        self.index_path.clone().unwrap_or_else(|| {
            let mut name = self.path.as_os_str().to_owned();
            name.push("-search");
            PathBuf::from(name)
        })
    }

    /// Sets [`SqliteConfig::message_log`].
    pub fn with_message_log(mut self, on: bool) -> Self {
        self.message_log = on;
        self
    }

    /// The message log's path: the database's path with `-msglog` appended.
    pub fn log_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push("-msglog");
        PathBuf::from(name)
    }

    /// Checks the invariants the setters check, for a config whose fields were set directly.
    pub(crate) fn validate(&self) -> Result<()> {
        self.clone().with_readers(self.readers)?;
        self.clone().with_max_batch(self.max_batch)?;
        self.clone().with_checkpoint_pages(self.checkpoint_pages)?;
        if self.path.as_os_str().is_empty() || self.path == Path::new(":memory:") {
            return Err(Error::Config(
                "the SQLite store needs a file path (in-memory databases are not supported)".into(),
            ));
        }
        if self.index_path() == self.path {
            return Err(Error::Config(
                "the search index needs a file of its own, not the database's path".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_check_invariants() {
        assert!(SqliteConfig::new("x.db").with_readers(0).is_err());
        assert!(SqliteConfig::new("x.db").with_readers(65).is_err());
        assert!(SqliteConfig::new("x.db").with_max_batch(0).is_err());
        assert!(SqliteConfig::new("x.db").with_checkpoint_pages(0).is_err());
        let c = SqliteConfig::new("x.db")
            .with_readers(2)
            .expect("readers")
            .with_max_batch(10)
            .expect("batch")
            .with_synchronous(Synchronous::Full);
        assert_eq!(
            (c.readers, c.max_batch, c.synchronous),
            (2, 10, Synchronous::Full)
        );
        c.validate().expect("valid");
        let mut bad = c;
        bad.readers = 0;
        assert!(bad.validate().is_err());
        assert!(SqliteConfig::new(":memory:").validate().is_err());
        let same = SqliteConfig::new("x.db").with_index_path("x.db");
        assert!(
            same.validate().is_err(),
            "the index cannot be the database itself"
        );
    }

    #[test]
    fn the_index_sits_beside_the_database_unless_told() {
        let c = SqliteConfig::new("/var/lib/chat.db");
        assert_eq!(c.index_path(), PathBuf::from("/var/lib/chat.db-search"));
        let c = c.with_index_path("/fast/chat-index");
        assert_eq!(c.index_path(), PathBuf::from("/fast/chat-index"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            SqliteConfig::from_url("sqlite://chat.db")
                .expect("url")
                .path,
            PathBuf::from("chat.db")
        );
        assert_eq!(
            SqliteConfig::from_url("sqlite:///var/lib/chat.db")
                .expect("url")
                .path,
            PathBuf::from("/var/lib/chat.db")
        );
        assert_eq!(
            SqliteConfig::from_url("sqlite:chat.db").expect("url").path,
            PathBuf::from("chat.db")
        );
        assert!(SqliteConfig::from_url("postgres://x").is_err());
        assert!(SqliteConfig::from_url("sqlite://").is_err());
    }
}
