//! [`WriteGuard`]: how a transport tells a client that stopped reading from a slow socket.
//!
//! A write pump hands the kernel bytes; a client that stops reading makes the kernel stop
//! taking them once its buffers (the client's receive buffer and the server's send buffer)
//! are full. The guard watches each write: when the kernel has taken nothing of it for
//! [`Limits::slow_consumer_after`](crate::Limits::slow_consumer_after) while more frames wait
//! in the session's queue, the session is closed as a slow consumer at once, instead of
//! waiting out the whole write timeout. Both transports use it, so a WebSocket client and a
//! TCP client are cut off by the same rule at the same moment.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use crate::hub::{CloseReason, Outbound, Queue};

/// How often a stuck write looks at the queue after the stall time has passed.
const RECHECK: Duration = Duration::from_millis(50);

/// How a guarded write ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Guarded<T> {
    /// The write finished (successfully or not) with this output.
    Done(T),
    /// The socket took nothing for the stall time while frames waited (or the hub closed the
    /// session as a slow consumer meanwhile): the session is closed with
    /// [`CloseReason::SlowConsumer`]; drop the connection, a close frame cannot get through.
    SlowConsumer,
    /// The write did not finish within the write timeout.
    TimedOut,
}

/// Watches a session's socket writes for a client that stopped reading; see the module docs.
#[derive(Debug, Clone)]
pub struct WriteGuard {
    queue: Arc<Queue>,
}

impl WriteGuard {
    /// A guard for the session that `outbound` drains.
    pub fn new(outbound: &Outbound) -> Self {
        Self {
            queue: Arc::clone(outbound.shared()),
        }
    }

    /// The time a write may be stuck while frames wait: the hub's `slow_consumer_after`.
    pub fn stall(&self) -> Duration {
        self.queue.stall
    }

    /// Runs one socket write (`write` must be cancel-safe to drop: the connection is dropped
    /// after anything but [`Guarded::Done`]), bounded by `timeout`.
    pub async fn write<F: Future>(&self, timeout: Duration, write: F) -> Guarded<F::Output> {
        tokio::pin!(write);
        // Most writes end at their first poll (the kernel takes the bytes at once): those need
        // no timer, whose set-up (the runtime handle, the clock) cost ~3 % of a delivery.
        let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
        if let Poll::Ready(out) = first {
            return Guarded::Done(out);
        }
        let deadline = Instant::now() + timeout;
        let mut check_at = Instant::now() + self.queue.stall;
        loop {
            let wake = check_at.min(deadline);
            if let Ok(out) = tokio::time::timeout_at(wake, &mut write).await {
                return Guarded::Done(out);
            }
            if self.stalled() {
                self.queue.close_slow();
                return Guarded::SlowConsumer;
            }
            if Instant::now() >= deadline {
                return Guarded::TimedOut;
            }
            check_at = Instant::now() + RECHECK;
        }
    }

    /// `true` when frames wait behind the stuck write, or the hub already gave up on the
    /// session's full queue.
    fn stalled(&self) -> bool {
        self.queue.free() < self.queue.capacity()
            || self.queue.close_reason() == Some(CloseReason::SlowConsumer)
    }
}
