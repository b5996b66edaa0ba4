//! The two wire codecs over the same types: JSON (text frames) and MessagePack (binary frames).
//!
//! MessagePack frames are maps with field names (`rmp_serde::to_vec_named`), not positional
//! arrays: a few bytes larger, but a peer with an older or newer field set still decodes them.

use serde::{Deserialize, Serialize};

use super::data::MAX_FRAME_DEPTH;
use super::event::Event;
use super::request::{Request, RequestId};
use crate::ErrorCode;

/// A wire codec, chosen per connection.
///
/// Deliberately not `#[non_exhaustive]`: every transport must encode each codec on purpose
/// (text or binary frames), so a new one is a compile error there rather than a silent gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Codec {
    /// JSON in text frames. The default.
    #[default]
    Json,
    /// MessagePack maps in binary frames.
    MsgPack,
}

/// Every command `type` this version understands, to tell an unknown type from a bad field.
const COMMAND_TYPES: &[&str] = &[
    "join", "leave", "send", "dm", "typing", "history", "who", "rooms", "ping", "edit", "delete",
    "react", "unreact", "thread",
];

/// Why a frame could not be decoded. Small and allocation-light: this is the hot path's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The request id, when the frame was well-formed enough to read it.
    pub id: Option<RequestId>,
    /// [`ErrorCode::BadFrame`], [`ErrorCode::UnknownType`] or [`ErrorCode::BadRequest`].
    pub code: ErrorCode,
    /// What was wrong, for humans.
    pub detail: String,
}

/// Reads only `id` and `type` of a frame that failed to decode, to explain why.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    id: Option<RequestId>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

impl Codec {
    /// The WebSocket subprotocol name that selects this codec.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Codec::Json => "chatcore.v1.json",
            Codec::MsgPack => "chatcore.v1.msgpack",
        }
    }

    /// The codec a WebSocket subprotocol name selects.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        match name {
            "chatcore.v1.json" => Some(Codec::Json),
            "chatcore.v1.msgpack" => Some(Codec::MsgPack),
            _ => None,
        }
    }

    /// `true` when this codec travels in binary frames.
    pub fn is_binary(self) -> bool {
        matches!(self, Codec::MsgPack)
    }

    /// Encodes any protocol value (an [`Event`] or a [`Request`]).
    pub fn encode<T: Serialize>(self, value: &T) -> Vec<u8> {
        // Our protocol types have only string map keys and no fallible `Serialize` impls, so
        // neither encoder can fail on them.
        match self {
            Codec::Json => serde_json::to_vec(value).expect("protocol types always encode"),
            Codec::MsgPack => rmp_serde::to_vec_named(value).expect("protocol types always encode"),
        }
    }

    /// Decodes a client request, explaining precisely what was wrong when it fails.
    pub fn decode_request(self, bytes: &[u8]) -> Result<Request, DecodeError> {
        match self.decode::<Request>(bytes) {
            Ok(req) => Ok(req),
            Err(detail) => Err(self.explain(bytes, detail)),
        }
    }

    /// Decodes a server event (used by clients).
    pub fn decode_event(self, bytes: &[u8]) -> Result<Event, DecodeError> {
        self.decode::<Event>(bytes).map_err(|detail| DecodeError {
            id: None,
            code: ErrorCode::BadFrame,
            detail,
        })
    }

    fn decode<T: for<'de> Deserialize<'de>>(self, bytes: &[u8]) -> Result<T, String> {
        match self {
            Codec::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Codec::MsgPack => {
                // serde_json stops at 128 levels; MessagePack's decoder would go to 1024, and
                // each level of a buffered tagged frame costs stack: stop it at the same depth.
                let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
                de.set_max_depth(MAX_FRAME_DEPTH);
                T::deserialize(&mut de).map_err(|e| e.to_string())
            }
        }
    }

    fn explain(self, bytes: &[u8], detail: String) -> DecodeError {
        let Ok(probe) = self.decode::<Probe>(bytes) else {
            return DecodeError {
                id: None,
                code: ErrorCode::BadFrame,
                detail: format!("not a {} object: {detail}", self.name()),
            };
        };
        let (code, detail) = match probe.kind.as_deref() {
            None => (ErrorCode::BadFrame, "missing field `type`".to_owned()),
            Some(t) if !COMMAND_TYPES.contains(&t) => {
                (ErrorCode::UnknownType, format!("unknown frame type `{t}`"))
            }
            Some(_) => (ErrorCode::BadRequest, detail),
        };
        DecodeError {
            id: probe.id,
            code,
            detail,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Json => "JSON",
            Codec::MsgPack => "MessagePack",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Command, MessageKind};

    fn send() -> Request {
        Request::new(
            9,
            Command::Send {
                room: "r".into(),
                text: "héllo 👋".into(),
                nonce: Some("n".into()),
                kind: MessageKind::Custom("shop.order".into()),
                reply_to: Some(2),
                data: Some(
                    serde_json::json!({"order": 12, "lines": [{"sku": "A1", "qty": 2}], "paid": true, "total": 9.5})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
            },
        )
    }

    #[test]
    fn both_codecs_round_trip_requests() {
        for codec in [Codec::Json, Codec::MsgPack] {
            let bytes = codec.encode(&send());
            assert_eq!(codec.decode_request(&bytes), Ok(send()), "{codec:?}");
        }
    }

    #[test]
    fn every_command_type_is_listed() {
        let cmds = [
            Command::Join {
                room: "r".into(),
                resume_after: None,
            },
            Command::Leave { room: "r".into() },
            Command::Dm {
                to: "u".into(),
                text: "t".into(),
                nonce: None,
            },
            Command::Typing {
                room: "r".into(),
                on: true,
            },
            Command::History {
                room: "r".into(),
                before: None,
                after: None,
                limit: None,
            },
            Command::Who { room: "r".into() },
            Command::Rooms {},
            Command::Ping {},
        ];
        for cmd in cmds {
            let v = serde_json::to_value(&cmd).expect("encode");
            let t = v["type"].as_str().expect("type");
            assert!(COMMAND_TYPES.contains(&t), "{t}");
        }
    }

    #[test]
    fn malformed_json_is_bad_frame() {
        let err = Codec::Json
            .decode_request(b"{not json")
            .expect_err("must fail");
        assert_eq!(err.code, ErrorCode::BadFrame);
        assert_eq!(err.id, None);
    }

    #[test]
    fn malformed_msgpack_is_bad_frame() {
        let err = Codec::MsgPack
            .decode_request(&[0xc1, 0xff, 0x00])
            .expect_err("must fail");
        assert_eq!(err.code, ErrorCode::BadFrame);
    }

    #[test]
    fn unknown_type_echoes_id() {
        let err = Codec::Json
            .decode_request(br#"{"type":"explode","id":42}"#)
            .expect_err("must fail");
        assert_eq!(err.code, ErrorCode::UnknownType);
        assert_eq!(err.id, Some(42));
    }

    #[test]
    fn missing_field_is_bad_request_with_id() {
        let err = Codec::Json
            .decode_request(br#"{"type":"send","id":5,"room":"r"}"#)
            .expect_err("must fail");
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert_eq!(err.id, Some(5));
        assert!(err.detail.contains("text"), "{}", err.detail);
    }

    #[test]
    fn missing_type_is_bad_frame() {
        let err = Codec::Json
            .decode_request(br#"{"id":5}"#)
            .expect_err("must fail");
        assert_eq!(err.code, ErrorCode::BadFrame);
        assert_eq!(err.id, Some(5));
    }

    #[test]
    fn wrong_field_type_is_bad_request() {
        let err = Codec::Json
            .decode_request(br#"{"type":"typing","room":"r","on":"yes"}"#)
            .expect_err("must fail");
        assert_eq!(err.code, ErrorCode::BadRequest);
    }

    /// A `send` whose `data` is `levels` objects deep, in `codec`'s encoding, written by
    /// hand (encoding a deep value with serde would itself recurse).
    fn deep_send(codec: Codec, levels: usize) -> Vec<u8> {
        match codec {
            Codec::Json => {
                let mut s = String::from(r#"{"type":"send","id":3,"room":"r","text":"t","data":"#);
                s.push_str(&r#"{"a":"#.repeat(levels - 1));
                s.push_str("{}");
                s.push_str(&"}".repeat(levels));
                s.into_bytes()
            }
            Codec::MsgPack => {
                // fixmap of 5: type, id, room, text, data; each level a fixmap of 1.
                // Short strings are fixstr: 0xa0 | length, then the bytes.
                let fixstr = |b: &mut Vec<u8>, s: &str| {
                    b.push(0xa0 | s.len() as u8);
                    b.extend_from_slice(s.as_bytes());
                };
                let mut b = vec![0x85];
                for (k, v) in [("type", "send"), ("room", "r"), ("text", "t")] {
                    fixstr(&mut b, k);
                    fixstr(&mut b, v);
                }
                fixstr(&mut b, "id");
                b.push(3);
                fixstr(&mut b, "data");
                for _ in 1..levels {
                    b.push(0x81);
                    fixstr(&mut b, "a");
                }
                b.push(0x80);
                b
            }
        }
    }

    #[test]
    fn data_decodes_in_both_codecs_up_to_the_frame_depth() {
        for codec in [Codec::Json, Codec::MsgPack] {
            let req = codec
                .decode_request(&deep_send(codec, 100))
                .unwrap_or_else(|e| panic!("{codec:?}: {e:?}"));
            let Command::Send { data: Some(_), .. } = req.command else {
                panic!("{codec:?}: {req:?}");
            };
        }
    }

    /// 10,000 levels of `data` (about 50 KB of JSON, 20 KB of MessagePack) are refused
    /// cleanly by both decoders, on a test thread's 2 MiB stack: no stack overflow. JSON's
    /// probe skips the deep value without recursion and still reads the id (`bad_request`);
    /// MessagePack's cannot read past the nesting either (`bad_frame`, no id).
    #[test]
    fn data_ten_thousand_deep_is_refused_by_both_codecs() {
        for (codec, code, id) in [
            (Codec::Json, ErrorCode::BadRequest, Some(3)),
            (Codec::MsgPack, ErrorCode::BadFrame, None),
        ] {
            let err = codec
                .decode_request(&deep_send(codec, 10_000))
                .expect_err("too deep");
            assert_eq!((err.code, err.id), (code, id), "{codec:?}: {err:?}");
            assert!(
                err.detail.contains("recursion limit") || err.detail.contains("depth limit"),
                "{codec:?}: {}",
                err.detail
            );
        }
    }

    #[test]
    fn data_that_is_not_an_object_is_bad_request() {
        for data in [r#"[1,2]"#, r#""card""#, "7", "true"] {
            let frame = format!(r#"{{"type":"send","id":4,"room":"r","text":"t","data":{data}}}"#);
            let err = Codec::Json
                .decode_request(frame.as_bytes())
                .expect_err("not an object");
            assert_eq!(
                (err.code, err.id),
                (ErrorCode::BadRequest, Some(4)),
                "{data}"
            );
            assert!(err.detail.contains("expected a map"), "{}", err.detail);
        }
        let null = Codec::Json
            .decode_request(br#"{"type":"send","id":4,"room":"r","text":"t","data":null}"#)
            .expect("null is no data");
        assert!(matches!(null.command, Command::Send { data: None, .. }));
    }

    #[test]
    fn subprotocols_round_trip() {
        for c in [Codec::Json, Codec::MsgPack] {
            assert_eq!(Codec::from_subprotocol(c.subprotocol()), Some(c));
        }
        assert_eq!(Codec::from_subprotocol("chatcore.v2.json"), None);
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = Codec::Json.decode_request(&bytes);
            let _ = Codec::MsgPack.decode_request(&bytes);
        }
    }
}
