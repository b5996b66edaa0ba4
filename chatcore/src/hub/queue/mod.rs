//! The bounded outbound queue of one session, and how a transport drains it.
//!
//! The bottom of the hub: rooms push shared frames into a [`Queue`], the transport's write pump
//! takes them out through [`Outbound`]. It knows nothing of rooms or commands.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use super::stats::Stats;
use crate::protocol::{Codec, Event, Frame};

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
    /// The outbound queue. A plain deque under a std mutex: a fan-out push is one
    /// uncontended lock, and the write pump is woken only when the queue stops being empty
    /// (a bounded tokio channel cost a quarter of the server's CPU in fan-out profiles).
    queue: Mutex<VecDeque<Arc<Frame>>>,
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
    /// The queue holds a frame pushed with [`Queue::push_lazy`] that nobody woke the write
    /// pump for. Read and written under the `queue` lock.
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
            queue: Mutex::new(VecDeque::new()),
            capacity,
            stall,
            close: OnceLock::new(),
            taken: AtomicU64::new(0),
            wake: Notify::new(),
            parked: AtomicBool::new(false),
            stats,
        })
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Arc<Frame>>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame. Ephemeral frames are dropped when the queue is three-quarters full;
    /// any other frame that does not fit closes the session as a slow consumer, so one
    /// lagging reader never holds up a room. Returns `false` when the frame was not queued.
    pub(crate) fn push(&self, frame: Arc<Frame>) -> bool {
        self.enqueue(frame, false)
    }

    /// Queues a frame that can wait for the next one: the write pump is not woken for it, so
    /// it goes out in the same write as the next frame the session is sent. A second lazy
    /// frame that finds the first still waiting wakes the pump, as does
    /// [`wake_parked`](Self::wake_parked). Otherwise as [`push`](Self::push).
    pub(crate) fn push_lazy(&self, frame: Arc<Frame>) -> bool {
        self.enqueue(frame, true)
    }

    /// Wakes the write pump if a lazy frame waits for it (the bound on how long one waits).
    pub(crate) fn wake_parked(&self) {
        let queue = self.queue();
        let parked = self.parked.swap(false, Relaxed);
        drop(queue);
        if parked {
            self.wake.notify_one();
        }
    }

    fn enqueue(&self, frame: Arc<Frame>, lazy: bool) -> bool {
        if self.close.get().is_some() {
            return false;
        }
        let mut queue = self.queue();
        let free = self.capacity.saturating_sub(queue.len());
        if frame.is_droppable() && free < self.capacity / 4 {
            drop(queue);
            self.stats.dropped_ephemeral.fetch_add(1, Relaxed);
            return false;
        }
        if free == 0 {
            drop(queue);
            self.close_slow();
            return false;
        }
        let was_empty = queue.is_empty();
        queue.push_back(frame);
        let wake = self.wakes(was_empty, lazy);
        drop(queue);
        if wake {
            self.wake.notify_one();
        }
        self.stats.deliveries.fetch_add(1, Relaxed);
        true
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
    /// (a room catching the member up from the store) keeps what did not fit.
    pub(crate) fn offer(&self, frame: Arc<Frame>) -> Offer {
        if self.close.get().is_some() {
            return Offer::Closed;
        }
        let mut queue = self.queue();
        if queue.len() >= self.capacity {
            return Offer::Full;
        }
        let was_empty = queue.is_empty();
        queue.push_back(frame);
        let wake = self.wakes(was_empty, false);
        drop(queue);
        if wake {
            self.wake.notify_one();
        }
        self.stats.deliveries.fetch_add(1, Relaxed);
        Offer::Queued
    }

    /// Room left in the queue, in frames.
    pub(crate) fn free(&self) -> usize {
        self.capacity.saturating_sub(self.queue().len())
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
    /// nothing and waits again; they wake it as usual.
    pub(crate) fn wake_first(&self) {
        self.wake.notify_one();
    }

    /// Queues an event meant for this session only.
    pub(crate) fn send(&self, event: Event) -> bool {
        self.push(Frame::new(event))
    }

    /// Marks the session closed; the first reason wins. Returns `true` if this call closed it.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        let first = self.close.set(reason).is_ok();
        if first {
            self.wake.notify_one();
        }
        first
    }

    /// Takes the oldest frame out, counting it.
    fn pop(&self) -> Option<Arc<Frame>> {
        let mut queue = self.queue();
        let frame = queue.pop_front();
        if queue.is_empty() {
            // Whatever was parked is on its way.
            self.parked.store(false, Relaxed);
        }
        drop(queue);
        if frame.is_some() {
            self.taken.fetch_add(1, Relaxed);
        }
        frame
    }

    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.close.get().copied()
    }
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

/// What a transport's write pump receives next.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A frame to write.
    Frame(Arc<Frame>),
    /// The session is over: write a close with this reason and stop.
    Closed(CloseReason),
}

/// The receiving end of a session's outbound queue, drained by one transport write pump.
#[derive(Debug)]
pub struct Outbound {
    shared: Arc<Queue>,
}

impl Outbound {
    pub(crate) fn new(shared: Arc<Queue>) -> Self {
        Self { shared }
    }

    /// The codec frames must be written in.
    pub fn codec(&self) -> Codec {
        self.shared.codec
    }

    /// Waits for the next frame, or for the end of the session. After a draining close
    /// ([`CloseReason::drains`]) queued frames still come first.
    pub async fn recv(&mut self) -> Outgoing {
        loop {
            if let Some(next) = self.next_now() {
                return next;
            }
            // A frame or a close that lands between the check and this wait leaves a
            // permit, so the wait returns at once.
            self.shared.wake.notified().await;
        }
    }

    /// What `recv` would return without waiting; `None` when it would wait.
    fn next_now(&mut self) -> Option<Outgoing> {
        let reason = self.shared.close_reason();
        if let Some(reason) = reason {
            if !reason.drains() {
                return Some(Outgoing::Closed(reason));
            }
        }
        match self.shared.pop() {
            Some(frame) => Some(Outgoing::Frame(frame)),
            None => reason.map(Outgoing::Closed),
        }
    }

    /// A frame already queued, without waiting; `None` when the queue is empty or the session
    /// closed without draining. Write pumps use it to coalesce several frames into one write.
    pub fn try_next(&mut self) -> Option<Arc<Frame>> {
        match self.shared.close_reason() {
            Some(reason) if !reason.drains() => None,
            _ => self.shared.pop(),
        }
    }

    /// The session's queue, for a transport's write guard (`crate::transport::WriteGuard`).
    pub(crate) fn shared(&self) -> &Arc<Queue> {
        &self.shared
    }

    /// Frames waiting in the queue.
    pub fn len(&self) -> usize {
        self.shared.queue().len()
    }

    /// `true` when no frame waits.
    pub fn is_empty(&self) -> bool {
        self.shared.queue().is_empty()
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        // The transport is gone: nothing will drain the queue any more.
        self.shared.close(CloseReason::Normal);
    }
}

#[cfg(test)]
mod tests;
