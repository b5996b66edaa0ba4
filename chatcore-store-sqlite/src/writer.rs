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
//! tells the indexer thread the newest `pos` (see `indexer.rs`).
//!
//! A command that fails for a reason of its own (unknown room) writes nothing and does not
//! disturb its batch. A database error aborts the whole transaction; the batch is then run
//! again one command per transaction, so only the command that really fails reports the error.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvError, TryRecvError};

use chatcore::protocol::Message;
use chatcore::store::{Appended, AuditEntry, NewMessage, NewRoom, Role, RoomRecord};
use chatcore::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::indexer::Progress;
use crate::rows::{self, MESSAGE_COLUMNS, ROOM_COLUMNS, from_sql_u64, to_sql_u64};

/// What the store sends the writer thread.
pub(crate) enum Command {
    /// A change, committed with the next batch.
    Write(Write),
    /// Commit everything queued before this, close the connection, reply, stop.
    Close(oneshot::Sender<()>),
}

/// Where the writer thread takes its commands from: the store's channel. A seam so tests
/// can wrap the channel (to hold the writer while they queue a known batch) without a
/// test-only command in [`Command`].
pub(crate) trait Commands {
    /// A command already queued, without waiting.
    fn try_recv(&self) -> Result<Command, TryRecvError>;
    /// The next command, waiting for it; `Err` once every sender is gone.
    fn recv(&self) -> Result<Command, RecvError>;
}

impl Commands for Receiver<Command> {
    fn try_recv(&self) -> Result<Command, TryRecvError> {
        Receiver::try_recv(self)
    }

    fn recv(&self) -> Result<Command, RecvError> {
        Receiver::recv(self)
    }
}

/// One change and where its result goes.
pub(crate) enum Write {
    /// Store a message (seq assigned at commit).
    Append {
        /// The message.
        msg: NewMessage,
        /// The result.
        reply: oneshot::Sender<Result<Appended>>,
    },
    /// Create a room unless it exists.
    CreateRoom {
        room: NewRoom,
        reply: oneshot::Sender<Result<RoomRecord>>,
    },
    /// Add a durable member (keeps an existing member's role).
    AddMember {
        room: String,
        user: String,
        role: Role,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Remove a durable member.
    RemoveMember {
        room: String,
        user: String,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Move a read position forwards.
    SetRead {
        room: String,
        user: String,
        seq: u64,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Move several read positions forwards (marks of unknown rooms are skipped).
    SetReads {
        marks: Vec<chatcore::store::ReadMark>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Take or renew an event-stream consumer group's lease.
    Lease {
        group: String,
        holder: String,
        ttl: std::time::Duration,
        reply: oneshot::Sender<Result<Option<u64>>>,
    },
    /// Move a consumer group's cursor forwards, fenced by its lease token.
    CommitCursor {
        group: String,
        token: u64,
        room: String,
        seq: u64,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Apply, audit and store a moderation event (see `authority.rs`).
    Moderate {
        /// The event.
        msg: NewMessage,
        /// The stored event.
        reply: oneshot::Sender<Result<Appended>>,
    },
    /// Set or clear a room's description.
    Describe {
        room: String,
        description: Option<String>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Delete a room (see `authority.rs`).
    DeleteRoom {
        room: String,
        actor: String,
        ts: i64,
        reply: oneshot::Sender<Result<AuditEntry>>,
    },
    /// Make a user block (or stop blocking) another's direct messages.
    Block {
        user: String,
        other: String,
        on: bool,
        reply: oneshot::Sender<Result<()>>,
    },
}

/// What a write produced inside the transaction; turned into the reply after the commit.
pub(crate) enum Outcome {
    /// A new message got this seq.
    Stored(u64),
    /// The nonce was used before; this is the original.
    Duplicate(Message),
    /// A room record.
    Room(RoomRecord),
    /// The lease's token when granted.
    Lease(Option<u64>),
    /// A deleted room's last audit row.
    Deleted(AuditEntry),
    /// Nothing to report.
    Done,
}

impl Write {
    fn reply(self, outcome: Result<Outcome>) {
        fn mismatch<T>() -> Result<T> {
            Err(Error::store(
                "sqlite writer produced the wrong kind of result",
            ))
        }
        // A send fails only when the caller stopped waiting; the write stands either way.
        match self {
            Write::Append { msg, reply, .. } | Write::Moderate { msg, reply } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Stored(seq) => Ok(Appended {
                        message: msg.into_message(seq),
                        duplicate: false,
                    }),
                    Outcome::Duplicate(message) => Ok(Appended {
                        message,
                        duplicate: true,
                    }),
                    _ => mismatch(),
                }));
            }
            Write::CreateRoom { reply, .. } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Room(r) => Ok(r),
                    _ => mismatch(),
                }));
            }
            Write::DeleteRoom { reply, .. } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Deleted(entry) => Ok(entry),
                    _ => mismatch(),
                }));
            }
            Write::Lease { reply, .. } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Lease(token) => Ok(token),
                    _ => mismatch(),
                }));
            }
            Write::AddMember { reply, .. }
            | Write::RemoveMember { reply, .. }
            | Write::SetRead { reply, .. }
            | Write::SetReads { reply, .. }
            | Write::CommitCursor { reply, .. }
            | Write::Describe { reply, .. }
            | Write::Block { reply, .. } => {
                let _ = reply.send(outcome.map(|_| ()));
            }
        }
    }
}

/// Counters the writer keeps, read by [`SqliteStore::stats`](crate::SqliteStore::stats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    commits: AtomicU64,
    writes: AtomicU64,
    failed_commits: AtomicU64,
    largest_batch: AtomicU64,
    messages: AtomicU64,
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
    /// New messages committed (duplicates and failed appends not counted).
    pub messages: u64,
    /// Messages the search indexer has taken into the full-text index. It trails
    /// `messages` by tens of milliseconds; `messages - indexed` is the index's lag (after a
    /// restart the indexer may also index messages committed before the store opened).
    pub indexed: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self, progress: &Progress) -> WriterStats {
        WriterStats {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            failed_commits: self.failed_commits.load(Ordering::Relaxed),
            largest_batch: self.largest_batch.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
            indexed: progress.messages_indexed(),
        }
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
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        max_batch: usize,
        counters: Arc<Counters>,
        progress: Arc<Progress>,
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
        }
    }

    /// The thread's body: runs until [`Command::Close`] or until every sender is gone,
    /// committing everything received before either.
    pub(crate) fn run(mut self, commands: impl Commands) {
        let mut batch: Vec<Write> = Vec::with_capacity(self.max_batch);
        let mut close_reply = None;
        loop {
            let first = match commands.try_recv() {
                Ok(command) => command,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    // The search indexer works while the writer waits.
                    self.progress.writer_idle(true);
                    let command = commands.recv();
                    self.progress.writer_idle(false);
                    match command {
                        Ok(command) => command,
                        Err(_) => break,
                    }
                }
            };
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Write(w) => batch.push(w),
                    Command::Close(reply) => {
                        close_reply = Some(reply);
                        break;
                    }
                }
                if batch.len() >= self.max_batch {
                    break;
                }
                // Empty or disconnected: commit what we have.
                next = commands.try_recv().ok();
            }
            self.process(&mut batch);
            if close_reply.is_some() {
                break;
            }
        }
        // Nothing more will be committed: the indexer stops (it catches up at the next open).
        self.progress.close();
        // Dropping the WAL hook drops its sender: the checkpoint thread stops.
        let no_hook: Option<fn(&mut rusqlite::hooks::Wal, i32) -> rusqlite::Result<()>> = None;
        if let Err(e) = self.conn.wal_hook(no_hook) {
            tracing::warn!(error = %e, "sqlite store: removing the WAL hook failed");
        }
        if let Err((_, e)) = self.conn.close() {
            tracing::warn!(error = %e, "sqlite store: closing the write connection failed");
        }
        if let Some(reply) = close_reply {
            let _ = reply.send(());
        }
        // Dropping `commands` now fails every command queued after the close: its caller
        // sees `Error::Closed`.
    }

    /// Commits `batch` (leaving it empty) and sends every reply.
    fn process(&mut self, batch: &mut Vec<Write>) {
        if batch.is_empty() {
            return;
        }
        self.counters
            .writes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        match self.commit(batch) {
            Ok(outcomes) => {
                self.counters
                    .largest_batch
                    .fetch_max(batch.len() as u64, Ordering::Relaxed);
                for (write, outcome) in batch.drain(..).zip(outcomes) {
                    write.reply(outcome);
                }
            }
            Err(e) if batch.len() == 1 => {
                tracing::warn!(error = %e, "sqlite store: write failed");
                if let Some(write) = batch.pop() {
                    write.reply(Err(Error::store(e)));
                }
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    commands = batch.len(),
                    "sqlite store: batch failed; retrying its commands one by one"
                );
                for write in batch.drain(..) {
                    let outcome = match self.commit(std::slice::from_ref(&write)) {
                        Ok(mut o) => o
                            .pop()
                            .unwrap_or_else(|| Err(Error::store("sqlite writer lost a result"))),
                        Err(e) => Err(Error::store(e)),
                    };
                    write.reply(outcome);
                }
            }
        }
    }

    /// Runs `batch` in one transaction. `Err` means nothing was written and the caches were
    /// reset to what the database holds.
    fn commit(&mut self, batch: &[Write]) -> Result<Vec<Result<Outcome>>, Fatal> {
        let result = self.attempt(batch, Inserts::Many);
        match result {
            // A retried nonce made a multi-row insert roll the transaction back: run the
            // batch again inserting one message per statement, which finds the original.
            Err(e) if is_unique_violation(&e) => self.attempt(batch, Inserts::One),
            result => result,
        }
    }

    /// One try at committing `batch`; on failure rolls back and resets the caches.
    fn attempt(
        &mut self,
        batch: &[Write],
        inserts: Inserts,
    ) -> Result<Vec<Result<Outcome>>, Fatal> {
        let result = self.try_commit(batch, inserts);
        match &result {
            Ok(_) => {
                self.counters.commits.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .messages
                    .fetch_add(self.stored, Ordering::Relaxed);
                if self.stored > 0 {
                    if let Some(pos) = self.last_pos {
                        self.progress.committed(pos);
                    }
                }
            }
            Err(_) => {
                self.counters.failed_commits.fetch_add(1, Ordering::Relaxed);
                if !self.conn.is_autocommit() {
                    if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                        tracing::warn!(error = %e, "sqlite store: rollback failed");
                    }
                }
                self.room_ids.clear();
                self.last_seq.clear();
                self.last_pos = None;
            }
        }
        result
    }

    fn try_commit(
        &mut self,
        batch: &[Write],
        inserts: Inserts,
    ) -> Result<Vec<Result<Outcome>>, Fatal> {
        self.stored = 0;
        self.last_pos = None;
        self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let mut outcomes = Vec::with_capacity(batch.len());
        // New messages wait here to be inserted [`ROWS`] at a time.
        let mut rows: Vec<Row<'_>> = Vec::with_capacity(ROWS);
        for write in batch {
            if let (Write::Append { msg, .. }, Inserts::Many) = (write, inserts) {
                // A change event reads and updates its target: it goes the careful way.
                let planned = match msg.kind.is_change() {
                    true => None,
                    false => self.plan(msg)?,
                };
                if let Some(row) = planned {
                    outcomes.push(Ok(Outcome::Stored(row.seq)));
                    rows.push(row);
                    if rows.len() == ROWS {
                        self.insert(&mut rows)?;
                    }
                    continue;
                }
            }
            // Anything else may read what the queued rows would write: insert them first.
            self.insert(&mut rows)?;
            outcomes.push(self.apply(write)?);
        }
        self.insert(&mut rows)?;
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(outcomes)
    }

    /// Gives a message for a known room its seq, counting on its insert to succeed
    /// (see [`Writer::insert`]); `None` for an unknown room.
    fn plan<'m>(&mut self, msg: &'m NewMessage) -> Result<Option<Row<'m>>, Fatal> {
        let Some(room_id) = self.room_id(&msg.room)? else {
            return Ok(None);
        };
        let seq = self.last_seq(room_id)? + 1;
        self.last_seq.insert(room_id, seq);
        self.stored += 1;
        Ok(Some(Row { msg, room_id, seq }))
    }

    /// Inserts the planned `rows` (leaving the vector empty) with multi-row statements of
    /// [`ROWS`], 16, 8, 4, 2 or 1 messages: one statement per many messages instead of one
    /// each saves most of SQLite's per-statement work, and the few sizes keep the statement
    /// cache small. The statements are `INSERT OR ROLLBACK`: a retried nonce rolls the whole
    /// transaction back (and [`Writer::commit`] runs the batch again the careful way)
    /// instead of SQLite keeping a statement journal, on every insert, to undo one
    /// statement.
    fn insert(&mut self, rows: &mut Vec<Row<'_>>) -> Result<(), Fatal> {
        let mut done = 0;
        while done < rows.len() {
            let left = rows.len() - done;
            let n = if left >= ROWS {
                ROWS
            } else {
                1 << left.ilog2()
            };
            self.insert_rows(rows.get(done..done + n).unwrap_or_default())?;
            self.last_pos = Some(self.conn.last_insert_rowid());
            done += n;
        }
        rows.clear();
        Ok(())
    }

    /// One multi-row `INSERT` of `rows` (a power of two, at most [`ROWS`]).
    fn insert_rows(&self, rows: &[Row<'_>]) -> Result<(), Fatal> {
        let sql = self
            .inserts
            .get(rows.len().trailing_zeros() as usize)
            .ok_or(rusqlite::Error::InvalidQuery)?;
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut at = 1;
        for row in rows {
            let m = row.msg;
            stmt.raw_bind_parameter(at, row.room_id)?;
            stmt.raw_bind_parameter(at + 1, to_sql_u64(row.seq))?;
            stmt.raw_bind_parameter(at + 2, &m.id)?;
            stmt.raw_bind_parameter(at + 3, &m.sender)?;
            stmt.raw_bind_parameter(at + 4, m.kind.as_str())?;
            stmt.raw_bind_parameter(at + 5, m.ts)?;
            stmt.raw_bind_parameter(at + 6, &m.nonce)?;
            stmt.raw_bind_parameter(at + 7, m.reply_to.map(to_sql_u64))?;
            stmt.raw_bind_parameter(at + 8, &m.text)?;
            stmt.raw_bind_parameter(at + 9, rows::data_to_sql(m.data.as_ref()))?;
            stmt.raw_bind_parameter(at + 10, m.target.map(to_sql_u64))?;
            stmt.raw_bind_parameter(at + 11, rows::moderation_to_sql(m.moderation.as_ref()))?;
            stmt.raw_bind_parameter(at + 12, rows::mentions_to_sql(&m.mentions))?;
            at += COLUMNS;
        }
        stmt.raw_execute().map(drop)
    }

    /// One command inside the open transaction. A per-command error (`Ok(Err(_))`) must be
    /// detected before the command writes anything.
    fn apply(&mut self, write: &Write) -> Result<Result<Outcome>, Fatal> {
        match write {
            Write::Append { msg, .. } => self.append(msg),
            Write::CreateRoom { room, .. } => self.create_room(room),
            Write::AddMember {
                room, user, role, ..
            } => {
                let Some(room_id) = self.room_id(room)? else {
                    return Ok(Err(Error::UnknownRoom(room.clone())));
                };
                self.conn
                    .prepare_cached(
                        "INSERT INTO memberships (room_id, user, role, joined) \
                         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![
                        room_id,
                        user,
                        role.as_str(),
                        chatcore::now_millis()
                    ])?;
                Ok(Ok(Outcome::Done))
            }
            Write::RemoveMember { room, user, .. } => {
                if let Some(room_id) = self.room_id(room)? {
                    self.conn
                        .prepare_cached("DELETE FROM memberships WHERE room_id = ?1 AND user = ?2")?
                        .execute(params![room_id, user])?;
                }
                Ok(Ok(Outcome::Done))
            }
            Write::SetRead {
                room, user, seq, ..
            } => {
                if !self.raise_read(room, user, *seq)? {
                    return Ok(Err(Error::UnknownRoom(room.clone())));
                }
                Ok(Ok(Outcome::Done))
            }
            Write::SetReads { marks, .. } => {
                for m in marks {
                    self.raise_read(&m.room, &m.user, m.seq)?;
                }
                Ok(Ok(Outcome::Done))
            }
            Write::Lease {
                group, holder, ttl, ..
            } => crate::stream::acquire_lease(&self.conn, group, holder, *ttl)
                .map(|t| Ok(Outcome::Lease(t))),
            Write::CommitCursor {
                group,
                token,
                room,
                seq,
                ..
            } => {
                let room_id = self.room_id(room)?;
                Ok(
                    crate::stream::commit_cursor(&self.conn, group, *token, (room, room_id), *seq)?
                        .map(|()| Outcome::Done),
                )
            }
            Write::Moderate { msg, .. } => self.moderate(msg),
            Write::Describe {
                room, description, ..
            } => self.describe(room, description.as_deref()),
            Write::DeleteRoom {
                room, actor, ts, ..
            } => self.delete_room(room, actor, *ts),
            Write::Block {
                user, other, on, ..
            } => crate::authority::block(&self.conn, user, other, *on).map(Ok),
        }
    }

    /// Stores one message on its own (see [`Writer::insert`] for the usual way).
    ///
    /// Nonces are checked optimistically: the row is inserted, and only when the unique
    /// `(nonce, sender)` index refuses it is the original looked up (a failed statement
    /// leaves the rest of the transaction intact). Retries are rare, so fresh messages skip
    /// the lookup.
    pub(crate) fn append(&mut self, msg: &NewMessage) -> Result<Result<Outcome>, Fatal> {
        let Some(room_id) = self.room_id(&msg.room)? else {
            // Same order as MemoryStore: a known (sender, nonce) answers with the original
            // even if the room is wrong.
            return Ok(match self.original(msg)? {
                Some(original) => Ok(Outcome::Duplicate(original)),
                None => Err(Error::UnknownRoom(msg.room.clone())),
            });
        };
        if let Err(refused) = crate::changes::check(&self.conn, room_id, msg)? {
            return Ok(Err(refused));
        }
        let seq = self.last_seq(room_id)? + 1;
        let inserted = self.conn.prepare_cached(INSERT_ONE)?.execute(params![
            room_id,
            to_sql_u64(seq),
            msg.id,
            msg.sender,
            msg.kind.as_str(),
            msg.ts,
            msg.nonce,
            msg.reply_to.map(to_sql_u64),
            msg.text,
            rows::data_to_sql(msg.data.as_ref()),
            msg.target.map(to_sql_u64),
            rows::moderation_to_sql(msg.moderation.as_ref()),
            rows::mentions_to_sql(&msg.mentions),
        ]);
        match inserted {
            Ok(_) => {}
            Err(e) if msg.nonce.is_some() && is_unique_violation(&e) => {
                return match self.original(msg)? {
                    Some(original) => Ok(Ok(Outcome::Duplicate(original))),
                    // Not the nonce index after all: a real failure.
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        }
        crate::changes::apply(&self.conn, room_id, &msg.clone().into_message(seq))?;
        // Only now, with the row written: a failure above leaves the cache untouched (and a
        // failed commit clears it).
        self.last_seq.insert(room_id, seq);
        self.last_pos = Some(self.conn.last_insert_rowid());
        self.stored += 1;
        Ok(Ok(Outcome::Stored(seq)))
    }

    /// The stored message with `msg`'s (sender, nonce), if it has a nonce and one is stored.
    fn original(&mut self, msg: &NewMessage) -> Result<Option<Message>, Fatal> {
        let Some(nonce) = &msg.nonce else {
            return Ok(None);
        };
        self.conn
            .prepare_cached(&format!(
                "SELECT r.name, {MESSAGE_COLUMNS} FROM messages m \
                 JOIN rooms r ON r.id = m.room_id \
                 WHERE m.sender = ?1 AND m.nonce = ?2"
            ))?
            .query_row(params![msg.sender, nonce], |row| {
                rows::message(row, 1, row.get(0)?)
            })
            .optional()
    }

    fn create_room(&mut self, room: &NewRoom) -> Result<Result<Outcome>, Fatal> {
        self.conn
            .prepare_cached(
                "INSERT INTO rooms (name, kind, topic, creator, created) \
                 VALUES (?1, ?2, NULL, ?3, ?4) ON CONFLICT (name) DO NOTHING",
            )?
            .execute(params![
                room.name,
                room.kind.as_str(),
                room.creator,
                room.created
            ])?;
        let record = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.name = ?1 AND r.deleted IS NULL"
            ))?
            .query_row([&room.name], rows::room)
            .optional()?;
        // No row: the name belongs to a deleted room, never created again.
        Ok(record
            .map(Outcome::Room)
            .ok_or_else(|| Error::UnknownRoom(room.name.clone())))
    }

    /// The room's id: from the cache, else from the database (an uncommitted room of this
    /// batch included).
    pub(crate) fn room_id(&mut self, name: &str) -> Result<Option<i64>, Fatal> {
        if let Some(id) = self.room_ids.get(name) {
            return Ok(Some(*id));
        }
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM rooms WHERE name = ?1 AND deleted IS NULL")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        if let Some(id) = id {
            self.room_ids.insert(name.to_owned(), id);
        }
        Ok(id)
    }

    /// Raises `user`'s read position in `room` to `seq` (never lowers it); `false` when the
    /// room does not exist.
    fn raise_read(&mut self, room: &str, user: &str, seq: u64) -> Result<bool, Fatal> {
        let Some(room_id) = self.room_id(room)? else {
            return Ok(false);
        };
        // One statement: the update happens only when the new seq is higher as a u64 (seqs
        // are stored bit for bit, so those past i64::MAX are negative in SQL: same signs
        // compare as they are, and a negative one is the higher).
        self.conn
            .prepare_cached(
                "INSERT INTO read_positions (room_id, user, seq) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (room_id, user) DO UPDATE SET seq = excluded.seq \
                 WHERE ((excluded.seq >= 0) = (read_positions.seq >= 0) \
                        AND excluded.seq > read_positions.seq) \
                    OR (read_positions.seq >= 0 AND excluded.seq < 0)",
            )?
            .execute(params![room_id, user, to_sql_u64(seq)])?;
        Ok(true)
    }

    /// Forgets a deleted room's cached id and newest seq.
    pub(crate) fn forget_room(&mut self, name: &str, room_id: i64) {
        self.room_ids.remove(name);
        self.last_seq.remove(&room_id);
    }

    pub(crate) fn last_seq(&mut self, room_id: i64) -> Result<u64, Fatal> {
        if let Some(seq) = self.last_seq.get(&room_id) {
            return Ok(*seq);
        }
        let seq: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM messages WHERE room_id = ?1")?
            .query_row([room_id], |r| r.get(0))?;
        let seq = from_sql_u64(seq);
        self.last_seq.insert(room_id, seq);
        Ok(seq)
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

/// Messages per multi-row `INSERT` at most (see [`Writer::insert`]); a power of two.
const ROWS: usize = 32;

/// Parameters per message in [`insert_sql`]. `pos` is not one: SQLite gives a new row one
/// more than the largest, and a value of ours would make every multi-row insert keep a
/// statement journal (an explicit key may fail to be an integer mid-statement).
const COLUMNS: usize = 13;

/// A new message planned for the open transaction.
struct Row<'m> {
    msg: &'m NewMessage,
    room_id: i64,
    seq: u64,
}

/// The insert of [`Writer::append`]: a failure undoes only this statement.
const INSERT_ONE: &str = "INSERT INTO messages \
     (room_id, seq, id, sender, kind, ts, nonce, reply_to, body, data, target, moderation, \
      mentions) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// How a transaction inserts new messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inserts {
    /// Many per statement ([`Writer::insert`]); a nonce conflict fails the transaction.
    Many,
    /// One per statement ([`Writer::append`]); a nonce conflict answers with the original.
    One,
}

/// `INSERT OR ROLLBACK INTO messages … VALUES (…), (…)` for `rows` messages, [`COLUMNS`]
/// parameters each.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT OR ROLLBACK INTO messages \
         (room_id, seq, id, sender, kind, ts, nonce, reply_to, body, data, target, moderation, \
          mentions) VALUES ",
    );
    let row = format!("({})", ["?"; COLUMNS].join(","));
    sql.push_str(&vec![row; rows].join(","));
    sql
}
