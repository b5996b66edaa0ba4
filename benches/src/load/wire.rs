//! Frames of both targets, without decoding them: what kind an incoming chatcore frame is
//! (its `type` comes first in both codecs), the `join` request, and the socket path.

use chatcore::protocol::{Codec, Command, Request};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::load::args::{CodecArg, Target};

/// The kind of an incoming frame, as far as the load generator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A room message (counted as a delivery).
    Message,
    /// An ack of a send.
    Ack,
    /// The reply to a join.
    Joined,
    /// The first frame of a session.
    Welcome,
    /// An error frame.
    Error,
    /// Members' read positions (`receipts`).
    Receipts,
    /// The answer to this connection's `read`.
    Read,
    /// Anything else (presence, typing, pong, …).
    Other,
}

/// Classifies a chatcore frame (JSON or named-map MessagePack) by its leading `type` field.
pub fn classify(frame: &[u8]) -> FrameKind {
    let head = &frame[..frame.len().min(16)];
    let Some(at) = memchr::memmem::find(head, b"type") else {
        return FrameKind::Other;
    };
    let rest = &frame[at + 4..];
    let value = if let Some(v) = rest.strip_prefix(b"\":\"") {
        // JSON: `"type":"message"` — the name is followed by a closing quote.
        return json_kind(v);
    } else {
        rest
    };
    // MessagePack: a fixstr header (0xa0 | len) then the name.
    let Some((&header, name)) = value.split_first() else {
        return FrameKind::Other;
    };
    if header & 0xe0 != 0xa0 {
        return FrameKind::Other;
    }
    let len = usize::from(header & 0x1f);
    name.get(..len).map_or(FrameKind::Other, kind_of)
}

fn json_kind(v: &[u8]) -> FrameKind {
    match memchr::memchr(b'"', &v[..v.len().min(12)]) {
        Some(end) => kind_of(&v[..end]),
        None => FrameKind::Other,
    }
}

fn kind_of(name: &[u8]) -> FrameKind {
    match name {
        b"message" => FrameKind::Message,
        b"ack" => FrameKind::Ack,
        b"joined" => FrameKind::Joined,
        b"welcome" => FrameKind::Welcome,
        b"error" => FrameKind::Error,
        b"receipts" => FrameKind::Receipts,
        b"read" => FrameKind::Read,
        _ => FrameKind::Other,
    }
}

/// The `join` request for `room`, in the codec's frame type.
pub fn join(codec: CodecArg, id: u64, room: &str) -> WsMessage {
    let req = Request::new(
        id,
        Command::Join {
            room: room.to_owned(),
            resume_after: None,
        },
    );
    frame(codec.codec(), req)
}

/// The `read` request moving the read position in `room` to `seq`; with `id`, the server
/// answers it.
pub fn read(codec: CodecArg, id: Option<u64>, room: &str, seq: u64) -> WsMessage {
    let req = Request {
        id,
        command: Command::Read {
            room: room.to_owned(),
            seq,
        },
    };
    frame(codec.codec(), req)
}

/// The `seq` of a `message` frame (JSON or named-map MessagePack), found without decoding
/// the frame: the first `seq` key (it comes before the text, which could hold one).
pub fn message_seq(frame: &[u8]) -> Option<u64> {
    if frame.first() == Some(&b'{') {
        let at = memchr::memmem::find(frame, b"\"seq\":")?;
        let digits = &frame[at + 6..];
        let end = digits
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(digits.len());
        return std::str::from_utf8(&digits[..end]).ok()?.parse().ok();
    }
    // MessagePack: the fixstr `seq`, then an unsigned integer.
    let at = memchr::memmem::find(frame, b"\xa3seq")?;
    let rest = &frame[at + 4..];
    let (&tag, value) = rest.split_first()?;
    let be = |n: usize| -> Option<u64> {
        let bytes = value.get(..n)?;
        Some(bytes.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
    };
    match tag {
        0x00..=0x7f => Some(u64::from(tag)),
        0xcc => be(1),
        0xcd => be(2),
        0xce => be(4),
        0xcf => be(8),
        _ => None,
    }
}

fn frame(codec: Codec, req: Request) -> WsMessage {
    let bytes = codec.encode(&req);
    if codec.is_binary() {
        WsMessage::Binary(bytes.into())
    } else {
        // JSON encoding is UTF-8 by construction.
        WsMessage::Text(String::from_utf8_lossy(&bytes).into_owned().into())
    }
}

/// Path and query of the socket: chatcore's `/ws?user=NAME`, the baseline's `/?room=NAME`.
pub fn socket_path(target: Target, user: &str, room: &str) -> String {
    match target {
        Target::Chatcore => format!("/ws?user={user}"),
        Target::Baseline => format!("/?room={room}"),
    }
}

/// The subprotocol to ask for.
pub fn subprotocol(target: Target, codec: CodecArg) -> Option<&'static str> {
    match target {
        Target::Chatcore => Some(codec.codec().subprotocol()),
        Target::Baseline => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatcore::ErrorCode;
    use chatcore::protocol::{Event, Message, MessageKind};

    fn all(event: &Event) -> Vec<FrameKind> {
        [Codec::Json, Codec::MsgPack]
            .into_iter()
            .map(|c| classify(&c.encode(event)))
            .collect()
    }

    #[test]
    fn classifies_both_codecs() {
        let m = Message {
            room: "r".into(),
            seq: 1,
            id: "x".into(),
            sender: "s".into(),
            kind: MessageKind::Text,
            text: "hi".into(),
            ts: 1,
            nonce: None,
            reply_to: None,
            data: None,
            ..Default::default()
        };
        assert_eq!(all(&Event::Message(m)), [FrameKind::Message; 2]);
        let ack = Event::Ack {
            id: Some(3),
            room: "r".into(),
            seq: 1,
            msg_id: "x".into(),
            ts: 1,
            duplicate: false,
        };
        assert_eq!(all(&ack), [FrameKind::Ack; 2]);
        let err = Event::error(Some(1), ErrorCode::RateLimited, "slow down");
        assert_eq!(all(&err), [FrameKind::Error; 2]);
        assert_eq!(classify(b"garbage"), FrameKind::Other);
        assert_eq!(classify(b""), FrameKind::Other);
        assert_eq!(classify(br#"{"type":"pong","id":1}"#), FrameKind::Other);
        let receipts = Event::Receipts {
            room: "r".into(),
            reads: vec![chatcore::protocol::Receipt {
                user: "u".into(),
                seq: 3,
            }],
        };
        assert_eq!(all(&receipts), [FrameKind::Receipts; 2]);
        let read = Event::Read {
            id: Some(2),
            room: "r".into(),
            seq: 3,
        };
        assert_eq!(all(&read), [FrameKind::Read; 2]);
    }

    #[test]
    fn finds_the_seq_of_a_message_in_both_codecs() {
        for seq in [0, 5, 127, 128, 255, 256, 65_535, 65_536, 1 << 32, u64::MAX] {
            let m = Message {
                room: "r".into(),
                seq,
                id: "x".into(),
                sender: "s".into(),
                kind: MessageKind::Text,
                text: "\"seq\":9 \u{a3}seq".into(),
                ts: 1,
                ..Default::default()
            };
            for codec in [Codec::Json, Codec::MsgPack] {
                let frame = codec.encode(&Event::Message(m.clone()));
                assert_eq!(message_seq(&frame), Some(seq), "{codec:?} {seq}");
            }
        }
        assert_eq!(message_seq(b"garbage"), None);
    }

    #[test]
    fn join_matches_the_codec() {
        assert!(matches!(join(CodecArg::Json, 1, "r"), WsMessage::Text(_)));
        assert!(matches!(
            join(CodecArg::Msgpack, 1, "r"),
            WsMessage::Binary(_)
        ));
    }
}
