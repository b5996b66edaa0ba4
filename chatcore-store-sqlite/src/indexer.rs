//! The search indexer thread: keeps the full-text index caught up with the messages table,
//! off the append path.
//!
//! The index lives in a file of its own (see [`schema::open_index`](crate::schema)), so the
//! indexer commits beside the writer instead of waiting for SQLite's one write lock. Every
//! message has a `pos`, its place in commit order across all rooms. After each commit the
//! writer reports the newest `pos` ([`Progress::committed`]); the indexer reads the messages
//! after its own position back from the messages table (a range of the table's primary key),
//! adds their words to the index (ascending keys: FTS5 then writes one segment per
//! transaction) and records, in the same transaction, the newest `pos` it indexed. Only that
//! one number crosses between the threads, so however far the indexer falls behind, memory
//! stays bounded; after a crash or a restart it carries on from the recorded position.
//!
//! Searches wait until everything committed before they were called is indexed
//! ([`Progress::wait_indexed`]): a message whose append was acknowledged is found by the next
//! search, while appends no longer pay for indexing.
//!
//! The thread runs at a lower CPU priority ([`NICE`] steps, Linux): when the cores are
//! short, acknowledgements go first and the index lags a little longer instead.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chatcore::{Error, Result};
use rusqlite::{Connection, params};
use tokio::sync::watch;

use crate::search;

/// Messages indexed per transaction at most: a transaction is one FTS5 segment, and a
/// bounded one keeps searches from waiting behind a huge catch-up commit.
const CHUNK: i64 = 16_384;

/// How long the indexer waits before retrying after a database error, at most.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How many nice steps the indexer thread lowers its priority by.
const NICE: i32 = 10;

/// Lowers the calling thread's CPU priority by [`NICE`] steps (on Linux the nice value is
/// per thread). Elsewhere it does nothing.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let lowered =
            getpriority_process(me).and_then(|nice| setpriority_process(me, (nice + NICE).min(19)));
        if let Err(e) = lowered {
            tracing::debug!(error = %e, "sqlite store: could not lower the indexer's priority");
        }
    }
}

/// What the writer has committed.
#[derive(Debug, Default)]
struct Pending {
    /// The newest committed `pos`.
    committed: i64,
    /// The writer has stopped: index what is pending, then stop.
    closed: bool,
}

/// State shared by the writer, the indexer and searches.
#[derive(Debug)]
pub(crate) struct Progress {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// The newest `pos` indexed: every message up to it is in the index.
    indexed: watch::Sender<i64>,
    /// Messages indexed since the store opened.
    messages_indexed: AtomicU64,
}

impl Progress {
    fn new(committed: i64, indexed: i64) -> Self {
        Self {
            pending: Mutex::new(Pending {
                committed,
                closed: false,
            }),
            wake: Condvar::new(),
            indexed: watch::Sender::new(indexed),
            messages_indexed: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The writer committed messages up to `pos`.
    pub(crate) fn committed(&self, pos: i64) {
        let mut pending = self.lock();
        pending.committed = pending.committed.max(pos);
        drop(pending);
        self.wake.notify_one();
    }

    /// Waits (up to `limit`) until every message committed before this call is indexed.
    /// Returns `false` if the index still lags when `limit` runs out. Once the writer has
    /// stopped it does not wait: the indexer may have stopped too.
    pub(crate) async fn wait_indexed(&self, limit: Duration) -> bool {
        let target = {
            let pending = self.lock();
            if pending.closed {
                return true;
            }
            pending.committed
        };
        let mut indexed = self.indexed.subscribe();
        if *indexed.borrow() >= target {
            return true;
        }
        matches!(
            tokio::time::timeout(limit, indexed.wait_for(|pos| *pos >= target)).await,
            Ok(Ok(_))
        )
    }

    /// Messages indexed since the store opened.
    pub(crate) fn messages_indexed(&self) -> u64 {
        self.messages_indexed.load(Ordering::Relaxed)
    }

    /// The writer has stopped: the indexer finishes what is pending (or, far behind, the
    /// transaction it is in) and stops.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Blocks until messages after `done` are committed and returns the newest `pos`, or
    /// returns `None` once the writer has stopped and nothing is pending.
    fn next(&self, done: i64) -> Option<i64> {
        let mut pending = self.lock();
        while pending.committed <= done && !pending.closed {
            pending = self
                .wake
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        (pending.committed > done).then_some(pending.committed)
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

/// The indexer's connections and how far it got.
pub(crate) struct Indexer {
    /// Reads the messages (a `query_only` connection to the main database).
    source: Connection,
    /// Writes the index file.
    index: Connection,
    /// The newest `pos` indexed, as committed in the index file.
    done: i64,
    progress: Arc<Progress>,
}

impl Indexer {
    /// Prepares the indexer: loads how far the index got and compares it with the messages
    /// table. An index that claims messages the table does not hold (a power cut took back
    /// commits the index had already seen) is emptied and rebuilt. Returns the indexer and
    /// the progress shared with the store.
    pub(crate) fn new(source: Connection, index: Connection) -> Result<(Self, Arc<Progress>)> {
        let head: i64 = source
            .query_row("SELECT coalesce(max(pos), 0) FROM messages", [], |r| {
                r.get(0)
            })
            .map_err(Error::store)?;
        let mut done: i64 = index
            .query_row("SELECT pos FROM indexed", [], |r| r.get(0))
            .map_err(Error::store)?;
        if done > head {
            tracing::warn!(
                indexed = done,
                stored = head,
                "sqlite store: the search index is ahead of the messages; rebuilding it"
            );
            index
                .execute_batch(
                    "BEGIN IMMEDIATE;
                     INSERT INTO message_fts (message_fts) VALUES ('delete-all');
                     UPDATE indexed SET pos = 0;
                     COMMIT;",
                )
                .map_err(Error::store)?;
            done = 0;
        }
        if head > done {
            tracing::info!(
                from = done,
                to = head,
                "sqlite store: search index catching up"
            );
        }
        let progress = Arc::new(Progress::new(head, done));
        let indexer = Self {
            source,
            index,
            done,
            progress: Arc::clone(&progress),
        };
        Ok((indexer, progress))
    }

    /// The thread's body: indexes what the writer commits until the store closes.
    pub(crate) fn run(mut self) {
        lower_priority();
        let progress = Arc::clone(&self.progress);
        while let Some(target) = progress.next(self.done) {
            let mut backoff = Duration::from_millis(50);
            loop {
                match self.index(target) {
                    Ok(true) => break,
                    // Stopped early by a close: the rest is indexed at the next open.
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff,
                            "sqlite store: search indexing failed");
                        if progress.is_closed() {
                            return;
                        }
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
    }

    /// Indexes every message with `done < pos <= target`, a chunk per transaction. Returns
    /// `false` if it stopped early because the store closed.
    fn index(&mut self, target: i64) -> rusqlite::Result<bool> {
        let mut batch: Vec<(i64, String)> = Vec::new();
        while self.done < target {
            batch.clear();
            {
                let mut stmt = self.source.prepare_cached(
                    "SELECT pos, body FROM messages WHERE pos > ?1 AND pos <= ?2 \
                     ORDER BY pos LIMIT ?3",
                )?;
                let mut rows = stmt.query(params![self.done, target, CHUNK])?;
                while let Some(row) = rows.next()? {
                    let body = row.get_ref(1)?.as_str()?;
                    batch.push((row.get(0)?, search::index_text(body)));
                }
            }
            // A short chunk read everything up to `target`.
            let upto = if (batch.len() as i64) < CHUNK {
                target
            } else {
                batch.last().map_or(target, |(pos, _)| *pos)
            };
            self.commit(&batch, upto)?;
            if self.done < target && self.progress.is_closed() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Adds `batch` to the index and records `upto` as indexed, in one transaction.
    fn commit(&mut self, batch: &[(i64, String)], upto: i64) -> rusqlite::Result<()> {
        let result = self.try_commit(batch, upto);
        if result.is_err() && !self.index.is_autocommit() {
            if let Err(e) = self.index.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "sqlite store: index rollback failed");
            }
        }
        result?;
        self.done = upto;
        self.progress
            .messages_indexed
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        self.progress.indexed.send_replace(upto);
        Ok(())
    }

    fn try_commit(&self, batch: &[(i64, String)], upto: i64) -> rusqlite::Result<()> {
        self.index.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let mut insert = self
            .index
            .prepare_cached("INSERT INTO message_fts (rowid, words) VALUES (?1, ?2)")?;
        for (pos, words) in batch {
            if !words.is_empty() {
                insert.execute(params![pos, words])?;
            }
        }
        self.index
            .prepare_cached("UPDATE indexed SET pos = ?1")?
            .execute([upto])?;
        self.index.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }
}
