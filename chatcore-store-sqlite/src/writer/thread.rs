//! The writer thread's loop, and the lock it shares with appends logged on their caller's
//! thread.
//!
//! The [`Writer`] sits behind a mutex ([`Shared`]). The writer thread holds it while it runs a
//! batch of queued commands. An append takes it too, on its caller's thread, when no command
//! is queued or running and the lock is free (`try_lock`: a caller never waits for it): it
//! logs its message there and returns with the reply ready
//! ([`SqliteStore::append`](crate::SqliteStore)). Handing a message to the writer thread
//! and its reply back cost two thread switches, which on one core were most of what a
//! logged message still cost. Everything else, and an append that finds the writer busy,
//! queues as before, so the order of appends is the order of their calls.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chatcore::store::NewMessage;
use chatcore::{Error, Result};
use tokio::sync::oneshot;

use super::logged::APPLY_IDLE;
use super::{Command, Commands, Counters, Write, Writer};
use crate::indexer::Progress;

/// The writer, shared by its thread and the callers that log an append themselves; `None`
/// once the thread has closed the connection.
pub(crate) type Shared = Arc<Mutex<Option<Writer>>>;

/// Takes the lock, also after a panic elsewhere: the writer's state is only ever changed
/// whole (a transaction commits or rolls back; the caches are reloaded after a failure).
fn lock(shared: &Mutex<Option<Writer>>) -> MutexGuard<'_, Option<Writer>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer thread's body: runs until [`Command::Close`] or until every sender is gone,
/// committing everything received before either.
pub(crate) fn run(shared: Shared, commands: impl Commands) {
    let Some((progress, counters, max_batch)) = lock(&shared).as_ref().map(|w| {
        (
            Arc::clone(&w.progress),
            Arc::clone(&w.counters),
            w.max_batch,
        )
    }) else {
        return;
    };
    let mut batch: Vec<Write> = Vec::with_capacity(max_batch);
    let mut close_reply = None;
    loop {
        let first = match commands.try_recv() {
            Ok(command) => command,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => match wait(&shared, &commands, &progress, &counters) {
                Some(command) => command,
                None => break,
            },
        };
        let mut taken = 0;
        let mut flush_reply = None;
        let mut next = Some(first);
        while let Some(command) = next.take() {
            taken += u64::from(command.is_queued());
            match command {
                Command::Write(w) => batch.push(w),
                Command::Wake => {}
                Command::Flush(reply) => {
                    flush_reply = Some(reply);
                    break;
                }
                Command::Close(reply) => {
                    close_reply = Some(reply);
                    break;
                }
            }
            if batch.len() >= max_batch {
                break;
            }
            // Empty or disconnected: commit what we have.
            next = commands.try_recv().ok();
        }
        let mut guard = lock(&shared);
        if let Some(writer) = guard.as_mut() {
            writer.run_batch(&mut batch, flush_reply);
        }
        // Under the lock: a caller that then finds nothing queued logs after this batch.
        counters.queued.fetch_sub(taken, Ordering::AcqRel);
        drop(guard);
        if close_reply.is_some() {
            break;
        }
    }
    let writer = lock(&shared).take();
    if let Some(writer) = writer {
        writer.shut_down();
    }
    if let Some(reply) = close_reply {
        let _ = reply.send(());
    }
    // Dropping `commands` now fails every command queued after the close: its caller sees
    // `Error::Closed`.
}

/// Waits for the next command; `None` once every sender is gone. While messages wait in
/// the log, each pause of [`APPLY_IDLE`] applies them.
fn wait(
    shared: &Mutex<Option<Writer>>,
    commands: &impl Commands,
    progress: &Progress,
    counters: &Counters,
) -> Option<Command> {
    // The search indexer works while the writer waits.
    progress.writer_idle(true);
    let command = loop {
        if counters.unapplied() == 0 {
            break commands.recv().ok();
        }
        match commands.recv_timeout(APPLY_IDLE) {
            Ok(command) => break Some(command),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(writer) = lock(shared).as_mut() {
                    writer.apply_log_or_warn();
                }
            }
            Err(RecvTimeoutError::Disconnected) => break None,
        }
    };
    progress.writer_idle(false);
    command
}

/// Logs `msg` on the calling thread if the writer is free and nothing is queued for it;
/// returns its seq, and whether the writer thread must be woken (the log was empty: it
/// applies the log once it has waited [`APPLY_IDLE`]). `None`: queue it.
pub(crate) fn log_here(
    shared: &Mutex<Option<Writer>>,
    counters: &Counters,
    msg: &NewMessage,
) -> Option<(u64, bool)> {
    if counters.queued.load(Ordering::Acquire) > 0 {
        return None;
    }
    let mut guard = shared.try_lock().ok()?;
    // Again under the lock, which the writer thread holds while it lowers the count.
    if counters.queued.load(Ordering::Acquire) > 0 {
        return None;
    }
    guard.as_mut()?.log_now(msg)
}

impl Writer {
    /// One batch of queued commands, the reply to a flush after it.
    fn run_batch(&mut self, batch: &mut Vec<Write>, flush: Option<oneshot::Sender<Result<()>>>) {
        match self.log.is_some() {
            true => self.process_logged(batch),
            false => self.process(batch),
        }
        if let Some(reply) = flush {
            let _ = reply.send(self.apply_log().map_err(Error::store));
        }
        // After the replies: no ack waits for it.
        self.checkpoints.finish(&self.conn);
    }

    /// After the last batch: applies what the log holds, stops the indexer and the
    /// checkpointer, closes the connection.
    fn shut_down(mut self) {
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
    }
}
