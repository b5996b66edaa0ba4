//! The bounded outbound queue of one session, and how a transport drains it.
//!
//! The bottom of the hub: rooms push shared frames into a [`Queue`], the transport's write pump
//! takes them out through [`Outbound`]. Frames queued under a [`cork`] go out at the end of
//! the corked task's turn, written by that task where the transport allows it
//! ([`DirectSink`](crate::transport::DirectSink)). It knows nothing of rooms or commands.

mod close;
pub(crate) mod cork;
mod lane;
pub(crate) mod sink;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use super::stats::Stats;
use crate::protocol::{Codec, Event, Frame};
pub use close::CloseReason;
pub(crate) use lane::Offer;
use lane::{Lane, Next, Push};
use sink::DirectSink;

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

    /// As [`push`](Self::push) when `corked`, else never corked: for a big room's fan-out,
    /// whose members' write pumps run in parallel and coalesce, where writing every member's
    /// socket in turn from one task would not.
    pub(crate) fn push_with(self: &Arc<Self>, frame: Arc<Frame>, corked: bool) -> bool {
        self.enqueue(frame, Push::from_corked(corked))
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
            cork::hold(self, &mut lane.corked)
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
    /// (a room catching the member up from the store) keeps what did not fit. `corked`: as
    /// in [`push_with`](Self::push_with).
    pub(crate) fn offer(self: &Arc<Self>, frame: Arc<Frame>, corked: bool) -> Offer {
        if self.close.get().is_some() {
            return Offer::Closed;
        }
        let lane = self.lane();
        if lane.frames.len() >= self.capacity {
            return Offer::Full;
        }
        self.admit(lane, frame, Push::from_corked(corked));
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
    /// corked) under a [`cork`], nothing: the caller writes the sender's frames itself as
    /// soon as they are queued ([`flush_corked`](Self::flush_corked)).
    pub(crate) fn wake_first(&self, corked: bool) {
        if !(corked && cork::active()) {
            self.wake.notify_one();
        }
    }

    /// Queues an event meant for this session only.
    pub(crate) fn send(self: &Arc<Self>, event: Event) -> bool {
        self.push(Frame::new(event))
    }

    /// As [`send`](Self::send), corked or not as in [`push_with`](Self::push_with).
    pub(crate) fn send_with(self: &Arc<Self>, event: Event, corked: bool) -> bool {
        self.push_with(Frame::new(event), corked)
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

/// What a transport's write pump receives next.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A frame to write.
    Frame(Arc<Frame>),
    /// The session is over: write a close with this reason and stop.
    Closed(CloseReason),
    /// A direct write left the rest of its frames: write what
    /// [`Outbound::begin_write`] returns. Only a transport that attached a
    /// [`DirectSink`] receives it.
    Flush,
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
            Next::Frame(frame) => Some(Outgoing::Frame(frame)),
            Next::Flush => Some(Outgoing::Flush),
            Next::Empty => reason.map(Outgoing::Closed),
        }
    }

    /// A frame already queued, without waiting; `None` when the queue is empty, the session
    /// closed without draining, or a direct write's rest waits ([`Outgoing::Flush`]). Write
    /// pumps use it to coalesce several frames into one write.
    pub fn try_next(&mut self) -> Option<Arc<Frame>> {
        match self.shared.close_reason() {
            Some(reason) if !reason.drains() => None,
            _ => match self.shared.pop() {
                Next::Frame(frame) => Some(frame),
                Next::Flush | Next::Empty => None,
            },
        }
    }

    /// Lets the hub write this session's frames straight to `sink` while the write pump is
    /// idle (see [`DirectSink`] for what the pump must do in return).
    pub fn attach(&self, sink: Box<dyn DirectSink>) {
        self.shared.lane().sink = Some(sink);
    }

    /// Ends direct writes and drops the sink: before a close frame, and when the pump
    /// stops. Waits for a direct write in progress.
    pub fn detach(&self) {
        let sink = self.shared.lane().sink.take();
        drop(sink);
    }

    /// Marks the pump as writing, so that no direct write cuts in, and returns the rest of
    /// an earlier direct write, which must be written first. Taking a frame out
    /// ([`recv`](Self::recv), [`try_next`](Self::try_next)) marks it writing too.
    pub fn begin_write(&self) -> Option<Vec<u8>> {
        let mut lane = self.shared.lane();
        lane.writing = true;
        lane.rest.take()
    }

    /// The pump's write is done: direct writes may go again once the queue is empty.
    pub fn end_write(&self) {
        self.shared.lane().writing = false;
    }

    /// The session's queue, for a transport's write guard (`crate::transport::WriteGuard`).
    pub(crate) fn shared(&self) -> &Arc<Queue> {
        &self.shared
    }

    /// Frames waiting in the queue.
    pub fn len(&self) -> usize {
        self.shared.lane().frames.len()
    }

    /// `true` when no frame waits.
    pub fn is_empty(&self) -> bool {
        self.shared.lane().frames.is_empty()
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        // The transport is gone: nothing will drain the queue any more, or write to it.
        self.shared.close(CloseReason::Normal);
        self.detach();
    }
}

#[cfg(test)]
mod tests;
