//! [`Outbound`]: the transport's end of a session's queue.

use std::sync::Arc;

use super::{CloseReason, Next, Queue};
use crate::protocol::{Codec, Frame};
use crate::transport::DirectSink;

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
