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
//! Acknowledgements go first. The indexer lets commits gather for [`SETTLE`] (or until
//! [`BATCH`] messages wait) and then works while the writer is idle (waiting for its next
//! command), which under any load short of saturation is most of the time, so the index
//! trails by tens of milliseconds. Gathering matters in a busy small room: indexing after
//! every commit of one or two messages cost a fifth of the server's CPU (an index transaction
//! and two thread wake-ups per commit). While the writer is busy without a break it waits,
//! unless a search is waiting for it or the oldest unindexed commit is [`MAX_DEFER`] old;
//! and it runs at a lower CPU priority ([`NICE`] steps, Linux). So a burst that saturates
//! the cores is acknowledged at full speed and indexed right after. A waiting search never
//! waits for [`SETTLE`]: it makes the indexer go at once.
//!
//! Here: the indexer thread and the tunables of its work; the state it shares with the writer
//! and with searches, and when it goes ahead (with the tunables of that), is in `progress.rs`.
//!
//! [`SETTLE`]: progress::SETTLE
//! [`BATCH`]: progress::BATCH
//! [`MAX_DEFER`]: progress::MAX_DEFER

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chatcore::{Error, Result};
use rusqlite::{Connection, params};

use crate::search;

mod progress;

pub(crate) use progress::Progress;

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

    /// The thread's body: indexes what the writer commits, a chunk at a time, until the
    /// store closes.
    pub(crate) fn run(mut self) {
        lower_priority();
        let progress = Arc::clone(&self.progress);
        while let Some(target) = progress.next(self.done) {
            let mut backoff = Duration::from_millis(50);
            while let Err(e) = self.index_chunk(target) {
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

    /// Indexes up to [`CHUNK`] messages with `done < pos <= target`, in one transaction.
    fn index_chunk(&mut self, target: i64) -> rusqlite::Result<()> {
        let mut batch: Vec<(i64, String)> = Vec::new();
        {
            let mut stmt = self.source.prepare_cached(
                "SELECT pos, body FROM messages WHERE pos > ?1 AND pos <= ?2 \
                 ORDER BY pos LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![self.done, target, CHUNK])?;
            while let Some(row) = rows.next()? {
                batch.push((row.get(0)?, row.get(1)?));
            }
        }
        // Turned into index text after the read has ended: while it lasts, no checkpoint
        // can copy the log past what it sees, and the log cannot start over.
        for (_, body) in &mut batch {
            *body = search::index_text(body);
        }
        // A short chunk read everything up to `target`.
        let upto = if (batch.len() as i64) < CHUNK {
            target
        } else {
            batch.last().map_or(target, |(pos, _)| *pos)
        };
        self.commit(&batch, upto)
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
        self.progress.indexed_to(upto);
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
