//! The timestamp every message carries: `~t` + 16 hex digits of the send time (microseconds
//! since the Unix epoch) + `p` + 8 hex digits of the publisher's number + a space, padded
//! with `x` to the requested size. Plain ASCII, so it appears verbatim inside a JSON string,
//! a MessagePack str and a baseline text frame alike: a receiver finds it with one substring
//! search instead of decoding the frame.

use std::time::{SystemTime, UNIX_EPOCH};

use memchr::memmem;

/// The marker that starts the stamp.
const MARKER: &[u8] = b"~t";
/// Length of the stamp (`~t` + 16 + `p` + 8 + space): the smallest payload.
pub const MIN_LEN: usize = 2 + 16 + 1 + 8 + 1;

/// What a stamp says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Send time, microseconds since the Unix epoch.
    pub sent_us: u64,
    /// Publisher number.
    pub publisher: u32,
}

/// Now, in microseconds since the Unix epoch (the wall clock, so separate load processes on
/// one machine agree).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A payload of `len` bytes (at least [`MIN_LEN`]) stamped with `stamp`.
pub fn encode(stamp: Stamp, len: usize) -> String {
    let mut s = format!("~t{:016x}p{:08x} ", stamp.sent_us, stamp.publisher);
    while s.len() < len {
        s.push('x');
    }
    s
}

/// Finds and decodes the stamp in a frame (or a message text).
pub fn find(frame: &[u8]) -> Option<Stamp> {
    find_with(&memmem::Finder::new(MARKER), frame)
}

/// [`find`] with a prepared searcher (cheaper in a loop).
pub fn find_with(finder: &memmem::Finder<'_>, frame: &[u8]) -> Option<Stamp> {
    let at = finder.find(frame)?;
    let rest = frame.get(at + 2..at + MIN_LEN)?;
    let sent_us = hex(rest.get(..16)?)?;
    if rest.get(16) != Some(&b'p') {
        return None;
    }
    let publisher = u32::try_from(hex(rest.get(17..25)?)?).ok()?;
    Some(Stamp { sent_us, publisher })
}

/// A searcher for the stamp marker.
pub fn finder() -> memmem::Finder<'static> {
    memmem::Finder::new(MARKER)
}

fn hex(digits: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &d in digits {
        let n = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(n);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatcore::protocol::{Codec, Event, Message, MessageKind};

    #[test]
    fn round_trip() {
        let stamp = Stamp {
            sent_us: 1_763_900_000_123_456,
            publisher: 4_000_000_001,
        };
        let p = encode(stamp, 100);
        assert_eq!(p.len(), 100);
        assert_eq!(find(p.as_bytes()), Some(stamp));
        let short = encode(stamp, 0);
        assert_eq!(short.len(), MIN_LEN);
        assert_eq!(find(short.as_bytes()), Some(stamp));
    }

    #[test]
    fn garbage_is_not_a_stamp() {
        assert_eq!(find(b"hello"), None);
        assert_eq!(find(b"~t0123"), None);
        assert_eq!(find(b"~tZZZZZZZZZZZZZZZZp00000000 "), None);
        assert_eq!(find(b"~t0000000000000001q00000000 "), None);
    }

    #[test]
    fn found_inside_encoded_frames() {
        let stamp = Stamp {
            sent_us: now_us(),
            publisher: 7,
        };
        let mut m = Message {
            room: "r".into(),
            seq: 1,
            id: "01J".into(),
            sender: "s".into(),
            kind: MessageKind::Text,
            text: encode(stamp, 64),
            ts: 0,
            nonce: None,
            reply_to: None,
            data: None,
            ..Default::default()
        };
        m.nonce = Some("n".into());
        for codec in [Codec::Json, Codec::MsgPack] {
            let frame = codec.encode(&Event::Message(m.clone()));
            assert_eq!(find(&frame), Some(stamp), "{codec:?}");
        }
    }
}
