//! Search indexing behind the appends.
//!
//! Appends store each message's search words in `messages.search`, which has no index: the
//! GIN index lives on `message_search`, filled by [`index_pass`], and `search_progress`
//! records, per room, the seq up to which the room is in it. A pass copies the words of every
//! message between a room's progress and its `last_seq` and moves the progress, in one
//! statement, holding the room's progress row, so nodes never index a message twice.
//!
//! Each node runs an indexer task ([`Indexer`]) that makes a pass after its writer pipelines
//! commit, acknowledgements first: while the pipelines have appends in flight it waits (at
//! most [`MAX_DEFER`] after the oldest unindexed commit), so a burst that saturates the
//! server is acknowledged at full speed and indexed right after. A search makes a pass
//! itself before it queries (waiting for rows another node is indexing), so it finds every
//! message acknowledged before it was called, by any node.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chatcore::{Error, Result};
use deadpool_postgres::Pool;
use tokio::sync::{Notify, watch};

/// One pass: for every lagging room, the next [`CHUNK`] messages at most. `$lock` is
/// `FOR UPDATE OF p` (wait for rooms another node is indexing), or limits the pass to `$2`
/// rooms that nobody else is indexing.
macro_rules! pass {
    ($lock:literal) => {
        concat!(
            "WITH lag AS ( \
                 SELECT p.room_id, p.seq AS done, LEAST(r.last_seq, p.seq + $1) AS upto \
                 FROM search_progress p JOIN rooms r ON r.id = p.room_id \
                 WHERE p.seq < r.last_seq ORDER BY p.room_id ",
            $lock,
            "), \
             added AS ( \
                 INSERT INTO message_search (room_id, seq, search) \
                 SELECT m.room_id, m.seq, m.search FROM lag JOIN messages m \
                 ON m.room_id = lag.room_id AND m.seq > lag.done AND m.seq <= lag.upto) \
             UPDATE search_progress p SET seq = lag.upto FROM lag WHERE p.room_id = lag.room_id"
        )
    };
}

/// A search's pass: waits for rooms another node is indexing.
const PASS: &str = pass!("FOR UPDATE OF p");

/// The background pass: up to `$2` rooms that no other pass is indexing right now.
const BACKGROUND_PASS: &str = pass!("LIMIT $2 FOR UPDATE OF p SKIP LOCKED");

/// Rooms per background pass, so that the two passes run side by side share the lagging
/// rooms.
const ROOMS_PER_PASS: i64 = 4;

/// Messages per room and pass at most, so no pass holds its rooms for long.
const CHUNK: i64 = 65_536;

/// How long the indexer defers to pipelines that never run dry before it indexes anyway.
const MAX_DEFER: Duration = Duration::from_secs(10);

/// How often a deferring indexer looks at the pipelines again.
const RECHECK: Duration = Duration::from_millis(20);

/// Indexes up to [`CHUNK`] more messages of every lagging room; returns the rooms it moved
/// (0: nothing lagged). `wait`: also rooms another node is indexing at the moment.
async fn index_pass(pool: &Pool, wait: bool) -> Result<u64> {
    let client = pool.get().await.map_err(Error::store)?;
    if wait {
        let stmt = client.prepare_cached(PASS).await.map_err(Error::store)?;
        client.execute(&stmt, &[&CHUNK]).await.map_err(Error::store)
    } else {
        let stmt = client
            .prepare_cached(BACKGROUND_PASS)
            .await
            .map_err(Error::store)?;
        client
            .execute(&stmt, &[&CHUNK, &ROOMS_PER_PASS])
            .await
            .map_err(Error::store)
    }
}

/// Two background passes side by side, each on its own connection, so a catch-up after a
/// burst uses more than one server core; returns the rooms they moved together.
async fn background_passes(pool: &Pool) -> Result<u64> {
    let (one, two) = tokio::join!(index_pass(pool, false), index_pass(pool, false));
    Ok(one? + two?)
}

/// The most messages any room has that are not indexed yet.
const MAX_LAG: &str = "SELECT coalesce(max(r.last_seq - p.seq), 0)::bigint \
     FROM search_progress p JOIN rooms r ON r.id = p.room_id";

/// Brings the search index up to every commit made before the call, by any node. It makes
/// only as many passes as the lag at the call needs, so appends that keep coming cannot keep
/// a search waiting.
pub(crate) async fn catch_up(pool: &Pool) -> Result<()> {
    let lag: i64 = {
        let client = pool.get().await.map_err(Error::store)?;
        let stmt = client.prepare_cached(MAX_LAG).await.map_err(Error::store)?;
        let row = client.query_one(&stmt, &[]).await.map_err(Error::store)?;
        row.try_get(0).map_err(Error::store)?
    };
    for _ in 0..(lag + CHUNK - 1) / CHUNK {
        if index_pass(pool, true).await? == 0 {
            break;
        }
    }
    Ok(())
}

/// What the writer shares with the indexer task.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// Appends submitted and not yet answered.
    pub(crate) in_flight: AtomicUsize,
    /// Woken after each commit.
    pub(crate) committed: Notify,
}

/// The node's indexer task.
pub(crate) struct Indexer {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Indexer {
    /// Starts the task on the current runtime; it makes a first pass at once (catching up
    /// whatever earlier runs left).
    pub(crate) fn start(pool: Pool, signals: Arc<Signals>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(pool, signals, stopped));
        Self { stop, task }
    }

    /// Stops the task (after the pass it is in) and waits for it.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "postgres search indexer ended abnormally");
        }
    }
}

async fn run(pool: Pool, signals: Arc<Signals>, mut stopped: watch::Receiver<bool>) {
    let mut lagging_since = Some(Instant::now());
    let mut backoff = Duration::from_millis(50);
    loop {
        if lagging_since.is_none() {
            tokio::select! {
                _ = signals.committed.notified() => lagging_since = Some(Instant::now()),
                _ = stopped.changed() => return,
            }
        }
        // Acknowledgements first.
        let since = lagging_since.unwrap_or_else(Instant::now);
        while signals.in_flight.load(Ordering::Relaxed) > 0 && since.elapsed() < MAX_DEFER {
            tokio::select! {
                _ = tokio::time::sleep(RECHECK) => {}
                _ = stopped.changed() => return,
            }
        }
        if *stopped.borrow() {
            return;
        }
        match background_passes(&pool).await {
            // Caught up (rooms another node holds are its to finish).
            Ok(0) => lagging_since = None,
            // More may have been committed meanwhile: go round again.
            Ok(_) => backoff = Duration::from_millis(50),
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff,
                    "postgres search indexing failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stopped.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
