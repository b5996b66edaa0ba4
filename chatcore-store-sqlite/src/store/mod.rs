//! [`SqliteStore`]: the `Store` implementation that ties the writer thread and the reader
//! pool together. Opening and the handle are here; the `Store` methods are in
//! `store_trait.rs`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use chatcore::store::NewMessage;
use chatcore::{Error, Result};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::checkpoint::{self, Checkpoints};
use crate::indexer::{Indexer, Progress};
use crate::reader::{JoinOnDrop, Readers};
use crate::writer::thread::{self as writer_thread, Shared};
use crate::writer::{
    Command, Commands, Counters, MessageLog, Nonces, Write, Writer, WriterStats, replay,
};
use crate::{SqliteConfig, schema};

mod store_trait;
#[cfg(test)]
mod tests;

/// A durable [`Store`](chatcore::store::Store) in one SQLite file.
///
/// Opening starts one writer thread (batched commits) and [`SqliteConfig::readers`] reader
/// threads. Clones are cheap and share those threads and connections; the threads stop when
/// the last clone is dropped, after committing every queued write (the drop waits for that
/// commit).
///
/// See the [crate docs](crate) for how it works.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Set by `close`: new writes fail at once with `Error::Closed` instead of queueing
    /// behind the close.
    closed: AtomicBool,
    // Field order matters: `writer` (the sender) drops before `threads` joins, so the
    // thread sees its queue close, commits what is left and exits.
    writer: Sender<Command>,
    /// The writer thread, then the checkpoint and indexer threads: all run until the store
    /// closes (`ping` fails when one stopped).
    threads: JoinOnDrop,
    /// The nonce filter's loader (with the message log): done soon after the open, and
    /// stopped early once the writer has stopped.
    _loader: JoinOnDrop,
    readers: Readers,
    /// The writer's state, for appends logged on their caller's thread.
    shared: Shared,
    counters: Arc<Counters>,
    /// What the search indexer has caught up with.
    progress: Arc<Progress>,
    /// Checkpoints run.
    checkpoints: Arc<Checkpoints>,
    config: SqliteConfig,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.config.path)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default settings.
    ///
    /// Blocks while it opens the file and applies schema migrations (milliseconds, or longer
    /// the first time a large database is migrated). A database written by a newer version
    /// fails with [`Error::SchemaTooNew`]; a SQLite file that is not a chatcore database
    /// fails with [`Error::Config`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(SqliteConfig::new(path))
    }

    /// Opens (creating if needed) the database described by `config`; see
    /// [`SqliteStore::open`].
    pub fn open_with(config: SqliteConfig) -> Result<Self> {
        Self::open_fed(config, |commands| commands)
    }

    /// [`SqliteStore::open_with`], the writer thread taking its commands through `feed`
    /// (the identity in production; tests wrap the channel to hold the writer).
    pub(crate) fn open_fed<C: Commands + Send + 'static>(
        config: SqliteConfig,
        feed: impl FnOnce(Receiver<Command>) -> C,
    ) -> Result<Self> {
        config.validate()?;
        let mut write_conn = schema::open_writer(&config)?;
        let database_id = schema::database_id(&write_conn)?;
        // Also with the log off: one left by an earlier open may still hold messages.
        replay_log(&config, &mut write_conn, &database_id)?;
        let log = match config.message_log {
            true => Some(MessageLog::create(
                &config.log_path(),
                &database_id,
                config.synchronous == crate::Synchronous::Full,
            )?),
            false => None,
        };
        let index_conn = schema::open_index(&config, &database_id)?;
        let (indexer, progress) = Indexer::new(schema::open_reader(&config)?, index_conn)?;
        let (checkpointer, checkpoints) = checkpoint::start(
            &mut write_conn,
            schema::open_checkpointer(&config)?,
            config.checkpoint_pages,
        )?;
        // Only the log asks whether a nonce is used before storing (see `writer/nonces.rs`).
        let (nonces, loader) = match config.message_log {
            true => {
                let (nonces, loader) = Nonces::load(schema::open_reader(&config)?)?;
                (Some(nonces), Some(loader))
            }
            false => (None, None),
        };
        let read_conns = (0..config.readers)
            .map(|_| schema::open_reader(&config))
            .collect::<Result<Vec<Connection>>>()?;
        let readers = Readers::start(read_conns)?;
        let counters = Arc::new(Counters::default());
        let (writer, commands) = channel();
        let commands = feed(commands);
        let state = Writer::new(
            write_conn,
            config.max_batch,
            Arc::clone(&counters),
            Arc::clone(&progress),
            Arc::clone(&checkpoints),
            log,
            nonces,
        );
        let shared: Shared = Arc::new(Mutex::new(Some(state)));
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_thread::run(thread_shared, commands))
            .map_err(|e| Error::store(format!("cannot start the writer thread: {e}")))?;
        let indexer = std::thread::Builder::new()
            .name("sqlite-indexer".into())
            .spawn(move || indexer.run())
            .map_err(|e| Error::store(format!("cannot start the indexer thread: {e}")))?;
        tracing::debug!(path = %config.path.display(), "sqlite store: opened");
        Ok(Self {
            inner: Arc::new(Inner {
                closed: AtomicBool::new(false),
                writer,
                // The writer first: the checkpointer stops when the write connection closes,
                // the indexer when the writer has stopped.
                threads: JoinOnDrop(vec![thread, checkpointer, indexer]),
                _loader: JoinOnDrop(loader.into_iter().collect()),
                readers,
                shared,
                counters,
                progress,
                checkpoints,
                config,
            }),
        })
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &SqliteConfig {
        &self.inner.config
    }

    /// The writer's counters: commits, writes, batch sizes. Cheap; suitable for metrics.
    pub fn stats(&self) -> WriterStats {
        self.inner
            .counters
            .snapshot(&self.inner.progress, &self.inner.checkpoints)
    }

    /// Queues a command for the writer thread.
    pub(crate) fn send(&self, command: Command) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let queued = &self.inner.counters.queued;
        let counts = command.is_queued();
        if counts {
            queued.fetch_add(1, Ordering::AcqRel);
        }
        self.inner.writer.send(command).map_err(|_| {
            if counts {
                queued.fetch_sub(1, Ordering::AcqRel);
            }
            Error::Closed
        })
    }

    /// Logs `msg` on this thread when the store keeps a message log, nothing is queued for
    /// the writer and it is free (see `writer/thread.rs`): its seq. `None`: queue it.
    ///
    /// Not under [`Synchronous::Full`](crate::Synchronous): each write would wait for its
    /// own `fdatasync` on the caller's (an async runtime's) thread, where the writer thread
    /// shares one among every message queued meanwhile.
    pub(crate) fn log_here(&self, msg: &NewMessage) -> Option<u64> {
        let config = &self.inner.config;
        if !config.message_log
            || config.synchronous == crate::Synchronous::Full
            || self.inner.closed.load(Ordering::Acquire)
        {
            return None;
        }
        let (seq, wake) = writer_thread::log_here(&self.inner.shared, &self.inner.counters, msg)?;
        if wake {
            // Fails only once the writer has stopped, which applies the log as it goes.
            let _ = self.send(Command::Wake);
        }
        Some(seq)
    }

    /// Runs `f` on a reader connection, once SQLite has every message acknowledged so far
    /// (messages still in the message log are applied first).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.applied().await?;
        self.inner.readers.run(f).await
    }

    /// Returns once SQLite has every message acknowledged so far: at once when the message
    /// log holds none, else after the writer applied it.
    pub(crate) async fn applied(&self) -> Result<()> {
        if self.inner.counters.unapplied() == 0 {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        self.send(Command::Flush(tx))?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// How many reader threads are still running.
    pub(crate) fn readers_alive(&self) -> usize {
        self.inner.readers.alive()
    }

    /// Queues a write and waits for its reply.
    pub(crate) async fn write<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Write,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Write(make(tx)))?;
        rx.await.map_err(|_| Error::Closed)?
    }
}

/// Writes whatever the message log holds into the database (a crash left it there); with
/// the log turned off, removes the file afterwards.
fn replay_log(config: &SqliteConfig, conn: &mut Connection, database_id: &str) -> Result<()> {
    let path = config.log_path();
    let replayed = replay(conn, &path, database_id)?;
    if replayed > 0 {
        tracing::info!(
            messages = replayed,
            path = %path.display(),
            "sqlite store: replayed acknowledged messages from the message log"
        );
    }
    if !config.message_log && path.exists() {
        std::fs::remove_file(&path).map_err(|e| {
            Error::store(format!(
                "cannot remove the message log {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}
