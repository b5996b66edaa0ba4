//! The server's side of RFC 6455 framing, for what the writer sends itself: a server's frames
//! are never masked and never fragmented here, so a frame is a 2-, 4- or 10-byte header and
//! the payload.

use chatcore::protocol::{Codec, Frame};

/// Opcodes the writer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opcode {
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
}

/// The opcode of a close frame, as it appears in a header's first byte.
const CLOSE: u8 = Opcode::Close as u8;

/// Appends one final (unfragmented) frame with `payload` to `out`.
pub(super) fn push(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8]) {
    out.push(0x80 | opcode as u8);
    let len = payload.len();
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
}

/// Appends the WebSocket frame for `frame` to `out`: the shared encoded bytes, as a binary
/// frame for MessagePack and a text frame for JSON (the codec's output is UTF-8 by
/// construction). Returns the payload's length.
pub(super) fn push_data(out: &mut Vec<u8>, frame: &Frame, codec: Codec) -> u64 {
    let payload = frame.encoded(codec);
    let opcode = match codec {
        Codec::MsgPack => Opcode::Binary,
        Codec::Json => Opcode::Text,
    };
    push(out, opcode, payload);
    payload.len() as u64
}

/// The payload of a close frame: the code, then the reason (already cut to fit, see
/// `chatcore::transport::close::reason_text`).
pub(super) fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason.as_bytes());
    payload
}

/// Whether `bytes`, whole unmasked frames one after another (what the protocol library
/// writes: pongs, a close reply), hold a close frame. A cut-off frame at the end is read as
/// far as it goes.
pub(super) fn holds_close(mut bytes: &[u8]) -> bool {
    while let [first, second, rest @ ..] = bytes {
        if first & 0x0f == CLOSE {
            return true;
        }
        let (len, rest) = match second & 0x7f {
            126 => match rest.split_first_chunk::<2>() {
                Some((n, rest)) => (u64::from(u16::from_be_bytes(*n)), rest),
                None => return false,
            },
            127 => match rest.split_first_chunk::<8>() {
                Some((n, rest)) => (u64::from_be_bytes(*n), rest),
                None => return false,
            },
            n => (u64::from(n), rest),
        };
        let masked = second & 0x80 != 0;
        let skip = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .saturating_add(if masked { 4 } else { 0 });
        bytes = rest.get(skip..).unwrap_or_default();
    }
    false
}

#[cfg(test)]
mod tests {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{
        CloseCode, Control, Data, OpCode,
    };

    use super::*;

    /// Parses what `push` wrote with tungstenite's own frame reader.
    fn parse(bytes: &[u8]) -> Frame {
        let mut cursor = std::io::Cursor::new(bytes);
        let (header, len) =
            tokio_tungstenite::tungstenite::protocol::frame::FrameHeader::parse(&mut cursor)
                .expect("header")
                .expect("complete header");
        let start = cursor.position() as usize;
        assert_eq!(start as u64 + len, bytes.len() as u64, "one frame, whole");
        Frame::from_payload(header, bytes[start..].to_vec().into())
    }

    #[test]
    fn frames_of_every_length_class_parse_back() {
        for len in [0, 1, 125, 126, 127, 65_535, 65_536, 200_000] {
            let payload = vec![b'x'; len];
            let mut out = Vec::new();
            push(&mut out, Opcode::Binary, &payload);
            let frame = parse(&out);
            assert!(frame.header().is_final);
            assert_eq!(frame.header().opcode, OpCode::Data(Data::Binary), "{len}");
            assert!(frame.header().mask.is_none(), "a server never masks");
            assert_eq!(frame.payload().len(), len);
            assert!(!holds_close(&out), "{len}");
        }
    }

    #[test]
    fn a_close_frame_carries_its_code_and_reason() {
        let mut out = Vec::new();
        push(
            &mut out,
            Opcode::Close,
            &close_payload(4008, "slow consumer"),
        );
        let frame = parse(&out);
        assert_eq!(frame.header().opcode, OpCode::Control(Control::Close));
        let (code, reason) = frame.payload().split_at(2);
        assert_eq!(
            CloseCode::from(u16::from_be_bytes([code[0], code[1]])),
            CloseCode::from(4008)
        );
        assert_eq!(reason, b"slow consumer");
        assert!(holds_close(&out));
    }

    #[test]
    fn a_close_is_found_behind_other_frames_and_not_in_garbage() {
        let mut out = Vec::new();
        push(&mut out, Opcode::Ping, b"");
        push(&mut out, Opcode::Text, &[0x88; 300]);
        assert!(!holds_close(&out), "close-like bytes inside a payload");
        push(&mut out, Opcode::Close, &close_payload(1000, ""));
        assert!(holds_close(&out));
        assert!(!holds_close(&[]));
        assert!(!holds_close(&[0x81]));
        assert!(!holds_close(&[0x81, 127, 0xff]), "a cut-off length");
        assert!(!holds_close(&[
            0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ]));
    }
}
