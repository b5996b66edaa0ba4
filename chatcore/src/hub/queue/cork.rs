//! Corking: frames queued while a connection's reader runs wait for the end of its turn, and
//! then go out together, written by the reader's own task where the transport allows it
//! ([`DirectSink`](crate::transport::DirectSink)).
//!
//! A request's ack, a small room's message to each member, replies: each would otherwise wake
//! a write pump, a task of its own, per frame and per member. Under a cork the reader handles
//! every request it has already read (four messages in flight make four), queuing their
//! frames without waking anyone; when its turn ends (its socket has nothing more, or it
//! waits for something else) each queue it touched is written once, all its frames in one
//! write, by this task. What cannot be written at once (a busy pump, a full socket, a
//! transport without a sink) wakes the pump as usual. The turn is one poll of the reader's
//! future, so nothing waits on a cork longer than the reader takes to handle what it has.
//! One queue can be written before the turn ends (`Queue::flush_corked`): a sender's own
//! copy and ack, which its client waits for before it sends its next message.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, MutexGuard};
use std::task::{Context, Poll};

use tokio::time::Instant;

use super::Queue;
use super::lane::{Lane, Through};

/// The queues touched during the current corked poll on this thread.
#[derive(Default)]
struct Cork {
    active: bool,
    touched: Vec<Arc<Queue>>,
    /// When the last turn that queued frames ended, its writes done.
    ended: Option<Instant>,
}

thread_local! {
    static CORK: RefCell<Cork> = RefCell::new(Cork::default());
}

/// Polls `future` once under a cork: frames it queues through the hub for any session (a
/// reply, a small room's message to each member) wait for the end of this poll, and then
/// each session's frames go out in one write, made by this task through the session's
/// [`DirectSink`](crate::transport::DirectSink) when its write pump is idle, or else by the
/// pump, woken then. A transport polls a connection's reader this way, so that a turn
/// handles every request already read before anything is written:
///
/// ```
/// # async fn reader() {}
/// # async fn serve() {
/// let mut reading = std::pin::pin!(reader());
/// std::future::poll_fn(|cx| chatcore::transport::poll_corked(reading.as_mut(), cx)).await;
/// # }
/// ```
///
/// (A wrapper future taking the reader by value would hold it twice in the connection's
/// task: 1 KiB more per idle connection, measured.) Nested corks belong to the outermost
/// one.
pub fn poll_corked<F: Future + ?Sized>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<F::Output> {
    let _turn = Turn::begin();
    future.poll(cx)
}

/// Whether a cork is active on this thread.
pub(super) fn active() -> bool {
    CORK.with_borrow(|cork| cork.active)
}

/// When the last corked turn on this thread that queued frames ended, its writes done: on a
/// one-worker runtime this thread was busy until then (a big room measures its quiet from
/// it, `room/fanout.rs`).
pub(crate) fn last_turn_end() -> Option<Instant> {
    CORK.with_borrow(|cork| cork.ended)
}

/// Registers `queue` with this thread's cork, unless none is active or the queue already is.
/// Returns whether a cork holds the queue's frames (the caller then neither writes nor
/// wakes).
pub(super) fn hold(queue: &Arc<Queue>, registered: &mut bool) -> bool {
    CORK.with_borrow_mut(|cork| {
        if !cork.active {
            return false;
        }
        if !*registered {
            *registered = true;
            cork.touched.push(Arc::clone(queue));
        }
        true
    })
}

/// One poll under a cork; dropping it (even in a panic) ends the turn and sends the frames.
struct Turn {
    outermost: bool,
}

impl Turn {
    fn begin() -> Self {
        let outermost = CORK.with_borrow_mut(|cork| !std::mem::replace(&mut cork.active, true));
        Self { outermost }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if !self.outermost {
            return;
        }
        let mut touched = CORK.with_borrow_mut(|cork| {
            cork.active = false;
            std::mem::take(&mut cork.touched)
        });
        let queued = !touched.is_empty();
        for queue in touched.drain(..) {
            queue.uncork();
        }
        let ended = queued.then(Instant::now);
        // The list's allocation, kept for the next turn (nothing registers while inactive).
        CORK.with_borrow_mut(|cork| {
            cork.touched = touched;
            cork.ended = ended.or(cork.ended);
        });
    }
}

impl Queue {
    /// Writes what a cork holds for this queue now rather than at the end of the turn (as
    /// the turn's end would: through the sink, or by the woken pump); nothing when no cork
    /// holds it. For a sender's ack: its client waits for it before it sends the next
    /// message, while the room's members' frames can wait to go out together.
    pub(crate) fn flush_corked(&self) {
        let lane = self.lane();
        if lane.corked {
            self.uncork_locked(lane);
        }
    }

    /// The end of a cork's turn: writes what waits through the transport's sink if the pump
    /// is idle, else wakes the pump for what the cork held (a closed session's pump decides
    /// what still goes out).
    fn uncork(&self) {
        self.uncork_locked(self.lane());
    }

    fn uncork_locked(&self, mut lane: MutexGuard<'_, Lane>) {
        lane.corked = false;
        if lane.frames.is_empty() {
            return;
        }
        let through = if self.close.get().is_some() {
            Through::Refused
        } else {
            lane.write_through(self.codec)
        };
        let wake = match through {
            Through::Took(n) => {
                // Whatever was parked went with it.
                self.parked.store(false, Relaxed);
                self.taken.fetch_add(n as u64, Relaxed);
                lane.rest.is_some()
            }
            Through::Refused => self.parked.swap(false, Relaxed),
        };
        drop(lane);
        if wake {
            self.wake.notify_one();
        }
    }
}
