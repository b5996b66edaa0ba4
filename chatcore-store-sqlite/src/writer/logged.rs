//! The writer with a [`MessageLog`]: a batch's new messages are acknowledged from the log,
//! and the log is applied to SQLite in large transactions.
//!
//! A batch is split at its first write that is not a plain new message for a known room
//! with an unused nonce (a change event, a room or membership change, a retried nonce, an
//! unknown room): the appends before it are logged; the writes from there on commit as
//! without a log ([`Writer::process`]), in a transaction that starts with the log's
//! messages, so they see every message acknowledged before them. The log is also applied
//! when it is [due](MessageLog::due), once the writer thread has waited [`APPLY_IDLE`]
//! with messages in it, before any read ([`Command::Flush`](super::Command::Flush)) and at
//! close.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chatcore::store::NewMessage;
use chatcore::{Error, Result};
use rusqlite::OptionalExtension;

use super::insert::{Inserts, Row};
use super::log::MessageLog;
use super::{Fatal, Outcome, Write, Writer};

/// How long the writer thread waits, with messages in the log, before it applies them.
pub(super) const APPLY_IDLE: Duration = Duration::from_millis(10);

impl Writer {
    /// Commits `batch` (leaving it empty) the log's way, replying to every write.
    pub(super) fn process_logged(&mut self, batch: &mut Vec<Write>) {
        let mut seqs = Vec::with_capacity(batch.len());
        for write in batch.iter() {
            let Write::Append { msg, .. } = write else {
                break;
            };
            match self.try_log(msg) {
                Some(seq) => seqs.push(seq),
                None => break,
            }
        }
        let rest = batch.split_off(seqs.len());
        self.reply_logged(batch, seqs);
        if rest.is_empty() {
            if self.log.as_ref().is_some_and(MessageLog::due) {
                self.apply_log_or_warn();
            }
            return;
        }
        // Its transaction starts with the logged messages.
        let mut rest = rest;
        self.process(&mut rest);
    }

    /// Logs `msg` and writes it to the file at once (for an append on its caller's thread,
    /// see `thread.rs`): its seq, and whether the log was empty before. `None` when it is
    /// not a message the log takes, or the file could not be written: the caller queues it
    /// for the writer thread, which reports the failure.
    pub(super) fn log_now(&mut self, msg: &NewMessage) -> Option<(u64, bool)> {
        let was_empty = self.log.as_ref()?.pending.is_empty();
        let seq = self.try_log(msg)?;
        self.write_log(1).ok()?;
        Some((seq, was_empty))
    }

    /// Logs `msg` if it is a plain new message for a known room whose nonce is unused,
    /// returning its seq; `None` sends it the transaction's way (which also reports a
    /// database error met here).
    fn try_log(&mut self, msg: &NewMessage) -> Option<u64> {
        if self.log.is_none() || msg.kind.is_change() {
            return None;
        }
        let room_id = self.room_id(&msg.room).ok()??;
        if let Some(nonce) = &msg.nonce {
            let pending = self
                .log
                .as_ref()
                .is_some_and(|log| log.has_nonce(nonce, &msg.sender));
            // Noted before it is known to be logged: a nonce noted that is then not stored
            // only costs a lookup later.
            let may_be_stored = self
                .nonces
                .as_mut()
                .is_none_or(|n| n.note(nonce, &msg.sender));
            if pending || (may_be_stored && self.nonce_stored(nonce, &msg.sender).ok()?) {
                return None;
            }
        }
        let seq = self.last_seq(room_id).ok()? + 1;
        self.last_seq.insert(room_id, seq);
        self.log.as_mut()?.push(msg.clone(), room_id, seq);
        Some(seq)
    }

    /// Notes `msg`'s nonce, if it has one, as stored (see `nonces.rs`): called for every
    /// message inserted the transaction's way (a logged one was noted when its nonce was
    /// checked).
    pub(super) fn remember_nonce(&mut self, msg: &NewMessage) {
        if let (Some(nonces), Some(nonce)) = (self.nonces.as_mut(), &msg.nonce) {
            nonces.note(nonce, &msg.sender);
        }
    }

    /// Whether a stored message has this `(nonce, sender)`.
    fn nonce_stored(&self, nonce: &str, sender: &str) -> Result<bool, Fatal> {
        self.counters.nonce_lookups.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM messages WHERE nonce = ?1 AND sender = ?2")?
            .query_row([nonce, sender], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Writes the logged `batch` to the file and replies: its seqs, or the write's error.
    fn reply_logged(&mut self, batch: &mut Vec<Write>, seqs: Vec<u64>) {
        match self.write_log(batch.len() as u64) {
            Ok(()) => {
                for (write, seq) in batch.drain(..).zip(seqs) {
                    write.reply(Ok(Outcome::Stored(seq)));
                }
            }
            Err(e) => {
                for write in batch.drain(..) {
                    write.reply(Err(Error::store(format!(
                        "cannot write the message log: {e}"
                    ))));
                }
            }
        }
    }

    /// Writes the records queued since the last write (`logged` messages) to the file and
    /// counts them. On failure the log drops them and their seqs are free again.
    fn write_log(&mut self, logged: u64) -> std::io::Result<()> {
        let Some(log) = self.log.as_mut() else {
            return Ok(());
        };
        if let Err(e) = log.write() {
            tracing::warn!(error = %e, "sqlite store: writing the message log failed");
            self.last_seq.clear();
            return Err(e);
        }
        self.counters.messages.fetch_add(logged, Ordering::Relaxed);
        self.counters.logged.fetch_add(logged, Ordering::Relaxed);
        // Before the replies: a read that follows an acknowledgement must see it pending
        // and have the log applied first.
        self.counters
            .unapplied
            .store(log.pending.len() as u64, Ordering::Release);
        Ok(())
    }

    /// [`Writer::apply_log`], logging a failure (the messages stay in the log and pending;
    /// the next transaction tries again).
    pub(super) fn apply_log_or_warn(&mut self) {
        if let Err(e) = self.apply_log() {
            tracing::warn!(error = %e, "sqlite store: applying the message log failed");
        }
    }

    /// Writes the pending messages into SQLite in a transaction of their own (every
    /// transaction starts with them, see [`Writer::insert_logged`]), then empties the log.
    pub(super) fn apply_log(&mut self) -> Result<(), Fatal> {
        if self.log.as_ref().is_none_or(|log| log.pending.is_empty()) {
            return Ok(());
        }
        self.attempt(&[], Inserts::Many).map(drop)
    }

    /// Inserts the log's pending messages at the start of the open transaction; they stay
    /// pending until [`Writer::log_applied`] after its commit.
    pub(super) fn insert_logged(&mut self) -> Result<(), Fatal> {
        let Some(log) = self.log.as_mut() else {
            return Ok(());
        };
        if log.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut log.pending);
        let mut rows: Vec<Row<'_>> = pending
            .iter()
            .map(|p| Row::new(&p.msg, p.room_id, p.seq))
            .collect();
        let inserted = self.insert(&mut rows);
        drop(rows);
        if let Some(log) = self.log.as_mut() {
            log.pending = pending;
        }
        self.applying = inserted.is_ok();
        inserted
    }

    /// After a commit: empties the log if the transaction took its messages; whether it did.
    pub(super) fn log_applied(&mut self) -> bool {
        if !std::mem::take(&mut self.applying) {
            return false;
        }
        if let Some(log) = self.log.as_mut() {
            log.applied();
        }
        self.counters.unapplied.store(0, Ordering::Release);
        true
    }
}
