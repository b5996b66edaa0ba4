//! A batch of commands in one transaction, replies after the commit; a failed batch is
//! rolled back and retried.

use std::sync::atomic::Ordering;

use chatcore::{Error, Result};

use super::insert::{Inserts, Row};
use super::insert_statements::ROWS;
use super::{Fatal, Outcome, Write, Writer, is_unique_violation};

impl Writer {
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
