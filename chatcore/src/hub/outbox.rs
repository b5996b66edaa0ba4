//! The bounded outbound queue of one session, and how a transport drains it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::{Notify, mpsc};

use super::room::Room;
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
    /// The session's outbound queue overflowed; it should reconnect and resume.
    SlowConsumer,
    /// The client broke the protocol badly enough to be dropped.
    Policy,
}

impl CloseReason {
    /// `true` when frames already queued should still be written before closing.
    pub fn drains(self) -> bool {
        matches!(self, CloseReason::Normal | CloseReason::GoingAway)
    }
}

/// State of one session shared by its owner, its rooms and its in-flight acks.
#[derive(Debug)]
pub(crate) struct SessionShared {
    pub(crate) id: u64,
    pub(crate) user: Arc<str>,
    pub(crate) codec: Codec,
    tx: mpsc::Sender<Arc<Frame>>,
    capacity: usize,
    close: OnceLock<CloseReason>,
    closed: Notify,
    /// Rooms this session has joined. A std mutex: only map operations happen under it.
    pub(crate) rooms: Mutex<HashMap<String, Arc<Room>>>,
    stats: Arc<Stats>,
}

impl SessionShared {
    pub(crate) fn new(
        id: u64,
        user: Arc<str>,
        codec: Codec,
        capacity: usize,
        stats: Arc<Stats>,
    ) -> (Arc<Self>, mpsc::Receiver<Arc<Frame>>) {
        let (tx, rx) = mpsc::channel(capacity);
        let shared = Arc::new(Self {
            id,
            user,
            codec,
            tx,
            capacity,
            close: OnceLock::new(),
            closed: Notify::new(),
            rooms: Mutex::new(HashMap::new()),
            stats,
        });
        (shared, rx)
    }

    pub(crate) fn rooms(&self) -> MutexGuard<'_, HashMap<String, Arc<Room>>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame. Ephemeral frames are dropped when the queue is three-quarters full;
    /// any other frame that does not fit closes the session as a slow consumer, so one
    /// lagging reader never holds up a room. Returns `false` when the frame was not queued.
    pub(crate) fn push(&self, frame: Arc<Frame>) -> bool {
        if self.close.get().is_some() {
            return false;
        }
        if frame.is_droppable() && self.tx.capacity() < self.capacity / 4 {
            Stats::bump(&self.stats.dropped_ephemeral);
            return false;
        }
        match self.tx.try_send(frame) {
            Ok(()) => {
                Stats::bump(&self.stats.deliveries);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                if self.close(CloseReason::SlowConsumer) {
                    Stats::bump(&self.stats.slow_consumers);
                    tracing::info!(session = self.id, user = %self.user, "slow consumer disconnected");
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues an event meant for this session only.
    pub(crate) fn send(&self, event: Event) -> bool {
        self.push(Frame::new(event))
    }

    /// Marks the session closed; the first reason wins. Returns `true` if this call closed it.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        let first = self.close.set(reason).is_ok();
        if first {
            self.closed.notify_one();
        }
        first
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
}

/// The receiving end of a session's outbound queue, drained by one transport write pump.
#[derive(Debug)]
pub struct Outbound {
    rx: mpsc::Receiver<Arc<Frame>>,
    shared: Arc<SessionShared>,
}

impl Outbound {
    pub(crate) fn new(rx: mpsc::Receiver<Arc<Frame>>, shared: Arc<SessionShared>) -> Self {
        Self { rx, shared }
    }

    /// The codec frames must be written in.
    pub fn codec(&self) -> Codec {
        self.shared.codec
    }

    /// Waits for the next frame, or for the end of the session. After a draining close
    /// ([`CloseReason::drains`]) queued frames still come first.
    pub async fn recv(&mut self) -> Outgoing {
        loop {
            if let Some(reason) = self.shared.close_reason() {
                if reason.drains() {
                    if let Ok(frame) = self.rx.try_recv() {
                        return Outgoing::Frame(frame);
                    }
                }
                return Outgoing::Closed(reason);
            }
            tokio::select! {
                biased;
                frame = self.rx.recv() => return match frame {
                    Some(frame) => Outgoing::Frame(frame),
                    None => Outgoing::Closed(self.shared.close_reason().unwrap_or(CloseReason::Normal)),
                },
                () = self.shared.closed.notified() => {}
            }
        }
    }

    /// A frame already queued, without waiting; `None` when the queue is empty or the session
    /// closed without draining. Write pumps use it to coalesce several frames into one write.
    pub fn try_next(&mut self) -> Option<Arc<Frame>> {
        match self.shared.close_reason() {
            Some(reason) if !reason.drains() => None,
            _ => self.rx.try_recv().ok(),
        }
    }

    /// Frames waiting in the queue.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// `true` when no frame waits.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        // The transport is gone: nothing will drain the queue any more.
        self.shared.close(CloseReason::Normal);
    }
}
