//! The checkpointer thread: copies committed pages from the WAL back into the database file,
//! off the writer's thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold, on the
//! writer's thread, and (with `synchronous=NORMAL`) ends in an `fsync` of the database file:
//! every few thousand messages one batch would wait for it. Here the writer's WAL hook only
//! signals this thread, which runs a `PASSIVE` checkpoint on its own connection while the
//! writer goes on committing (SQLite allows a checkpoint to run beside a writer).

use std::sync::mpsc::sync_channel;
use std::thread::JoinHandle;

use chatcore::{Error, Result};
use rusqlite::Connection;

/// Installs the WAL hook on `writer` and starts the thread, which checkpoints with `conn`
/// whenever the log holds `pages` pages or more. The thread stops once the hook is removed
/// or `writer` is closed (either drops the hook and its sender).
pub(crate) fn start(
    writer: &mut Connection,
    conn: Connection,
    pages: u32,
) -> Result<JoinHandle<()>> {
    let pages = i32::try_from(pages).unwrap_or(i32::MAX);
    let (signal, wake) = sync_channel::<()>(1);
    // Replaces SQLite's automatic checkpoint on this connection.
    writer
        .wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, log_pages: i32| {
            if log_pages >= pages {
                // Full means a checkpoint is already due; one is enough.
                let _ = signal.try_send(());
            }
            Ok(())
        }))
        .map_err(Error::store)?;
    std::thread::Builder::new()
        .name("sqlite-ckpt".into())
        .spawn(move || {
            while wake.recv().is_ok() {
                let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                });
                match result {
                    Ok((log, done)) => {
                        tracing::trace!(log, done, "sqlite store: checkpoint");
                    }
                    Err(e) => tracing::warn!(error = %e, "sqlite store: checkpoint failed"),
                }
            }
        })
        .map_err(|e| Error::store(format!("cannot start the checkpoint thread: {e}")))
}
