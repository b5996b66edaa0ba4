//! [`Lane`]: what a session's queue lock guards — the frames waiting for the write pump, and
//! what decides whether a frame may skip them and go straight to the socket
//! ([`DirectSink`]).

use std::collections::VecDeque;
use std::sync::Arc;

use super::sink::{Direct, DirectSink};
use crate::protocol::{Codec, Frame};

/// Most frames one direct write takes. A queue longer than that is a busy one: its write
/// pump coalesces up to its write buffer and waits for a full socket.
const MAX_THROUGH: usize = 16;

/// The queue's state under its lock.
#[derive(Debug, Default)]
pub(super) struct Lane {
    pub(super) frames: VecDeque<Arc<Frame>>,
    /// The socket, while the transport lets the hub write to it.
    pub(super) sink: Option<Box<dyn DirectSink>>,
    /// The write pump took frames out or writes something of its own: a direct write now
    /// could land in the middle of it.
    pub(super) writing: bool,
    /// The rest of frames a direct write started and could not finish: it goes out before
    /// anything else.
    pub(super) rest: Option<Vec<u8>>,
    /// A cork on some thread holds this queue's frames and writes them at the end of its
    /// turn ([`cork`](super::cork)).
    pub(super) corked: bool,
}

/// What a write-through did with the waiting frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Through {
    /// This many frames left the queue, written or started (their rest kept in `rest`).
    Took(usize),
    /// Nothing was written: the frames wait for the write pump.
    Refused,
}

impl Lane {
    /// Writes every waiting frame to the socket, if the write pump holds nothing and the
    /// socket takes them now.
    pub(super) fn write_through(&mut self, codec: Codec) -> Through {
        let n = self.frames.len();
        let idle = !self.writing && self.rest.is_none();
        let Some(sink) = self.sink.as_ref().filter(|_| idle && n <= MAX_THROUGH) else {
            return Through::Refused;
        };
        match sink.try_write(self.frames.make_contiguous(), codec) {
            Direct::Written => {}
            Direct::Partial(rest) => self.rest = Some(rest),
            Direct::Refused => return Through::Refused,
        }
        self.frames.clear();
        Through::Took(n)
    }
}

/// How a frame enters the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Push {
    /// Held by the thread's cork if one is active, else as `Wake`.
    Corked,
    /// Queued, the pump woken.
    Wake,
    /// Queued; the pump is woken by the next frame (`Queue::push_lazy`).
    Lazy,
}

impl Push {
    /// `Corked` or `Wake`.
    pub(super) fn from_corked(corked: bool) -> Self {
        if corked { Push::Corked } else { Push::Wake }
    }
}

/// What the write pump finds in the queue.
#[derive(Debug)]
pub(super) enum Next {
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
