//! Tests only: a [`Gate`] in front of the writer's command channel, so a test can queue a
//! known batch. While the gate is held the writer takes no command; once released it takes
//! everything queued meanwhile in one go (up to `max_batch`).

use std::sync::mpsc::{Receiver, RecvError, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};

use crate::writer::{Command, Commands};

/// Holds and releases the writer; clones share one gate.
#[derive(Clone, Default)]
pub(crate) struct Gate {
    /// Whether the gate is held, and the writer waiting for it to be released.
    held: Arc<(Mutex<bool>, Condvar)>,
}

impl Gate {
    /// Wraps the writer's channel so this gate controls it.
    pub(crate) fn feed(&self, commands: Receiver<Command>) -> Gated {
        Gated {
            commands,
            gate: self.clone(),
        }
    }

    /// Runs `queue` while the writer is held, then releases it. Earlier writes must have
    /// been awaited, so the writer is idle and everything `queue` sends forms one batch.
    pub(crate) fn held<T>(&self, queue: impl FnOnce() -> T) -> T {
        self.set(true);
        // Released on the way out, also when `queue` panics: the store's drop joins the
        // writer thread, which must not stay held.
        let _release = Release(self);
        queue()
    }

    fn set(&self, held: bool) {
        let (lock, released) = &*self.held;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = held;
        released.notify_all();
    }

    /// Blocks the calling (writer) thread while the gate is held.
    fn pass(&self) {
        let (lock, released) = &*self.held;
        let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        let _open = released
            .wait_while(guard, |held| *held)
            .unwrap_or_else(|p| p.into_inner());
    }
}

/// Releases its gate when dropped.
struct Release<'a>(&'a Gate);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// The writer's channel behind a [`Gate`].
pub(crate) struct Gated {
    /// The store's channel.
    commands: Receiver<Command>,
    /// Checked before a command is handed to the writer.
    gate: Gate,
}

impl Commands for Gated {
    fn try_recv(&self) -> Result<Command, TryRecvError> {
        self.gate.pass();
        self.commands.try_recv()
    }

    fn recv(&self) -> Result<Command, RecvError> {
        // Wait for a command first (the writer idles here), then for the gate.
        let command = self.commands.recv();
        self.gate.pass();
        command
    }

    fn recv_timeout(&self, timeout: std::time::Duration) -> Result<Command, RecvTimeoutError> {
        let command = self.commands.recv_timeout(timeout);
        self.gate.pass();
        command
    }
}
