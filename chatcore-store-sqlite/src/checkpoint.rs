//! The checkpointer thread: copies committed pages from the WAL back into the database file,
//! off the writer's thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold, on the
//! writer's thread, and (with `synchronous=NORMAL`) ends in an `fsync` of the database file:
//! every few thousand messages one batch would wait for it. Here the writer's WAL hook only
//! signals this thread, which runs a `PASSIVE` checkpoint on its own connection while the
//! writer goes on committing (SQLite allows a checkpoint to run beside a writer).
//!
//! Such a checkpoint never catches up with a busy writer: the writer appended more frames
//! while it ran, and the log only starts over when a write transaction begins with every
//! frame copied. So the thread does not run again until the log has grown by the threshold
//! once more (signalled at every commit past it, the thread would chase the writer, two
//! `fsync`s for a handful of frames each time: measured, 1,800 `fsync`s a second and a
//! third of the server's CPU in a room of 10). Instead, once it has copied all it saw, it
//! asks the writer to copy the few frames appended since, on its own connection between
//! two batches ([`Checkpoints::finish`]): nothing is appended meanwhile, so that checkpoint
//! is complete and the next write transaction starts the log over.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::sync_channel;
use std::thread::JoinHandle;

use chatcore::{Error, Result};
use rusqlite::Connection;

/// What the checkpoint thread and the writer share.
#[derive(Debug, Default)]
pub(crate) struct Checkpoints {
    /// The log's size, in frames, when the last checkpoint was asked for: the next is due
    /// when it holds the threshold more (counted from 0 once the log started over).
    covered: AtomicI64,
    /// The checkpoint thread copied the whole log it saw: the writer copies the rest.
    finish: AtomicBool,
    /// Checkpoints run, by the thread and by the writer.
    count: AtomicU64,
}

impl Checkpoints {
    /// Checkpoints run so far (by the checkpoint thread and by the writer).
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Called by the writer between batches, holding no transaction: if the checkpoint
    /// thread asked for it, copies the frames appended since its checkpoint, so the next
    /// write transaction starts the log over. Only a few frames are left to copy; the
    /// `fsync`s are the cost, once per threshold's worth of log.
    pub(crate) fn finish(&self, writer: &Connection) {
        if !self.finish.swap(false, Relaxed) {
            return;
        }
        match run(writer) {
            // The checkpoint thread is at work again: after the next batch, then.
            Ok((log, _)) if log < 0 => self.finish.store(true, Relaxed),
            Ok((log, done)) => {
                tracing::trace!(log, done, "sqlite store: writer's checkpoint");
                self.count.fetch_add(1, Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "sqlite store: writer's checkpoint failed"),
        }
    }
}

/// A `PASSIVE` checkpoint on `conn`: (frames in the log, frames copied).
fn run(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    })
}

/// Installs the WAL hook on `writer` and starts the thread, which checkpoints with `conn`
/// whenever the log has grown by `pages` pages since its last checkpoint. The thread stops
/// once the hook is removed or `writer` is closed (either drops the hook and its sender).
/// The writer calls [`Checkpoints::finish`] on the returned state between batches.
pub(crate) fn start(
    writer: &mut Connection,
    conn: Connection,
    pages: u32,
) -> Result<(JoinHandle<()>, Arc<Checkpoints>)> {
    let pages = i64::from(pages);
    let state = Arc::new(Checkpoints::default());
    let (signal, wake) = sync_channel::<()>(1);
    let hook_state = Arc::clone(&state);
    // Replaces SQLite's automatic checkpoint on this connection.
    writer
        .wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, log_pages: i32| {
            let log = i64::from(log_pages);
            let mut covered = hook_state.covered.load(Relaxed);
            if log < covered {
                // The log started over.
                covered = 0;
                hook_state.covered.store(0, Relaxed);
            }
            // While the writer is about to finish a checkpoint, another would only keep
            // it busy.
            if log - covered >= pages && !hook_state.finish.load(Relaxed) {
                hook_state.covered.store(log, Relaxed);
                // Full means a checkpoint is already due; one is enough.
                let _ = signal.try_send(());
            }
            Ok(())
        }))
        .map_err(Error::store)?;
    let thread_state = Arc::clone(&state);
    let thread = std::thread::Builder::new()
        .name("sqlite-ckpt".into())
        .spawn(move || {
            while wake.recv().is_ok() {
                match run(&conn) {
                    Ok((log, done)) => {
                        tracing::trace!(log, done, "sqlite store: checkpoint");
                        thread_state.count.fetch_add(1, Relaxed);
                        // Anything less means a reader still needs old frames: the next
                        // checkpoint comes when the log has grown again.
                        if log >= 0 && done == log {
                            thread_state.finish.store(true, Relaxed);
                            // A signal that came meanwhile is the writer's to answer now.
                            let _ = wake.try_recv();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "sqlite store: checkpoint failed"),
                }
            }
        })
        .map_err(|e| Error::store(format!("cannot start the checkpoint thread: {e}")))?;
    Ok((thread, state))
}
