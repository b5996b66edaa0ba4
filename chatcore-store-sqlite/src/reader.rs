//! The reader pool: read-only connections, each on its own thread, fed from one queue.
//!
//! Every idle thread waits on the queue itself (a multi-consumer channel), so a read wakes
//! exactly one thread. (Threads that took turns holding the receiver behind a mutex woke a
//! second thread at every read, only to have it wait again: a fifth of the readers' time in
//! a join storm.)
//!
//! In WAL mode a reader sees the last commit made before its query started and never waits
//! for the writer, so history pages are served while a batch is being written. Dedicated
//! threads (rather than `spawn_blocking` per call) keep each connection's prepared statements
//! and page cache warm and work under any async runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::JoinHandle;

use chatcore::{Error, Result};
use crossbeam_channel::{Receiver, Sender, unbounded};
use rusqlite::Connection;
use tokio::sync::oneshot;

/// A read to run on some reader's connection.
type Job = Box<dyn FnOnce(&Connection) + Send + 'static>;

/// The pool. Dropping it lets every thread finish its current read, then joins them.
pub(crate) struct Readers {
    // Field order matters: the sender goes first, so the threads see the queue close before
    // `threads` joins them.
    jobs: Sender<Job>,
    threads: JoinOnDrop,
}

impl Readers {
    /// Starts one thread per connection.
    pub(crate) fn start(connections: Vec<Connection>) -> Result<Self> {
        let (jobs, queue) = unbounded::<Job>();
        let mut threads = JoinOnDrop(Vec::with_capacity(connections.len()));
        for (i, conn) in connections.into_iter().enumerate() {
            let queue = queue.clone();
            let handle = std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || serve(conn, &queue))
                .map_err(|e| Error::store(format!("cannot start a reader thread: {e}")))?;
            threads.0.push(handle);
        }
        Ok(Self { jobs, threads })
    }

    /// Runs `f` on a reader connection and returns its result.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.jobs.send(job).map_err(|_| Error::Closed)?;
        // The sender is dropped without a value only if the read panicked (or the pool is
        // gone).
        rx.await
            .map_err(|_| Error::store("a sqlite reader failed while serving the request"))?
    }

    /// How many reader threads are still running.
    pub(crate) fn alive(&self) -> usize {
        self.threads.0.iter().filter(|t| !t.is_finished()).count()
    }
}

fn serve(conn: Connection, queue: &Receiver<Job>) {
    // Ends when the pool's sender is dropped and the queue is empty.
    while let Ok(job) = queue.recv() {
        // A panicking read must not take the connection with it: its caller gets an error
        // (its reply sender is dropped) and the thread serves the next job.
        if catch_unwind(AssertUnwindSafe(|| job(&conn))).is_err() {
            tracing::error!("sqlite store: a read panicked");
        }
    }
}

/// Joins threads when dropped (skipping the current thread, should it be one of them).
pub(crate) struct JoinOnDrop(pub(crate) Vec<JoinHandle<()>>);

impl Drop for JoinOnDrop {
    fn drop(&mut self) {
        let me = std::thread::current().id();
        for handle in self.0.drain(..) {
            if handle.thread().id() != me && handle.join().is_err() {
                tracing::error!("sqlite store: a store thread panicked");
            }
        }
    }
}
