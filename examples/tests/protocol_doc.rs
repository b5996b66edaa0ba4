//! PROTOCOL.md says what the server really sends and accepts: every ```json block in it must
//! decode with chatcore's codec as a request, an event or a TCP control frame (`hello`,
//! `close`), with no field the types do not know (a typo would otherwise be silently
//! ignored), and the MessagePack and TCP framing bytes it shows must be what the codecs
//! produce.

use chatcore::protocol::{Codec, Command, Event, Request};
use chatcore::transport::framed::{self, Control};
use serde_json::Value;

const PROTOCOL_MD: &str = include_str!("../../PROTOCOL.md");

/// The contents of every fenced block whose info string is exactly `lang`.
fn blocks(lang: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in PROTOCOL_MD.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut current, fence) {
            (None, Some(info)) if info.trim() == lang => current = Some((n + 1, String::new())),
            (Some(_), Some(_)) => out.extend(current.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// `true` when every key of `doc` appears in `real` with the same value, recursively (the
/// encoder may add fields with defaults that a document leaves out).
fn subset(doc: &Value, real: &Value) -> bool {
    match (doc, real) {
        (Value::Object(d), Value::Object(r)) => d
            .iter()
            .all(|(k, v)| r.get(k).is_some_and(|rv| subset(v, rv))),
        (Value::Array(d), Value::Array(r)) => {
            d.len() == r.len() && d.iter().zip(r).all(|(a, b)| subset(a, b))
        }
        _ => doc == real,
    }
}

#[test]
fn every_json_example_is_a_real_frame() {
    let examples = blocks("json");
    assert!(
        examples.len() >= 25,
        "found only {} examples",
        examples.len()
    );
    let (mut requests, mut events, mut controls) = (0, 0, 0);
    for (line, text) in examples {
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("PROTOCOL.md:{line}: not JSON: {e}\n{text}"));
        let bytes = text.as_bytes();
        let as_request = Codec::Json
            .decode_request(bytes)
            .ok()
            .map(|r| serde_json::to_value(r).expect("encode"));
        let as_event = Codec::Json
            .decode_event(bytes)
            .ok()
            .map(|e| serde_json::to_value(e).expect("encode"));
        let as_control = serde_json::from_slice::<Control>(bytes)
            .ok()
            .map(|c| serde_json::to_value(c).expect("encode"));
        let request_fits = as_request.as_ref().is_some_and(|r| subset(&doc, r));
        let event_fits = as_event.as_ref().is_some_and(|e| subset(&doc, e));
        let control_fits = as_control.as_ref().is_some_and(|c| subset(&doc, c));
        assert!(
            request_fits || event_fits || control_fits,
            "PROTOCOL.md:{line}: not a frame chatcore reads back unchanged\n{text}\n\
             as request: {as_request:?}\nas event: {as_event:?}"
        );
        requests += usize::from(request_fits);
        events += usize::from(event_fits);
        controls += usize::from(control_fits);
    }
    assert!(
        requests >= 9 && events >= 14 && controls >= 4,
        "{requests} requests, {events} events, {controls} TCP control frames"
    );
}

#[test]
fn every_frame_type_is_documented() {
    for t in [
        "join", "leave", "send", "dm", "typing", "history", "who", "rooms", "ping",
    ] {
        assert!(
            PROTOCOL_MD.contains(&format!("### `{t}`")),
            "command {t} lacks a section"
        );
    }
    for t in [
        "welcome",
        "joined",
        "left",
        "message",
        "ack",
        "error",
        "user_joined",
        "presence",
        "online_count",
        "typing",
        "history",
        "rooms",
        "pong",
    ] {
        assert!(
            PROTOCOL_MD.contains(&format!("### `{t}`")),
            "event {t} lacks a section"
        );
    }
    for code in [
        "bad_frame",
        "unknown_type",
        "bad_request",
        "invalid",
        "too_large",
        "unknown_room",
        "not_member",
        "forbidden",
        "bad_cursor",
        "bad_query",
        "unauthorized",
        "rate_limited",
        "unavailable",
        "internal",
    ] {
        assert!(
            PROTOCOL_MD.contains(&format!("| `{code}` |")),
            "error code {code} lacks a row"
        );
    }
    use chatcore::transport::close;
    for code in [
        close::NORMAL,
        close::GOING_AWAY,
        close::PROTOCOL_ERROR,
        close::INVALID_PAYLOAD,
        close::POLICY,
        close::TOO_BIG,
        close::INTERNAL,
        close::IDLE_TIMEOUT,
        close::SLOW_CONSUMER,
        close::TRY_AGAIN_LATER,
        close::UNAUTHORIZED,
        close::HANDSHAKE_TIMEOUT,
    ] {
        assert!(
            PROTOCOL_MD.contains(&format!("| {code} |")),
            "close code {code} lacks a row"
        );
    }
}

/// The bytes of the hex line that starts with `prefix` in a ```text block.
fn hex_line(prefix: &str) -> Vec<u8> {
    let line = blocks("text")
        .into_iter()
        .find_map(|(_, b)| {
            b.lines()
                .find_map(|l| l.strip_prefix(prefix))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("a `{prefix}` line"));
    line.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).expect("hex byte"))
        .collect()
}

#[test]
fn messagepack_example_bytes_are_real() {
    let ping = hex_line("ping:");
    assert_eq!(
        Codec::MsgPack.decode_request(&ping),
        Ok(Request::new(1, Command::Ping {}))
    );
    let pong = Codec::MsgPack.encode(&Event::Pong { id: Some(1) });
    let shown: Vec<String> = pong.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex_line("pong:"),
        pong,
        "PROTOCOL.md should show: pong: {}",
        shown.join(" ")
    );
}

#[test]
fn tcp_framing_example_bytes_are_real() {
    let mut wire = bytes::BytesMut::from(&hex_line("framed:")[..]);
    let payload = framed::decode(&mut wire, 1024)
        .expect("within the limit")
        .expect("a whole frame");
    assert!(wire.is_empty(), "exactly one frame");
    assert_eq!(
        Codec::Json.decode_request(&payload),
        Ok(Request::new(1, Command::Ping {}))
    );
    let mut keepalive = bytes::BytesMut::from(&hex_line("keep-alive:")[..]);
    let empty = framed::decode(&mut keepalive, 1024)
        .expect("ok")
        .expect("a frame");
    assert!(empty.is_empty());
}
