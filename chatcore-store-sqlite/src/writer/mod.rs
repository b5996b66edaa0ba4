//! The writer thread: owns the only write connection and commits queued commands in batches.
//!
//! Every change goes through one FIFO channel. The thread blocks for the first command, then
//! takes whatever else is already queued (up to `max_batch`) and runs it all in one
//! transaction: everything that arrived while the previous commit ran goes into the next one
//! (group commit). Replies go out only after the commit, so an acknowledged message is
//! durable.
//!
//! Every new message gets the next `pos` (its place in commit order across rooms, the
//! table's primary key). The writer does not touch the full-text index: after each commit it
//! tells the indexer thread the newest `pos` (see `indexer/`).
//!
//! A command that fails for a reason of its own (unknown room) writes nothing and does not
//! disturb its batch. A database error aborts the whole transaction; the batch is then run
//! again one command per transaction, so only the command that really fails reports the error.
//!
//! With the message log on (the default), new messages skip their own transaction: they
//! are acknowledged from the log (`log.rs`, `logged.rs`), often on their caller's thread
//! (`thread.rs`), and go into SQLite in large batches.
//!
//! Here: the writer's state and counters. The commands are in `commands.rs`, the thread's
//! loop in `thread.rs`, a batch's transaction in `batch.rs`, the multi-row inserts of new messages in
//! `insert.rs` (their SQL in `insert_statements.rs`), and what each command does inside the
//! transaction in `apply.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;

use crate::checkpoint::Checkpoints;
use crate::indexer::Progress;

mod apply;
mod batch;
mod commands;
mod insert;
mod insert_statements;
mod log;
mod logged;
mod nonces;
pub(crate) mod thread;

pub(crate) use commands::{Command, Commands, Outcome, Write};
use insert_statements::{ROWS, insert_sql};
pub(crate) use log::{MessageLog, replay};
pub(crate) use nonces::Nonces;

/// Counters the writer keeps, read by [`SqliteStore::stats`](crate::SqliteStore::stats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    commits: AtomicU64,
    writes: AtomicU64,
    failed_commits: AtomicU64,
    largest_batch: AtomicU64,
    messages: AtomicU64,
    logged: AtomicU64,
    /// Reads of the database for a nonce, before logging a message.
    nonce_lookups: AtomicU64,
    /// Messages in the message log that SQLite does not have yet: a read waits for them.
    unapplied: AtomicU64,
    /// Commands sent to the writer thread and not yet run (see `thread.rs`): while there
    /// are any, an append queues behind them instead of logging on its caller's thread.
    pub(crate) queued: AtomicU64,
}

/// A snapshot of the writer thread's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterStats {
    /// Transactions committed. `writes / commits` is the average batch size.
    pub commits: u64,
    /// Write commands (appends, room and membership changes) that reached the writer.
    pub writes: u64,
    /// Transactions that failed and were rolled back. A retried nonce fails the fast
    /// attempt and the batch is run again inserting one message per statement; any other
    /// failure retries the batch's commands one transaction each.
    pub failed_commits: u64,
    /// Most commands committed in one transaction so far.
    pub largest_batch: u64,
    /// New messages made durable, in SQLite or in the message log (duplicates and failed
    /// appends not counted).
    pub messages: u64,
    /// Of those, the messages acknowledged from the message log (see
    /// [`SqliteConfig::message_log`](crate::SqliteConfig::message_log)) rather than from
    /// their own transaction.
    pub logged: u64,
    /// Acknowledged messages in the message log that SQLite does not have yet (a gauge: a
    /// read waits for them to be applied first).
    pub unapplied: u64,
    /// Times a message's nonce was looked up in the database before it was logged: a
    /// retried nonce, a false positive of the nonce filter (about 1 in 100), or any nonce
    /// while the filter is still being loaded after the store opened.
    pub nonce_lookups: u64,
    /// Messages the search indexer has taken into the full-text index. It trails
    /// `messages` by tens of milliseconds; `messages - indexed` is the index's lag (after a
    /// restart the indexer may also index messages committed before the store opened).
    pub indexed: u64,
    /// WAL checkpoints run (copies of the log into the database file, each ending in an
    /// `fsync`): about two per [`SqliteConfig::checkpoint_pages`](crate::SqliteConfig)
    /// pages of log written.
    pub checkpoints: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self, progress: &Progress, checkpoints: &Checkpoints) -> WriterStats {
        WriterStats {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            failed_commits: self.failed_commits.load(Ordering::Relaxed),
            largest_batch: self.largest_batch.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
            logged: self.logged.load(Ordering::Relaxed),
            unapplied: self.unapplied(),
            nonce_lookups: self.nonce_lookups.load(Ordering::Relaxed),
            indexed: progress.messages_indexed(),
            checkpoints: checkpoints.count(),
        }
    }

    /// Messages logged and not yet in SQLite.
    pub(crate) fn unapplied(&self) -> u64 {
        self.unapplied.load(Ordering::Acquire)
    }
}

/// A failure that aborts the transaction (as opposed to a per-command `chatcore::Error`).
type Fatal = rusqlite::Error;

/// State owned by the writer thread.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    max_batch: usize,
    counters: Arc<Counters>,
    /// Room name → id. Rooms are never deleted, so an entry stays valid; cleared with the
    /// other caches when a transaction fails (it may hold a room that was rolled back).
    room_ids: HashMap<String, i64>,
    /// Room id → newest seq, including writes of the open transaction. Loaded from the
    /// database on first use; cleared when a transaction fails, so a failed write never
    /// burns a number.
    last_seq: HashMap<i64, u64>,
    /// The newest `pos` of the open transaction (SQLite assigns it: one more than the
    /// largest, so commit order), for the indexer.
    last_pos: Option<i64>,
    /// Messages stored in the open transaction.
    stored: u64,
    /// Where the newest committed `pos` is reported to the search indexer.
    progress: Arc<Progress>,
    /// [`insert_sql`] for 1, 2, 4 … [`ROWS`] messages.
    inserts: Vec<String>,
    /// Where the checkpoint thread asks the writer to finish its checkpoint.
    checkpoints: Arc<Checkpoints>,
    /// Where new messages are acknowledged from, when the store keeps a message log.
    log: Option<MessageLog>,
    /// Which nonces may be stored, so that logging a fresh one reads nothing (with the log).
    nonces: Option<Nonces>,
    /// Whether the open transaction took the log's pending messages.
    applying: bool,
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        max_batch: usize,
        counters: Arc<Counters>,
        progress: Arc<Progress>,
        checkpoints: Arc<Checkpoints>,
        log: Option<MessageLog>,
        nonces: Option<Nonces>,
    ) -> Self {
        Self {
            conn,
            max_batch,
            counters,
            room_ids: HashMap::new(),
            last_seq: HashMap::new(),
            last_pos: None,
            stored: 0,
            progress,
            inserts: (0..=ROWS.ilog2()).map(|k| insert_sql(1 << k)).collect(),
            checkpoints,
            log,
            nonces,
            applying: false,
        }
    }
}

/// Whether `e` is a UNIQUE constraint failure (the statement was undone, the transaction
/// stands).
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}
