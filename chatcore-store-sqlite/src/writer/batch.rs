//! The writer thread's loop: takes a batch of queued commands, runs it in one transaction,
//! replies after the commit; a failed batch is rolled back and retried.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};

use chatcore::{Error, Result};

use super::insert::{Inserts, Row};
use super::insert_statements::ROWS;
use super::logged::APPLY_IDLE;
use super::{Command, Commands, Fatal, Outcome, Write, Writer, is_unique_violation};

impl Writer {
    /// The thread's body: runs until [`Command::Close`] or until every sender is gone,
    /// committing everything received before either.
    pub(crate) fn run(mut self, commands: impl Commands) {
        let mut batch: Vec<Write> = Vec::with_capacity(self.max_batch);
        let mut close_reply = None;
        loop {
            let first = match commands.try_recv() {
                Ok(command) => command,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => match self.wait(&commands) {
                    Some(command) => command,
                    None => break,
                },
            };
            let mut flush_reply = None;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Write(w) => batch.push(w),
                    Command::Flush(reply) => {
                        flush_reply = Some(reply);
                        break;
                    }
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
            match self.log.is_some() {
                true => self.process_logged(&mut batch),
                false => self.process(&mut batch),
            }
            if let Some(reply) = flush_reply {
                let _ = reply.send(self.apply_log().map_err(Error::store));
            }
            // After the replies: no ack waits for it.
            self.checkpoints.finish(&self.conn);
            if close_reply.is_some() {
                break;
            }
        }
        // Whatever a failed apply left in the log is replayed at the next open.
        self.apply_log_or_warn();
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

    /// Waits for the next command; `None` once every sender is gone. While messages wait
    /// in the log, a pause of [`APPLY_IDLE`] applies them.
    fn wait(&mut self, commands: &impl Commands) -> Option<Command> {
        // The search indexer works while the writer waits.
        self.progress.writer_idle(true);
        let command = loop {
            if self.log.as_ref().is_none_or(|log| log.pending.is_empty()) {
                break commands.recv().ok();
            }
            match commands.recv_timeout(APPLY_IDLE) {
                Ok(command) => break Some(command),
                Err(RecvTimeoutError::Timeout) => self.apply_log_or_warn(),
                Err(RecvTimeoutError::Disconnected) => break None,
            }
        };
        self.progress.writer_idle(false);
        command
    }

    /// Commits `batch` (leaving it empty) and sends every reply.
    pub(super) fn process(&mut self, batch: &mut Vec<Write>) {
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
    pub(super) fn attempt(
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
                let applied = self.log_applied();
                if self.stored > 0 || applied {
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
                // The log's messages stay pending for the next transaction.
                self.applying = false;
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
        // What the message log acknowledged comes before anything queued after it.
        self.insert_logged()?;
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
}
