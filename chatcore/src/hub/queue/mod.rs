//! The bounded outbound queue of one session, and how a transport drains it.
//!
//! The bottom of the hub: rooms push shared frames into a [`Queue`], the transport's write pump
//! takes them out through [`Outbound`]. Frames queued under a [`cork`] go out at the end of
//! the corked task's turn, written by that task where the transport allows it
//! ([`DirectSink`](crate::transport::DirectSink)). It knows nothing of rooms or commands.

pub(crate) mod cork;
mod lane;
mod outbound;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use super::stats::Stats;
use crate::protocol::{Codec, Event, Frame};
use lane::{Lane, Through};
pub use outbound::{Outbound, Outgoing};

/// Why a session ended. Transports map each to a documented close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client or the embedder ended the session.
    Normal,
    /// The server is shutting down; queued frames are delivered first.
    GoingAway,
    /// The session stopped taking frames: its full queue untouched, or its socket refusing
    /// bytes, for `Limits::slow_consumer_after`. It should reconnect and resume.
    SlowConsumer,
    /// The client broke the protocol badly enough to be dropped.
    Policy,
    /// The account's session was revoked (logout, password change, a replayed refresh
    /// token, a deleted account): the client must sign in again.
    Revoked,
}

impl CloseReason {
    /// `true` when frames already queued should still be written before closing.
    pub fn drains(self) -> bool {
        matches!(self, CloseReason::Normal | CloseReason::GoingAway)
    }
}

/// The outbound queue of one session, shared by its owner, the rooms it joined and its
/// in-flight acks.
#[derive(Debug)]
pub(crate) struct Queue {
    pub(crate) id: u64,
    pub(crate) user: Arc<str>,
    pub(crate) codec: Codec,
    /// The outbound queue and the direct way to the socket. A plain deque under a std
    /// mutex: a fan-out push is one uncontended lock, and the write pump is woken only when
    /// the queue stops being empty (a bounded tokio channel cost a quarter of the server's
    /// CPU in fan-out profiles).
    lane: Mutex<Lane>,
    capacity: usize,
    /// How long a write may be stuck, or a full queue untouched, before the session is a
    /// slow consumer (`Limits::slow_consumer_after`).
    pub(crate) stall: Duration,
    close: OnceLock<CloseReason>,
    /// Frames the write pump has taken out, ever: a room catching a member up reads it to
    /// tell a reader that makes progress from one that stopped.
    taken: AtomicU64,
    /// Wakes the write pump: a frame arrived in an empty queue, or the session closed.
    wake: Notify,
    /// The queue holds a frame pushed with [`Queue::push_lazy`] (or under a cork) that nobody
    /// woke the write pump for. Read and written under the `lane` lock.
    parked: AtomicBool,
    stats: Arc<Stats>,
}

impl Queue {
    pub(crate) fn new(
        id: u64,
        user: Arc<str>,
        codec: Codec,
        capacity: usize,
        stall: Duration,
        stats: Arc<Stats>,
    ) -> Arc<Self> {
        Arc::new(Self {
            id,
            user,
            codec,
            lane: Mutex::new(Lane::default()),
            capacity,
            stall,
            close: OnceLock::new(),
            taken: AtomicU64::new(0),
            wake: Notify::new(),
            parked: AtomicBool::new(false),
            stats,
        })
    }

    fn lane(&self) -> MutexGuard<'_, Lane> {
        self.lane.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame and wakes the write pump, or, under a [`cork`], leaves it for the end
    /// of the corked task's turn. Ephemeral frames are dropped when the queue is
    /// three-quarters full; any other frame that does not fit closes the session as a slow
    /// consumer, so one lagging reader never holds up a room. Returns `false` when the frame
    /// was not queued.
    pub(crate) fn push(self: &Arc<Self>, frame: Arc<Frame>) -> bool {
        self.enqueue(frame, Push::Corked)
    }

    /// As [`push`](Self::push), but never corked: for a big room's fan-out, whose members'
    /// write pumps run in parallel and coalesce, where writing every member's socket in turn
    /// from one task would not.
    pub(crate) fn push_queued(self: &Arc<Self>, frame: Arc<Frame>) -> bool {
        self.enqueue(frame, Push::Wake)
    }

    /// Queues a frame that can wait for the next one: the write pump is not woken for it, so
    /// it goes out in the same write as the next frame the session is sent. A second lazy
    /// frame that finds the first still waiting wakes the pump, as does
    /// [`wake_parked`](Self::wake_parked). Otherwise as [`push`](Self::push).
    pub(crate) fn push_lazy(self: &Arc<Self>, frame: Arc<Frame>) -> bool {
        self.enqueue(frame, Push::Lazy)
    }

    /// Wakes the write pump if a lazy frame waits for it (the bound on how long one waits).
    pub(crate) fn wake_parked(&self) {
        let lane = self.lane();
        let parked = self.parked.swap(false, Relaxed);
        drop(lane);
        if parked {
            self.wake.notify_one();
        }
    }

    fn enqueue(self: &Arc<Self>, frame: Arc<Frame>, push: Push) -> bool {
        if self.close.get().is_some() {
            return false;
        }
        let lane = self.lane();
        let free = self.capacity.saturating_sub(lane.frames.len());
        if frame.is_droppable() && free < self.capacity / 4 {
            drop(lane);
            self.stats.dropped_ephemeral.fetch_add(1, Relaxed);
            return false;
        }
        if free == 0 {
            drop(lane);
            self.close_slow();
            return false;
        }
        self.admit(lane, frame, push);
        true
    }

    /// Adds `frame` to the waiting ones and wakes the write pump, unless `push` lets a cork
    /// hold it (frames left in an empty queue are marked parked, so a push from elsewhere
    /// wakes the pump rather than wait for the cork) or it is lazy.
    fn admit(self: &Arc<Self>, mut lane: MutexGuard<'_, Lane>, frame: Arc<Frame>, push: Push) {
        let was_empty = lane.frames.is_empty();
        lane.frames.push_back(frame);
        let held = push == Push::Corked && {
            let lane = &mut *lane;
            cork::hold(self, &mut lane.corked, false)
        };
        let wake = if held {
            if was_empty {
                self.parked.store(true, Relaxed);
            }
            false
        } else {
            self.wakes(was_empty, push == Push::Lazy)
        };
        drop(lane);
        if wake {
            self.wake.notify_one();
        }
        self.stats.deliveries.fetch_add(1, Relaxed);
    }

    /// Whether a frame just queued (`lazy` or not, into a queue that `was_empty` or not) must
    /// wake the write pump; called under the queue lock. A queue that was not empty has its
    /// pump woken already, unless what it holds is a parked lazy frame.
    fn wakes(&self, was_empty: bool, lazy: bool) -> bool {
        match (lazy, was_empty) {
            (true, true) => {
                self.parked.store(true, Relaxed);
                false
            }
            (true, false) => self.parked.swap(false, Relaxed),
            (false, true) => true,
            (false, false) => self.parked.load(Relaxed) && self.parked.swap(false, Relaxed),
        }
    }

    /// Queues a frame if it fits, without closing the session when it does not: the caller
    /// (a room catching the member up from the store) keeps what did not fit. `corked`:
    /// as [`push`](Self::push), else as [`push_queued`](Self::push_queued).
    pub(crate) fn offer(self: &Arc<Self>, frame: Arc<Frame>, corked: bool) -> Offer {
        if self.close.get().is_some() {
            return Offer::Closed;
        }
        let lane = self.lane();
        if lane.frames.len() >= self.capacity {
            return Offer::Full;
        }
        let push = if corked { Push::Corked } else { Push::Wake };
        self.admit(lane, frame, push);
        Offer::Queued
    }

    /// Room left in the queue, in frames.
    pub(crate) fn free(&self) -> usize {
        self.capacity.saturating_sub(self.lane().frames.len())
    }

    /// The queue's capacity, in frames.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Frames the write pump has taken out so far.
    pub(crate) fn taken(&self) -> u64 {
        self.taken.load(Relaxed)
    }

    /// Closes the session as a slow consumer and counts it, once.
    pub(crate) fn close_slow(&self) {
        if self.close(CloseReason::SlowConsumer) {
            self.stats.slow_consumers.fetch_add(1, Relaxed);
            tracing::info!(session = self.id, user = %self.user, "slow consumer disconnected");
        }
    }

    /// Wakes the write pump before the frames it will find are queued, by the caller, in
    /// the same turn: a sender's, ahead of its room's fan-out. A runtime runs woken tasks in
    /// the order they were woken, or (tokio's multi-thread scheduler) the last one woken
    /// first and then the rest in order, so this pump writes first or second among the
    /// room's members while their wakes fit the worker's run queue (tokio's holds 256; past
    /// that it moves the oldest half to its shared queue, and the pump is among the early
    /// ones rather than first). The ack queued behind the sender's own copy reaches it
    /// without waiting for every other member's write: with few messages in flight it sends
    /// its next one that much sooner. A pump that runs before the frames arrive finds
    /// nothing and waits again; they wake it as usual. With `corked` (the room's frames are
    /// corked), under a [`cork`], the queue is put first among those the cork writes instead.
    pub(crate) fn wake_first(self: &Arc<Self>, corked: bool) {
        let held = corked && {
            let mut lane = self.lane();
            cork::hold(self, &mut lane.corked, true)
        };
        if !held {
            self.wake.notify_one();
        }
    }

    /// The end of a cork's turn: writes what waits through the transport's sink if the pump
    /// is idle, else wakes the pump for what the cork held (a closed session's pump decides
    /// what still goes out).
    fn uncork(&self) {
        let mut lane = self.lane();
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

    /// Queues an event meant for this session only.
    pub(crate) fn send(self: &Arc<Self>, event: Event) -> bool {
        self.push(Frame::new(event))
    }

    /// As [`send`](Self::send), never corked ([`push_queued`](Self::push_queued)).
    pub(crate) fn send_queued(self: &Arc<Self>, event: Event) -> bool {
        self.push_queued(Frame::new(event))
    }

    /// Marks the session closed; the first reason wins. Returns `true` if this call closed it.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        let first = self.close.set(reason).is_ok();
        if first {
            self.wake.notify_one();
        }
        first
    }

    /// Takes the oldest frame out for the write pump, counting it; from then on the pump
    /// is writing (until [`Outbound::end_write`]). [`Next::Flush`] first while a direct
    /// write's rest waits.
    fn pop(&self) -> Next {
        let mut lane = self.lane();
        if lane.rest.is_some() {
            return Next::Flush;
        }
        let frame = lane.frames.pop_front();
        if lane.frames.is_empty() {
            // Whatever was parked is on its way.
            self.parked.store(false, Relaxed);
        }
        let Some(frame) = frame else {
            return Next::Empty;
        };
        lane.writing = true;
        drop(lane);
        self.taken.fetch_add(1, Relaxed);
        Next::Frame(frame)
    }

    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.close.get().copied()
    }
}

/// How a frame enters the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Push {
    /// Held by the thread's cork if one is active, else as `Wake`.
    Corked,
    /// Queued, the pump woken.
    Wake,
    /// Queued; the pump is woken by the next frame ([`Queue::push_lazy`]).
    Lazy,
}

/// What the write pump finds in the queue.
#[derive(Debug)]
enum Next {
    Frame(Arc<Frame>),
    /// A direct write's rest waits to be written.
    Flush,
    Empty,
}

/// What became of a frame offered to a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    /// It was queued.
    Queued,
    /// The queue is full; nothing changed.
    Full,
    /// The session is closed.
    Closed,
}

#[cfg(test)]
mod tests;
