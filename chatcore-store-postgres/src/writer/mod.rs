//! The append path: queues, group commits, seq assignment and nonce dedupe.
//!
//! [`Writer::submit`] picks a pipeline by a hash of the room name and sends the message on
//! that pipeline's unbounded queue before it returns, so appends called in sequence are queued
//! in that order. Each pipeline is a task with a connection of its own: it takes everything
//! queued (up to `max_batch`) and commits it in one transaction:
//!
//! 1. `SELECT … FROM rooms WHERE name = ANY($1) ORDER BY name FOR UPDATE` locks every room of
//!    the batch, in name order (so writers on other nodes never deadlock), and reads each
//!    room's `last_seq` as of the latest commit.
//! 2. Only after a nonce conflict (see below): one query over `UNNEST(senders, nonces)` finds
//!    originals already stored. A nonce seen earlier in the same batch always refers to that
//!    message (checked in memory).
//! 3. The new messages of each room get `last_seq + 1 …`, in queue order. One `UPDATE … FROM
//!    UNNEST(ids, last_seqs)` moves every room's `last_seq`, and one binary
//!    `COPY messages FROM STDIN` streams the rows.
//! 4. `COMMIT`, then every caller's oneshot gets its result.
//!
//! **Optimistic nonces.** A stored nonce is rare (a client retrying after a reconnect), so a
//! pipeline normally skips step 2: the unique index on `(nonce, sender)` rejects a copy that
//! holds a stored nonce, the transaction rolls back (returning its seqs), and the batch is
//! planned again *with* the lookup, now finding the original. After such a conflict the
//! pipeline keeps looking up for [`LOOKUP_BATCHES`](pipeline::LOOKUP_BATCHES) more batches,
//! so a client repeating old nonces costs at most one wasted copy per that many batches. The
//! same path covers another node committing one of the batch's nonces after the lookup (a
//! race). Serialization failures, deadlocks and a connection lost before `COMMIT` are
//! retried too; nothing is retried once `COMMIT` was sent, because its outcome is then
//! unknown (a client retry with its nonce is safe).
//!
//! The queues are here and the counters in `stats`; `pipeline` is the writer task's loop,
//! retries and answers, `transaction` is one attempt at a batch (steps 1 to 4, with their
//! SQL), and `outcome` is what an attempt returns.

mod outcome;
mod pipeline;
mod stats;
mod transaction;

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, RwLock};

use chatcore::Error;
use chatcore::store::{Appended, NewMessage, Pending};
use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot, watch};

use self::pipeline::{Job, Pipeline};
use self::stats::Counters;
pub use self::stats::WriteStats;
use crate::indexer::Signals;

/// The queues of all pipelines, and how to stop them.
pub(crate) struct Writer {
    /// One sender per pipeline; `None` once closed. A std lock: held only to clone a sender
    /// out or to take them all, never across an `.await`.
    queues: RwLock<Option<Arc<[mpsc::UnboundedSender<Job>]>>>,
    /// Pipelines still running; [`Writer::close`] waits for 0.
    running: watch::Receiver<usize>,
    /// Counters shared with the pipelines.
    stats: Arc<Counters>,
    /// Appends in flight and commits, for the search indexer.
    signals: Arc<Signals>,
}

impl Writer {
    /// Spawns `pipelines` writer tasks on the current Tokio runtime. `signals` tell the
    /// search indexer about appends in flight and commits.
    pub(crate) fn start(
        pool: &Pool,
        pipelines: usize,
        max_batch: usize,
        signals: Arc<Signals>,
    ) -> Self {
        let (running_tx, running) = watch::channel(pipelines);
        let running_tx = Arc::new(running_tx);
        let stats = Arc::new(Counters::default());
        let mut queues = Vec::with_capacity(pipelines);
        for index in 0..pipelines {
            let (tx, rx) = mpsc::unbounded_channel();
            queues.push(tx);
            let pipeline = Pipeline {
                pool: pool.clone(),
                client: None,
                max_batch,
                index,
                lookups_left: 0,
                stats: Arc::clone(&stats),
                signals: Arc::clone(&signals),
            };
            let guard = RunningGuard(Arc::clone(&running_tx));
            tokio::spawn(async move {
                let _guard = guard;
                pipeline.run(rx).await;
            });
        }
        Self {
            queues: RwLock::new(Some(queues.into())),
            running,
            stats,
            signals,
        }
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> WriteStats {
        let c = &self.stats;
        WriteStats {
            batches: c.batches.load(Ordering::Relaxed),
            appends: c.appends.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            failed_batches: c.failed_batches.load(Ordering::Relaxed),
            lookups: c.lookups.load(Ordering::Relaxed),
        }
    }

    /// Queues `msg` on its room's pipeline and returns the future of its commit.
    pub(crate) fn submit(&self, msg: NewMessage) -> Pending<Appended> {
        let (reply, rx) = oneshot::channel();
        // Counted before it is queued: the pipeline may answer (and count it out) at once.
        self.signals.in_flight.fetch_add(1, Ordering::Relaxed);
        let queued = {
            let queues = self.queues.read().unwrap_or_else(PoisonError::into_inner);
            match queues.as_deref() {
                Some(queues) if !queues.is_empty() => {
                    let i = pipeline_for(&msg.room, queues.len());
                    queues
                        .get(i)
                        .is_some_and(|q| q.send(Job { msg, reply }).is_ok())
                }
                _ => false,
            }
        };
        if !queued {
            self.signals.in_flight.fetch_sub(1, Ordering::Relaxed);
            return Box::pin(async { Err(Error::Closed) });
        }
        // A dropped reply means the pipeline task is gone (its runtime shut down).
        Box::pin(async move { rx.await.unwrap_or(Err(Error::Closed)) })
    }

    /// Stops accepting appends and waits until every queued one is committed or failed.
    pub(crate) async fn close(&self) {
        let queues = self
            .queues
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Dropping the senders lets each pipeline drain its queue and stop.
        drop(queues);
        let mut running = self.running.clone();
        // An error means every guard is gone, i.e. every pipeline stopped.
        let _ = running.wait_for(|n| *n == 0).await;
    }
}

/// Counts a pipeline down when its task ends, also by panic.
struct RunningGuard(Arc<watch::Sender<usize>>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// The pipeline of a room: FNV-1a of its name, so a room always uses the same one.
fn pipeline_for(room: &str, pipelines: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in room.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % pipelines as u64) as usize
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_room_always_uses_the_same_pipeline() {
        for n in 1..9 {
            let p = pipeline_for("general", n);
            assert!(p < n);
            assert_eq!(p, pipeline_for("general", n));
        }
        let used: HashSet<_> = (0..64).map(|i| pipeline_for(&format!("r{i}"), 4)).collect();
        assert_eq!(used.len(), 4, "rooms spread over every pipeline");
    }
}
