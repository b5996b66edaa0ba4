//! [`DirectSink`]: a socket the hub may write to itself, from the task that queued a frame,
//! while the connection's write pump is idle. Transports see it as
//! `chatcore::transport::DirectSink`.

use std::fmt::Debug;
use std::sync::Arc;

use crate::protocol::{Codec, Frame};

/// A socket the hub writes to itself.
///
/// A frame queued for a session normally wakes the transport's write pump, a task of its
/// own, which then writes. For a reply or a small room's fan-out that costs a task wake-up
/// and a poll per session, more than the write. A transport whose socket can be written
/// without `&mut` (a TCP stream's `try_write`) attaches a sink to the session's
/// [`Outbound`](crate::Outbound); frames queued under a cork ([`poll_corked`](crate::transport::poll_corked))
/// then go out through it at the end of that future's turn when the pump holds
/// nothing: it is not writing, and no earlier write was left half done. Whatever the socket
/// does not take at once goes back to the pump, so a direct write never waits.
///
/// A transport that attaches one ([`Outbound::attach`](crate::Outbound::attach)) promises to
/// bracket every write of its own pump with [`Outbound::begin_write`](crate::Outbound::begin_write)
/// and [`Outbound::end_write`](crate::Outbound::end_write), to write the bytes `begin_write`
/// returns first, to write what [`Outgoing::Flush`](crate::Outgoing::Flush) asks for, and to
/// [`detach`](crate::Outbound::detach) the sink before it writes a close frame.
pub trait DirectSink: Send + Sync + Debug {
    /// Writes `frames`, in order and in the session's `codec`, if the socket takes bytes
    /// now, without waiting. Called with the session's queue locked.
    fn try_write(&self, frames: &[Arc<Frame>], codec: Codec) -> Direct;
}

/// What became of a [`DirectSink::try_write`].
#[derive(Debug, PartialEq, Eq)]
pub enum Direct {
    /// Every frame was written.
    Written,
    /// The frames were started: these bytes, the rest of them on the wire, must be written
    /// before anything else.
    Partial(Vec<u8>),
    /// Nothing was written (the socket would block, or failed): the write pump takes the
    /// frames as usual.
    Refused,
}
