//! One writer task: it takes its queue in batches, commits change events in transactions of
//! their own, retries failed attempts, counts, and answers every caller.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chatcore::store::{Appended, NewMessage};
use chatcore::{BoxError, Error, Result};
use deadpool_postgres::{Object, Pool};
use tokio::sync::{mpsc, oneshot};

use super::outcome::{Failure, Outcome};
use super::stats::Counters;
use crate::error::{PostgresError, Shared};
use crate::indexer::Signals;

/// Attempts per batch before its appends fail. The first attempt of an optimistic batch may
/// fail on a stored nonce by design, hence one more than the 5 conflicts tolerated.
const MAX_ATTEMPTS: u32 = 6;

/// Batches after a nonce conflict that look their nonces up before copying (measured: the
/// lookup costs the server about 3 µs per message, 10% of an append, so it is skipped while
/// no stored nonce shows up). A conflict wastes one batch's copy, so a client that keeps
/// sending stored nonces costs at most one wasted copy per this many batches.
pub(crate) const LOOKUP_BATCHES: u32 = 16;

/// One queued append and where its result goes.
pub(super) struct Job {
    pub(super) msg: NewMessage,
    pub(super) reply: oneshot::Sender<Result<Appended>>,
}

/// One writer task.
pub(super) struct Pipeline {
    pub(super) pool: Pool,
    /// The pipeline's own connection, reused across batches; dropped after any failure so
    /// the next batch starts on a healthy one.
    pub(super) client: Option<Object>,
    pub(super) max_batch: usize,
    /// For logs.
    pub(super) index: usize,
    /// Batches still to look their nonces up before copying; set to [`LOOKUP_BATCHES`] by a
    /// nonce conflict, 0 means optimistic.
    pub(super) lookups_left: u32,
    pub(super) stats: Arc<Counters>,
    /// Appends in flight and commits, for the search indexer.
    pub(super) signals: Arc<Signals>,
}

impl Pipeline {
    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut jobs = Vec::with_capacity(self.max_batch);
        while rx.recv_many(&mut jobs, self.max_batch).await > 0 {
            let (msgs, replies): (Vec<_>, Vec<_>) =
                jobs.drain(..).map(|j| (j.msg, j.reply)).unzip();
            let results = self.commit_split(msgs).await;
            self.signals.committed.notify_one();
            let answered = replies.len();
            for (reply, result) in replies.into_iter().zip(results) {
                // The caller may have stopped waiting; the message is stored regardless.
                let _ = reply.send(result);
            }
            self.signals
                .in_flight
                .fetch_sub(answered, Ordering::Relaxed);
        }
        tracing::debug!(pipeline = self.index, "postgres writer pipeline stopped");
    }

    /// Commits a batch as runs of plain messages, each run in one transaction, and each
    /// change event in a transaction of its own (it reads and updates its target, which the
    /// batch's earlier rows, copied only at the end, could otherwise hide from it). One
    /// result per message, in order.
    async fn commit_split(&mut self, mut msgs: Vec<NewMessage>) -> Vec<Result<Appended>> {
        if !msgs.iter().any(|m| m.kind.is_change()) {
            return self.commit(msgs).await;
        }
        let mut results = Vec::with_capacity(msgs.len());
        while !msgs.is_empty() {
            let run = match msgs.iter().position(|m| m.kind.is_change()) {
                Some(0) => 1,
                Some(at) => at,
                None => msgs.len(),
            };
            let rest = msgs.split_off(run);
            results.extend(self.commit(msgs).await);
            msgs = rest;
        }
        results
    }

    /// Commits one batch; one result per message, in order.
    async fn commit(&mut self, msgs: Vec<NewMessage>) -> Vec<Result<Appended>> {
        let mut attempt = 0;
        let mut lookup = self.lookups_left > 0;
        self.lookups_left = self.lookups_left.saturating_sub(1);
        let error = loop {
            attempt += 1;
            match self.attempt(&msgs, lookup).await {
                Ok(outcomes) => {
                    let duplicates = outcomes
                        .iter()
                        .filter(|o| matches!(o, Outcome::Original(_) | Outcome::SameAs(_)))
                        .count();
                    let s = &self.stats;
                    s.batches.fetch_add(1, Ordering::Relaxed);
                    s.appends.fetch_add(msgs.len() as u64, Ordering::Relaxed);
                    s.duplicates.fetch_add(duplicates as u64, Ordering::Relaxed);
                    s.lookups.fetch_add(u64::from(lookup), Ordering::Relaxed);
                    return finish(msgs, outcomes);
                }
                Err(failure) => {
                    if !matches!(failure, Failure::NonceTaken(_)) {
                        // Start the next attempt on a fresh connection. (After a rejected
                        // copy the driver has sent `CopyDone`/`Sync` and the dropped
                        // transaction its `ROLLBACK`: that connection is in sync.)
                        self.client = None;
                    }
                    match failure {
                        Failure::NonceTaken(e) if attempt < MAX_ATTEMPTS => {
                            lookup = true;
                            self.lookups_left = LOOKUP_BATCHES;
                            self.stats.retries.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(pipeline = self.index, attempt, error = %e,
                                "postgres batch holds a stored nonce; looking nonces up");
                        }
                        Failure::Retry(e) if attempt < MAX_ATTEMPTS => {
                            self.stats.retries.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(pipeline = self.index, attempt, error = %e,
                                "postgres batch conflicted; planning it again");
                        }
                        Failure::NonceTaken(e) | Failure::Retry(e) => {
                            break BoxError::from(PostgresError::Contended {
                                attempts: attempt,
                                last: e.to_string(),
                            });
                        }
                        Failure::Fatal(e) => break e,
                    }
                }
            }
        };
        tracing::warn!(pipeline = self.index, messages = msgs.len(), error = %error,
            "postgres batch failed");
        self.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
        let shared = Shared(Arc::new(error));
        msgs.iter()
            .map(|_| Err(Error::store(shared.clone())))
            .collect()
    }
}

/// Turns a committed plan into each caller's result.
fn finish(msgs: Vec<NewMessage>, outcomes: Vec<Outcome>) -> Vec<Result<Appended>> {
    let mut results: Vec<Result<Appended>> = Vec::with_capacity(msgs.len());
    for (m, outcome) in msgs.into_iter().zip(outcomes) {
        let result = match outcome {
            Outcome::New(seq) => Ok(Appended {
                message: m.into_message(seq),
                duplicate: false,
            }),
            Outcome::Original(message) => Ok(Appended {
                message,
                duplicate: true,
            }),
            // `first` is an earlier `New` of this batch.
            Outcome::SameAs(first) => match results.get(first) {
                Some(Ok(a)) => Ok(Appended {
                    message: a.message.clone(),
                    duplicate: true,
                }),
                _ => Err(crate::error::corrupt(
                    "duplicate refers to a missing message",
                )),
            },
            Outcome::UnknownRoom => Err(Error::UnknownRoom(m.room)),
            Outcome::Refused(e) => Err(e),
        };
        results.push(result);
    }
    results
}
