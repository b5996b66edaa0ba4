//! [`Progress`], what the writer, the indexer and searches share: how far commits and the
//! index got, and when the indexer goes ahead ([`SETTLE`], [`BATCH`], [`MAX_DEFER`]; see the
//! module docs of `indexer`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

#[cfg(test)]
mod tests;

/// How long the indexer defers to a writer that never pauses before it indexes anyway.
pub(super) const MAX_DEFER: Duration = Duration::from_secs(10);

/// How long commits gather before the indexer takes them in (unless a search waits, or
/// [`BATCH`] messages do): one index transaction per gathering instead of one per commit.
pub(super) const SETTLE: Duration = Duration::from_millis(50);

/// Unindexed messages (counted in `pos`) past which the indexer does not wait for [`SETTLE`].
pub(super) const BATCH: i64 = 1024;

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
    pub(super) messages_indexed: AtomicU64,
}

impl Progress {
    pub(super) fn new(committed: i64, indexed: i64) -> Self {
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
    pub(super) fn next(&self, done: i64) -> Option<i64> {
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
    pub(super) fn indexed_to(&self, pos: i64) {
        {
            let mut pending = self.lock();
            pending.indexed = pending.indexed.max(pos);
            if pending.committed <= pos {
                pending.lagging_since = None;
            }
        }
        self.indexed.send_replace(pos);
    }

    pub(super) fn is_closed(&self) -> bool {
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
