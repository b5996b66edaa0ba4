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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chatcore::{Error, Result};
use rusqlite::{Connection, params};
use tokio::sync::watch;

use crate::search;

/// Messages indexed per transaction at most: a transaction is one FTS5 segment, and a
/// bounded one keeps searches from waiting behind a huge catch-up commit.
const CHUNK: i64 = 16_384;

/// How long the indexer waits before retrying after a database error, at most.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long the indexer defers to a writer that never pauses before it indexes anyway.
const MAX_DEFER: Duration = Duration::from_secs(10);

/// How long commits gather before the indexer takes them in (unless a search waits, or
/// [`BATCH`] messages do): one index transaction per gathering instead of one per commit.
const SETTLE: Duration = Duration::from_millis(50);

/// Unindexed messages (counted in `pos`) past which the indexer does not wait for [`SETTLE`].
const BATCH: i64 = 1024;

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

/// What the writer has committed, and who is waiting.
#[derive(Debug, Default)]
struct Pending {
    /// The newest committed `pos`.
    committed: i64,
    /// The newest indexed `pos`.
    indexed: i64,
    /// When the index started lagging behind the commits (`None`: caught up).
    lagging_since: Option<Instant>,
    /// The writer is waiting for commands.
    writer_idle: bool,
    /// Searches waiting for the index.
    searches: usize,
    /// The writer has stopped: the indexer stops too (it catches up at the next open).
    closed: bool,
}

/// What the indexer does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Index everything committed up to this `pos`.
    Index(i64),
    /// Wait for a commit (or a search, or the close).
    Wait,
    /// Wait until this moment unless woken first.
    WaitUntil(Instant),
    /// The writer has stopped.
    Stop,
}

impl Pending {
    /// How long the oldest unindexed commit has waited.
    fn lag(&self, now: Instant) -> Duration {
        self.lagging_since
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }

    /// `true` when the commits waiting have gathered long enough, or are many enough, for the
    /// indexer to take them in once the writer pauses.
    fn gathered(&self, now: Instant) -> bool {
        self.committed > self.indexed
            && (self.committed - self.indexed >= BATCH || self.lag(now) >= SETTLE)
    }

    /// What the indexer, having indexed up to `done`, does at `now` (see the module docs).
    fn next(&self, done: i64, now: Instant) -> Next {
        if self.closed {
            return Next::Stop;
        }
        if self.committed <= done {
            return Next::Wait;
        }
        let lag = self.lag(now);
        let since = self.lagging_since.unwrap_or(now);
        if self.searches > 0 || lag >= MAX_DEFER || (self.writer_idle && self.gathered(now)) {
            Next::Index(self.committed)
        } else if lag < SETTLE && self.committed - done < BATCH {
            Next::WaitUntil(since + SETTLE)
        } else {
            // Gathered, but the writer is busy: its next pause wakes the indexer.
            Next::WaitUntil(since + MAX_DEFER)
        }
    }
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
                indexed,
                lagging_since: (committed > indexed).then(Instant::now),
                writer_idle: true,
                searches: 0,
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

    /// The writer committed messages up to `pos`. Wakes the indexer only when the index
    /// starts lagging (it then waits for [`SETTLE`] on its own), not on every commit.
    pub(crate) fn committed(&self, pos: i64) {
        let mut pending = self.lock();
        pending.committed = pending.committed.max(pos);
        let started = pending.lagging_since.is_none();
        pending.lagging_since.get_or_insert_with(Instant::now);
        drop(pending);
        if started {
            self.wake.notify_one();
        }
    }

    /// The writer is about to wait for commands (`true`) or has one (`false`). A pause wakes
    /// the indexer only when commits have gathered for it.
    pub(crate) fn writer_idle(&self, idle: bool) {
        let mut pending = self.lock();
        pending.writer_idle = idle;
        let go = idle && pending.gathered(Instant::now());
        drop(pending);
        if go {
            self.wake.notify_one();
        }
    }

    /// Waits (up to `limit`) until every message committed before this call is indexed.
    /// Returns `false` if the index still lags when `limit` runs out. Once the writer has
    /// stopped it does not wait: the indexer may have stopped too.
    pub(crate) async fn wait_indexed(&self, limit: Duration) -> bool {
        let mut indexed = self.indexed.subscribe();
        let target = {
            let mut pending = self.lock();
            if pending.closed || *indexed.borrow() >= pending.committed {
                return true;
            }
            pending.searches += 1;
            pending.committed
        };
        // The indexer stops deferring to the writer while a search waits.
        self.wake.notify_one();
        let _waiting = SearchWaiting(self);
        matches!(
            tokio::time::timeout(limit, indexed.wait_for(|pos| *pos >= target)).await,
            Ok(Ok(_))
        )
    }

    /// Messages indexed since the store opened.
    pub(crate) fn messages_indexed(&self) -> u64 {
        self.messages_indexed.load(Ordering::Relaxed)
    }

    /// The writer has stopped: the indexer stops after the transaction it is in.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Blocks until there is something to index after `done` and the indexer may go ahead
    /// (see the module docs), and returns the newest committed `pos`; `None` once the
    /// writer has stopped.
    fn next(&self, done: i64) -> Option<i64> {
        let mut pending = self.lock();
        loop {
            let now = Instant::now();
            pending = match pending.next(done, now) {
                Next::Stop => return None,
                Next::Index(target) => return Some(target),
                Next::Wait => self
                    .wake
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner),
                Next::WaitUntil(until) => {
                    self.wake
                        .wait_timeout(pending, until.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// The indexer got up to `pos`: wakes the searches waiting for it.
    fn indexed_to(&self, pos: i64) {
        {
            let mut pending = self.lock();
            pending.indexed = pending.indexed.max(pos);
            if pending.committed <= pos {
                pending.lagging_since = None;
            }
        }
        self.indexed.send_replace(pos);
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

/// Counts a search as waiting while it lives.
struct SearchWaiting<'a>(&'a Progress);

impl Drop for SearchWaiting<'_> {
    fn drop(&mut self) {
        let mut pending = self.0.lock();
        pending.searches = pending.searches.saturating_sub(1);
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;

    use super::*;

    /// Runs `progress.next(done)` on a thread; its answer arrives on the returned channel.
    fn next_on_a_thread(
        progress: &Arc<Progress>,
        done: i64,
    ) -> std::sync::mpsc::Receiver<Option<i64>> {
        let (tx, rx) = channel();
        let progress = Arc::clone(progress);
        std::thread::spawn(move || {
            let _ = tx.send(progress.next(done));
        });
        rx
    }

    const BLOCKED: Duration = Duration::from_millis(150);
    const SOON: Duration = Duration::from_secs(5);

    #[test]
    fn the_indexer_waits_for_the_writer_to_pause() {
        let progress = Arc::new(Progress::new(0, 0));
        progress.writer_idle(false);
        progress.committed(5);
        let next = next_on_a_thread(&progress, 0);
        assert!(
            next.recv_timeout(BLOCKED).is_err(),
            "deferred to a busy writer"
        );
        progress.writer_idle(true);
        assert_eq!(next.recv_timeout(SOON).expect("goes ahead"), Some(5));
    }

    #[test]
    fn an_idle_writer_lets_the_indexer_go_and_close_stops_it() {
        let progress = Arc::new(Progress::new(0, 0));
        let next = next_on_a_thread(&progress, 0);
        assert!(next.recv_timeout(BLOCKED).is_err(), "nothing to index yet");
        progress.committed(3);
        assert_eq!(next.recv_timeout(SOON).expect("indexes"), Some(3));
        let next = next_on_a_thread(&progress, 3);
        progress.close();
        assert_eq!(next.recv_timeout(SOON).expect("stops"), None);
    }

    /// A pending state `lag` after the first unindexed commit, `backlog` messages behind.
    fn lagging(backlog: i64, lag: Duration, writer_idle: bool) -> (Pending, Instant) {
        let since = Instant::now();
        let pending = Pending {
            committed: 100 + backlog,
            indexed: 100,
            lagging_since: Some(since),
            writer_idle,
            searches: 0,
            closed: false,
        };
        (pending, since + lag)
    }

    #[test]
    fn commits_gather_for_the_settle_time_before_they_are_indexed() {
        let (p, now) = lagging(3, Duration::ZERO, true);
        let since = p.lagging_since.expect("lagging");
        assert_eq!(p.next(100, now), Next::WaitUntil(since + SETTLE));
        assert!(
            !p.gathered(now),
            "an idle writer's pause does not wake the indexer yet"
        );
        let (p, now) = lagging(3, SETTLE / 2, true);
        assert_eq!(p.next(100, now), Next::WaitUntil(since_of(&p) + SETTLE));
        let (p, now) = lagging(3, SETTLE, true);
        assert!(p.gathered(now));
        assert_eq!(p.next(100, now), Next::Index(103));
    }

    fn since_of(p: &Pending) -> Instant {
        p.lagging_since.expect("lagging")
    }

    #[test]
    fn a_large_backlog_or_a_search_does_not_wait_for_the_settle_time() {
        let (p, now) = lagging(BATCH, Duration::ZERO, true);
        assert!(p.gathered(now));
        assert_eq!(p.next(100, now), Next::Index(100 + BATCH));
        let (mut p, now) = lagging(1, Duration::ZERO, false);
        p.searches = 1;
        assert_eq!(
            p.next(100, now),
            Next::Index(101),
            "even with the writer busy"
        );
    }

    #[test]
    fn gathered_commits_wait_for_a_busy_writer_up_to_the_longest_deferral() {
        let (p, now) = lagging(3, SETTLE, false);
        assert_eq!(p.next(100, now), Next::WaitUntil(since_of(&p) + MAX_DEFER));
        let (p, now) = lagging(3, MAX_DEFER, false);
        assert_eq!(p.next(100, now), Next::Index(103));
        let (mut p, now) = lagging(3, SETTLE, true);
        assert_eq!(p.next(103, now), Next::Wait, "nothing after what is done");
        p.closed = true;
        assert_eq!(p.next(100, now), Next::Stop);
    }

    #[tokio::test]
    async fn a_waiting_search_overrides_a_busy_writer() {
        let progress = Arc::new(Progress::new(0, 0));
        progress.writer_idle(false);
        progress.committed(7);
        let next = next_on_a_thread(&progress, 0);
        assert!(
            next.recv_timeout(BLOCKED).is_err(),
            "deferred to a busy writer"
        );
        let search = {
            let progress = Arc::clone(&progress);
            tokio::spawn(async move { progress.wait_indexed(SOON).await })
        };
        let target = tokio::task::spawn_blocking(move || next.recv_timeout(SOON))
            .await
            .expect("join");
        assert_eq!(target.expect("a search makes it go"), Some(7));
        progress.indexed_to(7);
        assert!(
            search.await.expect("join"),
            "the search saw the index catch up"
        );
        assert_eq!(
            progress.lock().searches,
            0,
            "the search no longer counts as waiting"
        );
        assert!(progress.lock().lagging_since.is_none());
    }

    #[tokio::test]
    async fn a_search_gives_up_waiting_after_its_limit() {
        let progress = Progress::new(0, 0);
        progress.committed(2);
        assert!(!progress.wait_indexed(Duration::from_millis(20)).await);
        assert_eq!(progress.lock().searches, 0);
        progress.indexed_to(2);
        assert!(progress.wait_indexed(Duration::from_millis(20)).await);
    }
}
