//! A server event encoded at most once per codec and shared by every recipient.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::codec::Codec;
use super::event::Event;

/// An outbound event shared by all the sessions it goes to.
///
/// Fan-out builds one `Frame` per message and hands an `Arc` of it to every recipient's queue.
/// Each codec's bytes are produced lazily by the first writer that needs them (on that
/// writer's task, not under any room lock) and then reused: a message to 1,000 JSON sessions
/// is serialized once.
#[derive(Debug)]
pub struct Frame {
    event: Event,
    json: OnceLock<Bytes>,
    msgpack: OnceLock<Bytes>,
}

impl Frame {
    /// Wraps an event for sharing.
    pub fn new(event: Event) -> Arc<Self> {
        Arc::new(Self {
            event,
            json: OnceLock::new(),
            msgpack: OnceLock::new(),
        })
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event's bytes in `codec`, encoded on first use.
    pub fn encoded(&self, codec: Codec) -> &Bytes {
        let cell = match codec {
            Codec::Json => &self.json,
            Codec::MsgPack => &self.msgpack,
        };
        cell.get_or_init(|| Bytes::from(codec.encode(&self.event)))
    }

    /// `true` for events that may be dropped for a lagging session instead of disconnecting
    /// it (typing and presence changes: the next one supersedes them).
    pub fn is_droppable(&self) -> bool {
        matches!(
            self.event,
            Event::Typing { .. }
                | Event::UserJoined { .. }
                | Event::UserLeft { .. }
                | Event::OnlineCount { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_once_per_codec() {
        let f = Frame::new(Event::Pong { id: Some(1) });
        let a = f.encoded(Codec::Json).clone();
        let b = f.encoded(Codec::Json).clone();
        assert_eq!(a.as_ptr(), b.as_ptr(), "second call must reuse the bytes");
        assert_eq!(&a[..], br#"{"type":"pong","id":1}"#);
        let m = f.encoded(Codec::MsgPack);
        assert_eq!(
            Codec::MsgPack.decode_event(m).expect("decode"),
            Event::Pong { id: Some(1) }
        );
    }
}
