//! Codec encode/decode of the two hot frames: a server `message` event (encoded once per
//! fan-out) and a client `send` request (decoded once per message).
//!
//! `cargo bench -p chatcore-benches --bench codec`

#![allow(missing_docs)]

use chatcore::protocol::{Codec, Command, Event, Message, MessageKind, Request};
use criterion::{Criterion, criterion_group, criterion_main};

fn message() -> Event {
    Event::Message(Message {
        room: "general".into(),
        seq: 123_456,
        id: "01JD5Z1X4K3Q9W8E7R6T5Y4U3I".into(),
        sender: "alice".into(),
        kind: MessageKind::Text,
        text: "x".repeat(100),
        ts: 1_763_900_000_000,
        nonce: Some("c5f1b2".into()),
        reply_to: None,
        data: None,
        ..Default::default()
    })
}

fn send() -> Request {
    Request::new(
        42,
        Command::Send {
            room: "general".into(),
            text: "x".repeat(100),
            nonce: Some("c5f1b2".into()),
            kind: MessageKind::Text,
            reply_to: None,
            data: None,
        },
    )
}

fn codec(c: &mut Criterion) {
    let event = message();
    let request = send();
    for codec in [Codec::Json, Codec::MsgPack] {
        c.bench_function(&format!("encode_message_event/{codec:?}"), |b| {
            b.iter(|| codec.encode(std::hint::black_box(&event)))
        });
        let bytes = codec.encode(&request);
        c.bench_function(&format!("decode_send_request/{codec:?}"), |b| {
            b.iter(|| codec.decode_request(std::hint::black_box(&bytes)))
        });
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
