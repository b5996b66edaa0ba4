//! Length-prefixed framing for stream transports (the TCP transport, and whatever else
//! carries chatcore frames over a byte stream): the frame format, the `hello` a client opens
//! with and the `close` a server ends with. Sans I/O: both the server and the client feed
//! bytes into a buffer and take whole frames out.
//!
//! ```text
//! frame      = length payload
//! length     = 4 bytes, big-endian, the payload's size in bytes
//! payload    = one protocol value in the connection's codec; empty = keep-alive
//! ```
//!
//! The client's first frame is a [`Hello`], always JSON. The server answers with the
//! session's `welcome` in the codec the hello chose, or with a [`Close`] and the end of the
//! connection. Every later frame is a request (client → server) or an event (server →
//! client) in that codec, except a [`Close`]: the server's last frame before it ends the
//! connection.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use crate::protocol::{Codec, DecodeError, Event, PROTOCOL_VERSION};

/// Size of the length prefix.
pub const HEADER_BYTES: usize = 4;

/// A frame whose length prefix is over the reader's limit. Nothing of it was buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("frame too big: {size} bytes, the limit is {limit}")]
pub struct FrameTooLarge {
    /// The announced payload size.
    pub size: usize,
    /// The limit.
    pub limit: usize,
}

/// Appends one frame carrying `payload` to `out`. An empty payload is a keep-alive.
///
/// Payloads over `u32::MAX` bytes cannot be framed; every chatcore limit is far below it,
/// and such a payload is refused with [`FrameTooLarge`] rather than cut.
pub fn encode(payload: &[u8], out: &mut impl BufMut) -> Result<(), FrameTooLarge> {
    let len = u32::try_from(payload.len()).map_err(|_| FrameTooLarge {
        size: payload.len(),
        limit: u32::MAX as usize,
    })?;
    out.put_u32(len);
    out.put_slice(payload);
    Ok(())
}

/// Takes the next whole frame out of `buf`: `Ok(None)` while it is incomplete, an empty
/// [`Bytes`] for a keep-alive. A length over `max` fails at once, before its payload arrives,
/// so an oversized frame is never buffered.
pub fn decode(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, FrameTooLarge> {
    let Some(header) = buf.get(..HEADER_BYTES) else {
        return Ok(None);
    };
    let mut prefix = [0u8; HEADER_BYTES];
    prefix.copy_from_slice(header);
    let size = u32::from_be_bytes(prefix) as usize;
    if size > max {
        return Err(FrameTooLarge { size, limit: max });
    }
    if buf.len() < HEADER_BYTES + size {
        buf.reserve(HEADER_BYTES + size - buf.len());
        return Ok(None);
    }
    buf.advance(HEADER_BYTES);
    Ok(Some(buf.split_to(size).freeze()))
}

/// The codec names a [`Hello`] may ask for.
pub fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::Json => "json",
        Codec::MsgPack => "msgpack",
    }
}

/// The codec a [`Hello`]'s `codec` names.
pub fn codec_by_name(name: &str) -> Option<Codec> {
    match name {
        "json" => Some(Codec::Json),
        "msgpack" => Some(Codec::MsgPack),
        _ => None,
    }
}

/// A transport control frame, told apart from requests and events by its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    /// The client's first frame.
    Hello(Hello),
    /// The server's last frame.
    Close(Close),
}

/// What a client opens a stream connection with (always JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the client speaks ([`PROTOCOL_VERSION`]).
    pub protocol: u32,
    /// The codec of every later frame: `json` or `msgpack`.
    pub codec: String,
    /// A session token (JWT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A guest name, when the server lets guests in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Hello {
    /// A hello for this protocol version in `codec`, with no credentials yet.
    pub fn new(codec: Codec) -> Self {
        Self {
            protocol: PROTOCOL_VERSION,
            codec: codec_name(codec).to_owned(),
            token: None,
            user: None,
        }
    }

    /// The hello's bytes: a JSON object, as the first frame must be.
    pub fn to_json(&self) -> Vec<u8> {
        Codec::Json.encode(&Control::Hello(self.clone()))
    }

    /// Reads a client's first frame. The error says what is wrong, for the close reason.
    pub fn parse(payload: &[u8]) -> Result<Self, String> {
        let hello = match serde_json::from_slice::<Control>(payload) {
            Ok(Control::Hello(hello)) => hello,
            Ok(Control::Close(_)) | Err(_) => {
                return Err(
                    "the first frame must be a JSON hello: {\"type\":\"hello\",\"protocol\":1,\"codec\":\"json\",…}"
                        .into(),
                );
            }
        };
        if hello.protocol != PROTOCOL_VERSION {
            return Err(format!(
                "unsupported protocol {}; this server speaks {PROTOCOL_VERSION}",
                hello.protocol
            ));
        }
        if codec_by_name(&hello.codec).is_none() {
            return Err(format!(
                "unsupported codec {:?}; use \"json\" or \"msgpack\"",
                hello.codec
            ));
        }
        Ok(hello)
    }

    /// The codec the hello chose (JSON for a hello that [`Hello::parse`] did not check).
    pub fn codec(&self) -> Codec {
        codec_by_name(&self.codec).unwrap_or_default()
    }
}

/// The server's last frame: a close code of [`close`](super::close) and a reason for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Close {
    /// The close code.
    pub code: u16,
    /// Why, at most [`MAX_REASON_BYTES`](super::close::MAX_REASON_BYTES) bytes.
    pub reason: String,
}

impl Close {
    /// A close frame; the reason is cut to fit.
    pub fn new(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: super::close::reason_text(reason).to_owned(),
        }
    }

    /// Its payload in `codec`.
    pub fn encode(&self, codec: Codec) -> Vec<u8> {
        codec.encode(&Control::Close(self.clone()))
    }
}

/// What a server frame held, for clients.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// An event.
    Event(Event),
    /// The server's close frame.
    Close(Close),
}

/// Decodes a server frame's payload in `codec`: an event, else a close frame.
pub fn decode_server_frame(codec: Codec, payload: &[u8]) -> Result<ServerFrame, DecodeError> {
    let event = match codec.decode_event(payload) {
        Ok(event) => return Ok(ServerFrame::Event(event)),
        Err(e) => e,
    };
    let control = match codec {
        Codec::Json => serde_json::from_slice::<Control>(payload).ok(),
        Codec::MsgPack => rmp_serde::from_slice::<Control>(payload).ok(),
    };
    match control {
        Some(Control::Close(close)) => Ok(ServerFrame::Close(close)),
        _ => Err(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_across_partial_reads() {
        let mut wire = BytesMut::new();
        encode(b"hello", &mut wire).expect("fits");
        encode(b"", &mut wire).expect("fits");
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for byte in wire {
            buf.put_u8(byte);
            while let Some(frame) = decode(&mut buf, 16).expect("within the limit") {
                out.push(frame);
            }
        }
        assert_eq!(out, vec![Bytes::from_static(b"hello"), Bytes::new()]);
        assert!(buf.is_empty());
    }

    #[test]
    fn an_oversized_length_fails_before_its_payload() {
        let mut buf = BytesMut::from(&[0u8, 1, 0, 0][..]);
        assert_eq!(
            decode(&mut buf, 1024),
            Err(FrameTooLarge {
                size: 65536,
                limit: 1024
            })
        );
    }

    #[test]
    fn hello_is_checked() {
        let mut hello = Hello::new(Codec::MsgPack);
        hello.user = Some("ann".into());
        let parsed = Hello::parse(&hello.to_json()).expect("valid");
        assert_eq!(parsed.codec(), Codec::MsgPack);
        assert_eq!(parsed.user.as_deref(), Some("ann"));
        let wrong_version = br#"{"type":"hello","protocol":2,"codec":"json"}"#;
        assert!(Hello::parse(wrong_version).is_err_and(|e| e.contains("protocol 2")));
        let wrong_codec = br#"{"type":"hello","protocol":1,"codec":"cbor"}"#;
        assert!(Hello::parse(wrong_codec).is_err_and(|e| e.contains("cbor")));
        assert!(Hello::parse(b"GET / HTTP/1.1").is_err());
        assert!(Hello::parse(br#"{"type":"join","room":"r"}"#).is_err());
    }

    #[test]
    fn server_frames_are_events_or_closes() {
        for codec in [Codec::Json, Codec::MsgPack] {
            let close = Close::new(4008, "slow consumer");
            assert_eq!(
                decode_server_frame(codec, &close.encode(codec)),
                Ok(ServerFrame::Close(close))
            );
            let pong = codec.encode(&Event::Pong { id: Some(1) });
            assert_eq!(
                decode_server_frame(codec, &pong),
                Ok(ServerFrame::Event(Event::Pong { id: Some(1) }))
            );
            assert!(decode_server_frame(codec, b"\xc1junk").is_err());
        }
    }
}
