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
//! pipeline keeps looking up for [`LOOKUP_BATCHES`] more batches, so a client repeating old
//! nonces costs at most one wasted copy per that many batches. The same path covers another
//! node committing one of the batch's nonces after the lookup (a race). Serialization
//! failures, deadlocks and a connection lost before `COMMIT` are retried too; nothing is
//! retried once `COMMIT` was sent, because its outcome is then unknown (a client retry with
//! its nonce is safe).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use chatcore::protocol::Message;
use chatcore::store::{Appended, NewMessage, Pending};
use chatcore::{BoxError, Error, Result};
use deadpool_postgres::{Object, Pool};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

use crate::changes;
use crate::codec::{self, Lexemes, message_columns};
use crate::error::{PostgresError, Shared};
use crate::indexer::Signals;

/// Locks the batch's rooms in a fixed order and reads their counters.
const LOCK_ROOMS: &str = "SELECT id, name, last_seq FROM rooms \
     WHERE name = ANY($1::bytea[]) AND deleted IS NULL ORDER BY name FOR UPDATE";

/// Stored originals of `(sender, nonce)` pairs.
const ORIGINALS: &str = concat!(
    "SELECT ",
    message_columns!(),
    ", r.name FROM UNNEST($1::bytea[], $2::bytea[]) AS k(sender, nonce) \
     JOIN messages m ON m.sender = k.sender AND m.nonce = k.nonce AND m.nonce IS NOT NULL \
     JOIN rooms r ON r.id = m.room_id"
);

/// Moves the room counters of a batch.
const BUMP: &str = "UPDATE rooms SET last_seq = b.last_seq \
     FROM UNNEST($1::bigint[], $2::bigint[]) AS b(id, last_seq) WHERE rooms.id = b.id";

/// Streams a batch's new messages in PostgreSQL's binary row format: the cheapest way in (no
/// SQL per row, no arrays to decode). Measured here, the server spent about 15% less CPU per
/// message than with `INSERT … SELECT * FROM UNNEST($1::bigint[], …)` from column arrays.
///
/// There is no `ON CONFLICT (sender, nonce) DO NOTHING` (COPY has none, and in the `INSERT`
/// form its speculative insertion doubled the cost of each row, 7 → 16 µs): a skipped row
/// would leave its seq unused, so a nonce conflict must roll the batch back anyway. The
/// unique index on `(nonce, sender)` rejects the batch instead, and it is planned again.
const COPY: &str = "COPY messages \
     (room_id, seq, id, sender, kind, body, body_exact, ts, nonce, reply_to, search, data, \
      target, moderation, mentions) \
     FROM STDIN (FORMAT binary)";

/// The column types of [`COPY`], in order.
const COPY_TYPES: [Type; 15] = [
    Type::INT8,
    Type::INT8,
    Type::BYTEA,
    Type::BYTEA,
    Type::TEXT,
    Type::TEXT,
    Type::BYTEA,
    Type::INT8,
    Type::BYTEA,
    Type::INT8,
    Type::TS_VECTOR,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
];

/// The unique index whose violation means "another writer stored this nonce first".
const NONCE_INDEX: &str = "messages_nonce_sender";

/// Attempts per batch before its appends fail. The first attempt of an optimistic batch may
/// fail on a stored nonce by design, hence one more than the 5 conflicts tolerated.
const MAX_ATTEMPTS: u32 = 6;

/// Batches after a nonce conflict that look their nonces up before copying (measured: the
/// lookup costs the server about 3 µs per message, 10% of an append, so it is skipped while
/// no stored nonce shows up). A conflict wastes one batch's copy, so a client that keeps
/// sending stored nonces costs at most one wasted copy per this many batches.
pub(crate) const LOOKUP_BATCHES: u32 = 16;

/// One queued append and where its result goes.
struct Job {
    msg: NewMessage,
    reply: oneshot::Sender<Result<Appended>>,
}

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

/// Counters of the append path since the store opened (for metrics and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteStats {
    /// Transactions committed by the writer pipelines.
    pub batches: u64,
    /// Appends answered from committed batches: new messages, duplicates and unknown rooms.
    pub appends: u64,
    /// Appends whose nonce had been used before (answered with the original).
    pub duplicates: u64,
    /// Attempts rolled back and planned again (nonce races, deadlocks, lost connections).
    pub retries: u64,
    /// Batches that failed, each failing all of its appends.
    pub failed_batches: u64,
    /// Committed batches that looked their nonces up before copying (the batch that hit a
    /// stored nonce and the batches after it; see the crate docs, "Nonces").
    pub lookups: u64,
}

/// The atomics behind [`WriteStats`]; relaxed, they are only read for reporting.
#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    appends: AtomicU64,
    duplicates: AtomicU64,
    retries: AtomicU64,
    failed_batches: AtomicU64,
    lookups: AtomicU64,
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

/// What planning decided for one message of a batch.
enum Outcome {
    /// Stored with this seq.
    New(u64),
    /// A nonce already stored before this batch: this is the original.
    Original(Message),
    /// A nonce used by the earlier message at this index of the same batch.
    SameAs(usize),
    /// The room does not exist.
    UnknownRoom,
    /// A change event its target's state refuses (see changes.rs); nothing stored.
    Refused(Error),
}

/// Why an attempt failed.
enum Failure {
    /// The unique index on `(nonce, sender)` rejected the copy: a nonce of the batch was
    /// stored before (or by another node meanwhile). Nothing was committed; planning again
    /// with the lookup finds the original. The connection is healthy.
    NonceTaken(BoxError),
    /// Nothing was committed; planning again may succeed.
    Retry(BoxError),
    /// Give up on this batch.
    Fatal(BoxError),
}

/// A driver error before `COMMIT`: retried when another transaction got in the way or the
/// connection broke (nothing was committed in either case).
fn classify(e: tokio_postgres::Error) -> Failure {
    let nonce_race = e.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::UNIQUE_VIOLATION && db.constraint() == Some(NONCE_INDEX)
    });
    let transient = e.is_closed()
        || e.code().is_some_and(|c| {
            *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        });
    if nonce_race {
        Failure::NonceTaken(e.into())
    } else if transient {
        Failure::Retry(e.into())
    } else {
        Failure::Fatal(e.into())
    }
}

/// A room locked for the batch.
struct Slot {
    id: i64,
    /// `last_seq` when locked.
    before: i64,
    /// The seq last handed out in this batch.
    last: i64,
}

/// One writer task.
struct Pipeline {
    pool: Pool,
    /// The pipeline's own connection, reused across batches; dropped after any failure so
    /// the next batch starts on a healthy one.
    client: Option<Object>,
    max_batch: usize,
    /// For logs.
    index: usize,
    /// Batches still to look their nonces up before copying; set to [`LOOKUP_BATCHES`] by a
    /// nonce conflict, 0 means optimistic.
    lookups_left: u32,
    stats: Arc<Counters>,
    /// Appends in flight and commits, for the search indexer.
    signals: Arc<Signals>,
}

impl Pipeline {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
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

    /// One try at committing `msgs`: the plan, once committed. `lookup`: find stored
    /// originals of the batch's nonces first (otherwise the unique index catches them).
    async fn attempt(
        &mut self,
        msgs: &[NewMessage],
        lookup: bool,
    ) -> Result<Vec<Outcome>, Failure> {
        let client = match self.client.take() {
            Some(client) => client,
            None => self
                .pool
                .get()
                .await
                .map_err(|e| Failure::Fatal(e.into()))?,
        };
        let client = self.client.insert(client);
        let tx = client.transaction().await.map_err(classify)?;

        // 1. Lock the rooms, in name order.
        let mut names: Vec<&[u8]> = msgs.iter().map(|m| m.room.as_bytes()).collect();
        names.sort_unstable();
        names.dedup();
        let lock = tx.prepare_cached(LOCK_ROOMS).await.map_err(classify)?;
        let locked = tx.query(&lock, &[&names]).await.map_err(classify)?;
        let mut rooms: HashMap<&[u8], Slot> = HashMap::with_capacity(locked.len());
        for row in &locked {
            let name: &[u8] = row.try_get(1).map_err(classify)?;
            let before: i64 = row.try_get(2).map_err(classify)?;
            let id = row.try_get(0).map_err(classify)?;
            rooms.insert(
                name,
                Slot {
                    id,
                    before,
                    last: before,
                },
            );
        }

        // 2. Originals of nonces stored before, after a conflict only.
        let originals = if lookup {
            originals(&tx, msgs).await?
        } else {
            HashMap::new()
        };

        // 3. Plan: seqs in queue order, duplicates, unknown rooms.
        let mut outcomes = Vec::with_capacity(msgs.len());
        let mut first_use: HashMap<(&str, &str), usize> = HashMap::new();
        let mut rows: Vec<(i64, i64, &NewMessage)> = Vec::with_capacity(msgs.len());
        for (i, m) in msgs.iter().enumerate() {
            if let Some(nonce) = m.nonce.as_deref() {
                let stored = originals
                    .get(m.sender.as_str())
                    .and_then(|by_nonce| by_nonce.get(nonce));
                if let Some(original) = stored {
                    outcomes.push(Outcome::Original(original.clone()));
                    continue;
                }
                if let Some(&first) = first_use.get(&(m.sender.as_str(), nonce)) {
                    outcomes.push(Outcome::SameAs(first));
                    continue;
                }
            }
            let Some(slot) = rooms.get_mut(m.room.as_bytes()) else {
                outcomes.push(Outcome::UnknownRoom);
                continue;
            };
            if let Err(refused) = changes::check(&tx, slot.id, m).await.map_err(classify)? {
                outcomes.push(Outcome::Refused(refused));
                continue;
            }
            slot.last += 1;
            if let Some(nonce) = m.nonce.as_deref() {
                first_use.insert((m.sender.as_str(), nonce), i);
            }
            rows.push((slot.id, slot.last, m));
            let seq = codec::unsigned(slot.last, "rooms.last_seq")
                .map_err(|e| Failure::Fatal(e.into()))?;
            outcomes.push(Outcome::New(seq));
        }

        // 4. Move the counters, stream the rows, commit.
        if !rows.is_empty() {
            let (bump_ids, bump_last): (Vec<i64>, Vec<i64>) = rooms
                .values()
                .filter(|s| s.last != s.before)
                .map(|s| (s.id, s.last))
                .unzip();
            let bump = tx.prepare_cached(BUMP).await.map_err(classify)?;
            tx.execute(&bump, &[&bump_ids, &bump_last])
                .await
                .map_err(classify)?;
            let copy = tx.prepare_cached(COPY).await.map_err(classify)?;
            let sink = tx.copy_in(&copy).await.map_err(classify)?;
            let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &COPY_TYPES));
            for &(room_id, seq, m) in &rows {
                let (body, body_exact) = codec::body(&m.text);
                let nonce = m.nonce.as_deref().map(str::as_bytes);
                let reply_to = m.reply_to.map(codec::signed);
                // Change events are never search hits: no words.
                let search = match m.kind.is_change() {
                    true => Lexemes(Vec::new()),
                    false => Lexemes(codec::index_words(&m.text)),
                };
                let data = codec::data_text(m.data.as_ref());
                let target = m.target.map(codec::signed);
                let moderation = codec::moderation_text(m.moderation.as_ref());
                let mentions = codec::mentions_text(&m.mentions);
                writer
                    .as_mut()
                    .write(&[
                        &room_id,
                        &seq,
                        &m.id.as_bytes(),
                        &m.sender.as_bytes(),
                        &m.kind.as_str(),
                        &body,
                        &body_exact,
                        &m.ts,
                        &nonce,
                        &reply_to,
                        &search,
                        &data,
                        &target,
                        &moderation,
                        &mentions,
                    ])
                    .await
                    .map_err(classify)?;
            }
            let stored = writer.as_mut().finish().await.map_err(classify)?;
            if usize::try_from(stored).ok() != Some(rows.len()) {
                return Err(Failure::Fatal(
                    format!("stored {stored} of {} messages", rows.len()).into(),
                ));
            }
            for &(room_id, seq, m) in rows.iter().filter(|(_, _, m)| m.kind.is_change()) {
                let seq =
                    codec::unsigned(seq, "messages.seq").map_err(|e| Failure::Fatal(e.into()))?;
                let event = m.clone().into_message(seq);
                changes::apply(&tx, room_id, &event)
                    .await
                    .map_err(classify)?;
            }
        }
        tx.commit().await.map_err(|e| Failure::Fatal(e.into()))?;
        Ok(outcomes)
    }
}

/// Stored messages for the batch's `(sender, nonce)` pairs: sender → nonce → original.
async fn originals(
    tx: &deadpool_postgres::Transaction<'_>,
    msgs: &[NewMessage],
) -> Result<HashMap<String, HashMap<String, Message>>, Failure> {
    let mut seen = HashSet::new();
    let (senders, nonces): (Vec<&[u8]>, Vec<&[u8]>) = msgs
        .iter()
        .filter_map(|m| Some((m.sender.as_str(), m.nonce.as_deref()?)))
        .filter(|key| seen.insert(*key))
        .map(|(s, n)| (s.as_bytes(), n.as_bytes()))
        .unzip();
    let mut found: HashMap<String, HashMap<String, Message>> = HashMap::new();
    if senders.is_empty() {
        return Ok(found);
    }
    let stmt = tx.prepare_cached(ORIGINALS).await.map_err(classify)?;
    for row in tx
        .query(&stmt, &[&senders, &nonces])
        .await
        .map_err(classify)?
    {
        let decode = || -> Result<Message> {
            let room = codec::string(&row, codec::MESSAGE_COLUMNS, "rooms.name")?;
            codec::message(&row, room)
        };
        let original = decode().map_err(|e| Failure::Fatal(e.into()))?;
        let Some(nonce) = original.nonce.clone() else {
            continue;
        };
        found
            .entry(original.sender.clone())
            .or_default()
            .insert(nonce, original);
    }
    Ok(found)
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

#[cfg(test)]
mod tests {
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
