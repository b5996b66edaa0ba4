//! Contract 6: bad input gets an error frame with a stable code and the request id; no panic,
//! no harm to other sessions, no partial write.

use chatcore::ErrorCode;
use chatcore::protocol::{Codec, Command, Event, MessageKind, Request};
use chatcore::store::HistoryQuery;
use chatcore_testkit::{SessionProbe, dm, memory_hub};

async fn error_frame(c: &mut SessionProbe) -> (Option<u64>, ErrorCode) {
    match c.event().await {
        Event::Error {
            id, code, message, ..
        } => {
            assert!(!message.is_empty(), "errors explain themselves");
            (id, code)
        }
        e => panic!("expected error, got {e:?}"),
    }
}

#[tokio::test]
async fn malformed_frames_get_error_frames() {
    let hub = memory_hub().await;
    let mut c = SessionProbe::connect(&hub, "ann").await;
    let cases: &[(&[u8], Option<u64>, ErrorCode)] = &[
        (b"{not json", None, ErrorCode::BadFrame),
        (b"", None, ErrorCode::BadFrame),
        (b"[1,2,3]", None, ErrorCode::BadFrame),
        (br#"{"id":4}"#, Some(4), ErrorCode::BadFrame),
        (
            br#"{"type":"explode","id":5}"#,
            Some(5),
            ErrorCode::UnknownType,
        ),
        (
            br#"{"type":"send","id":6,"room":"r"}"#,
            Some(6),
            ErrorCode::BadRequest,
        ),
        (
            br#"{"type":"join","id":7,"room":5}"#,
            Some(7),
            ErrorCode::BadRequest,
        ),
        (
            br#"{"type":"history","id":8,"room":"r","limit":-1}"#,
            Some(8),
            ErrorCode::BadRequest,
        ),
        (&[0xff, 0xfe, 0x00], None, ErrorCode::BadFrame),
    ];
    for (bytes, id, code) in cases {
        c.session.handle_frame(bytes).await;
        assert_eq!(
            error_frame(&mut c).await,
            (*id, *code),
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert_eq!(c.session.close_reason(), None);
}

#[tokio::test]
async fn malformed_msgpack_gets_error_frames() {
    let hub = memory_hub().await;
    let mut c = SessionProbe::connect_with(&hub, "ann", Codec::MsgPack).await;
    c.session.handle_frame(&[0xc1]).await;
    assert_eq!(error_frame(&mut c).await, (None, ErrorCode::BadFrame));
    let unknown = Codec::MsgPack.encode(&serde_json::json!({"type": "nope", "id": 3}));
    c.session.handle_frame(&unknown).await;
    assert_eq!(error_frame(&mut c).await, (Some(3), ErrorCode::UnknownType));
    let ping = Codec::MsgPack.encode(&Request::new(9, Command::Ping {}));
    c.session.handle_frame(&ping).await;
    assert_eq!(c.event().await, Event::Pong { id: Some(9) });
}

#[tokio::test]
async fn invalid_commands_get_typed_errors_and_write_nothing() {
    let hub = memory_hub().await;
    let mut c = SessionProbe::connect(&hub, "ann").await;
    let mut other = SessionProbe::connect(&hub, "bob").await;
    other.join("r").await;
    let send = |room: &str, text: String, nonce: Option<String>, kind| Command::Send {
        room: room.into(),
        text,
        nonce,
        kind,
        reply_to: None,
        data: None,
    };
    // Not joined yet.
    let id = c
        .request(send("r", "hi".into(), None, MessageKind::Text))
        .await;
    assert_eq!(c.error(id).await, ErrorCode::NotMember);
    c.join("r").await;
    let max = hub.limits().max_text_bytes;
    let cases = [
        (
            send("r", String::new(), None, MessageKind::Text),
            ErrorCode::Invalid,
        ),
        (
            send("r", " \n\t".into(), None, MessageKind::Text),
            ErrorCode::Invalid,
        ),
        (
            send("r", "x".repeat(max + 1), None, MessageKind::Text),
            ErrorCode::TooLarge,
        ),
        (
            send("r", "x".repeat(1 << 20), None, MessageKind::Text),
            ErrorCode::TooLarge,
        ),
        (
            send("r", "x".into(), Some(String::new()), MessageKind::Text),
            ErrorCode::Invalid,
        ),
        (
            send("r", "x".into(), Some("n".repeat(1000)), MessageKind::Text),
            ErrorCode::Invalid,
        ),
        (
            send("r", "x".into(), None, MessageKind::Unknown),
            ErrorCode::Invalid,
        ),
        (
            send("elsewhere", "x".into(), None, MessageKind::Text),
            ErrorCode::NotMember,
        ),
        (
            Command::Join {
                room: "bad room".into(),
                resume_after: None,
            },
            ErrorCode::Invalid,
        ),
        (
            Command::Join {
                room: "x".repeat(65),
                resume_after: None,
            },
            ErrorCode::Invalid,
        ),
        (
            Command::Join {
                room: "nul\0".into(),
                resume_after: None,
            },
            ErrorCode::Invalid,
        ),
        (
            Command::Join {
                room: "dm:bob:eve".into(),
                resume_after: None,
            },
            ErrorCode::Forbidden,
        ),
        (
            Command::Join {
                room: "r".into(),
                resume_after: None,
            },
            ErrorCode::Invalid,
        ),
        (
            Command::Leave {
                room: "never".into(),
            },
            ErrorCode::NotMember,
        ),
        (
            Command::Typing {
                room: "never".into(),
                on: true,
            },
            ErrorCode::NotMember,
        ),
        (
            Command::History {
                room: "ghost".into(),
                before: None,
                after: None,
                limit: None,
            },
            ErrorCode::UnknownRoom,
        ),
        (
            Command::History {
                room: "r".into(),
                before: Some(3),
                after: Some(5),
                limit: None,
            },
            ErrorCode::BadCursor,
        ),
        (
            Command::Who {
                room: "ghost".into(),
            },
            ErrorCode::UnknownRoom,
        ),
        (dm("bad name", "x"), ErrorCode::Invalid),
    ];
    for (cmd, code) in cases {
        let shown = format!("{cmd:?}");
        let id = c.request(cmd).await;
        assert_eq!(c.error(id).await, code, "{shown:.120}");
    }
    let page = hub
        .store()
        .history("r", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert!(page.messages.is_empty(), "no bad input reached the store");
    assert!(hub.store().room("bad room").await.expect("room").is_none());
    // The other session was not harmed and the bad one still works.
    assert_eq!(other.session.close_reason(), None);
    c.send("r", "fine").await;
    assert_eq!(other.messages("r", 1).await[0].text, "fine");
}

#[tokio::test]
async fn private_history_is_forbidden_to_outsiders() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let id = ann.request(dm("bob", "secret")).await;
    assert!(matches!(ann.reply(id).await, Event::Ack { .. }));
    let mut eve = SessionProbe::connect(&hub, "eve").await;
    let room = chatcore::names::dm_room("ann", "bob");
    let id = eve
        .request(Command::History {
            room: room.clone(),
            before: None,
            after: None,
            limit: None,
        })
        .await;
    assert_eq!(eve.error(id).await, ErrorCode::Forbidden);
    let id = eve
        .request(Command::Join {
            room,
            resume_after: None,
        })
        .await;
    assert_eq!(eve.error(id).await, ErrorCode::Forbidden);
}
