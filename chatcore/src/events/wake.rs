//! [`Wake`]: how this node's commits wake idle event streams, at the cost of one relaxed load
//! on the message path while no stream is open.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use tokio::sync::Notify;

/// Shared by the hub (which calls [`Wake::committed`]) and every open stream.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    notify: Notify,
    /// Open streams; while 0, a commit touches nothing else.
    streams: AtomicUsize,
}

impl Wake {
    /// A commit happened on this node.
    pub(crate) fn committed(&self) {
        if self.streams.load(Relaxed) > 0 {
            self.notify.notify_waiters();
        }
    }

    pub(crate) fn open(&self) {
        self.streams.fetch_add(1, Relaxed);
    }

    pub(crate) fn close(&self) {
        self.streams.fetch_sub(1, Relaxed);
    }

    /// Resolves on the next commit after it was created.
    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}
