//! Malformed, oversized, abusive and unauthorized input over real sockets. Each case checks
//! its error frame, close code or HTTP status, and then that the server still serves.

use std::time::Duration;

use chatcore::Hub;
use chatcore::protocol::{Codec, Command, Event, RoomKind};
use chatcore::store::{NewRoom, Role};
use chatcore_testkit::*;
use chatcore_transport_ws::WsConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// Sends one raw frame and returns the next event, which must be an error.
async fn error_for(client: &mut Probe, message: Message) -> (String, Option<u64>) {
    client.send_raw(message).await;
    match client.next().await.expect("an error frame, not a close") {
        Event::Error { code, id, .. } => (code.as_str().to_owned(), id),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The connection is still usable after an error frame.
async fn still_open(client: &mut Probe) {
    let id = client.request(Command::Ping {}).await;
    assert!(matches!(client.reply(id).await, Event::Pong { .. }));
}

#[tokio::test]
async fn malformed_frames_get_error_frames_and_the_connection_stays() {
    let server = TestServer::start().await;
    let mut c = Probe::guest(&server, "ann").await;
    let cases = [
        ("{not json", "bad_frame", None),
        ("[1,2,3]", "bad_frame", None),
        (r#"{"id":3}"#, "bad_frame", Some(3)),
        (r#"{"type":"explode","id":42}"#, "unknown_type", Some(42)),
        (
            r#"{"type":"send","id":5,"room":"general"}"#,
            "bad_request",
            Some(5),
        ),
        (
            r#"{"type":"typing","id":6,"room":"general","on":"yes"}"#,
            "bad_request",
            Some(6),
        ),
        (
            r#"{"type":"react","id":7,"room":"general","target":-1,"emoji":"👍"}"#,
            "bad_request",
            Some(7),
        ),
        (
            r#"{"type":"edit","id":8,"room":"general","target":"1","text":"x"}"#,
            "bad_request",
            Some(8),
        ),
        (
            r#"{"type":"delete","id":9,"room":"general","target":18446744073709551616}"#,
            "bad_request",
            Some(9),
        ),
        (
            r#"{"type":"unreact","id":10,"room":"general","target":1}"#,
            "bad_request",
            Some(10),
        ),
        (
            r#"{"type":"thread","id":11,"room":"general","root":1,"limit":-5}"#,
            "bad_request",
            Some(11),
        ),
    ];
    for (text, code, id) in cases {
        let got = error_for(&mut c, Message::text(text)).await;
        assert_eq!(got, (code.to_owned(), id), "{text}");
    }
    // A binary frame on the JSON codec is refused without closing the connection.
    let got = error_for(
        &mut c,
        Message::binary(Codec::MsgPack.encode(&serde_json::json!({"type":"ping"}))),
    )
    .await;
    assert_eq!(got.0, "bad_frame");
    still_open(&mut c).await;
    still_serves(&server).await;
}

#[tokio::test]
async fn malformed_msgpack_gets_error_frames() {
    let server = TestServer::start().await;
    let mut c = Probe::open(&server, "?user=ann", Codec::MsgPack, true).await;
    let got = error_for(&mut c, Message::binary(vec![0xc1, 0xff, 0x00])).await;
    assert_eq!(got, ("bad_frame".to_owned(), None));
    let unknown = Codec::MsgPack.encode(&serde_json::json!({"type": "explode", "id": 7}));
    assert_eq!(
        error_for(&mut c, Message::binary(unknown)).await,
        ("unknown_type".to_owned(), Some(7))
    );
    let missing = Codec::MsgPack.encode(&serde_json::json!({"type": "join", "id": 8}));
    assert_eq!(
        error_for(&mut c, Message::binary(missing)).await,
        ("bad_request".to_owned(), Some(8))
    );
    // Text on the MessagePack codec.
    let got = error_for(&mut c, Message::text(r#"{"type":"ping"}"#)).await;
    assert_eq!(got.0, "bad_frame");
    still_open(&mut c).await;
    still_serves(&server).await;
}

#[tokio::test]
async fn text_over_the_hubs_limit_is_too_large_and_not_stored() {
    let server = TestServer::start().await;
    let mut c = Probe::guest(&server, "ann").await;
    c.join("general").await;
    let id = c
        .request(send("general", &"x".repeat(10 * 1024), None))
        .await;
    assert_eq!(error_code(&c.reply(id).await), Some("too_large"));
    let info = get(server.addr, "/api/rooms/general").await.json();
    assert_eq!(info["last_seq"], 0, "nothing was stored");
    still_open(&mut c).await;
    still_serves(&server).await;
}

#[tokio::test]
async fn a_one_mebibyte_message_is_closed_with_1009() {
    let server = TestServer::start().await;
    let mut c = Probe::guest(&server, "ann").await;
    let huge = "x".repeat(1024 * 1024);
    c.send_raw(Message::text(huge)).await;
    // The close frame arrives: the server drains the rest instead of resetting.
    assert_eq!(c.close_code().await, Some(1009));
    still_serves(&server).await;
}

#[tokio::test]
async fn fragments_adding_up_past_the_limit_are_closed_with_1009() {
    let server = TestServer::start().await;
    let mut c = Probe::guest(&server, "ann").await;
    let part = vec![b'x'; 40 * 1024];
    c.send_raw(Message::Frame(Frame::message(
        part.clone(),
        OpCode::Data(Data::Text),
        false,
    )))
    .await;
    c.send_raw(Message::Frame(Frame::message(
        part,
        OpCode::Data(Data::Continue),
        true,
    )))
    .await;
    assert_eq!(c.close_code().await, Some(1009));
    still_serves(&server).await;
}

#[tokio::test]
async fn invalid_utf8_is_closed_with_1007() {
    let server = TestServer::start().await;
    let mut c = Probe::guest(&server, "ann").await;
    let bad = Frame::message(vec![b'{', 0xc3, 0x28, b'}'], OpCode::Data(Data::Text), true);
    c.send_raw(Message::Frame(bad)).await;
    assert_eq!(c.close_code().await, Some(1007));
    still_serves(&server).await;
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_closed_with_1008_without_harming_others() {
    let config = WsConfig::default()
        .with_rate_limit(5, 10, 20)
        .expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let mut bystander = Probe::guest(&server, "bob").await;
    bystander.join("general").await;
    let mut flooder = Probe::guest(&server, "mallory").await;
    for i in 0..200u64 {
        let frame = flooder
            .frame(Codec::Json.encode(&chatcore::protocol::Request::new(i, Command::Ping {})));
        if tokio::time::timeout(BOUND, futures::SinkExt::feed(&mut flooder.ws, frame))
            .await
            .map_or(true, |r| r.is_err())
        {
            break; // the server already closed
        }
    }
    let _ = futures::SinkExt::flush(&mut flooder.ws).await;
    let mut limited = 0;
    let code = loop {
        match flooder.next().await {
            Ok(Event::Error { code, .. }) => {
                assert_eq!(code.as_str(), "rate_limited");
                limited += 1;
            }
            Ok(_) => {}
            Err(code) => break code,
        }
    };
    assert!(limited >= 1, "rate_limited errors came first");
    assert_eq!(code, Some(1008));
    // The bystander never noticed.
    bystander.say("general", "unaffected").await;
    still_serves(&server).await;
}

#[tokio::test]
async fn bad_tokens_and_guests_are_refused_before_the_upgrade() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(false)), ws_config()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();

    let forged = chatcore::auth::JwtAuthenticator::new(b"another-secret-another-secret-xx")
        .expect("secret")
        .sign("ann", Duration::from_secs(600))
        .expect("sign");
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"sub": "ann", "exp": now - 60, "iat": now - 120}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .expect("encode");
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(format!(r#"{{"sub":"ann","exp":{}}}"#, now + 600).as_bytes())
    );
    for (what, query, needle) in [
        ("forged", format!("?token={forged}"), "invalid token"),
        ("expired", format!("?token={expired}"), "xpired"),
        ("alg none", format!("?token={none}"), "invalid token"),
        ("garbage", "?token=abc".to_owned(), "invalid token"),
        ("guest", "?user=ann".to_owned(), "guests are not allowed"),
        ("nothing", String::new(), "missing credentials"),
    ] {
        let (status, body) = refusal(open(&server.ws_url(&query), None, &[]).await);
        assert_eq!(status, 401, "{what}: {body}");
        assert!(body.contains(needle), "{what}: {body}");
        assert!(body.contains("\"unauthorized\""), "{what}: {body}");
    }
    let (status, _) = refusal(
        open(
            &server.ws_url(""),
            None,
            &[("Authorization", "Basic YW5uOnB3")],
        )
        .await,
    );
    assert_eq!(status, 401);
    let mut ok = Probe::with_token(&server, "ann").await;
    ok.join("general").await;
    ok.say("general", "still serving").await;
}

#[tokio::test]
async fn rooms_one_may_not_read_stay_closed() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(false)), ws_config()).await;
    let store = server.hub.store();
    store
        .create_room(NewRoom {
            name: "staff".into(),
            kind: RoomKind::Private,
            creator: "ann".into(),
            created: chatcore::now_millis(),
        })
        .await
        .expect("room");
    store
        .add_member("staff", "ann", Role::Owner)
        .await
        .expect("member");

    let mut carol = Probe::with_token(&server, "carol").await;
    for command in [
        Command::Join {
            room: "staff".into(),
            resume_after: None,
        },
        Command::History {
            room: "staff".into(),
            before: None,
            after: None,
            limit: None,
        },
        Command::Join {
            room: "dm:ann:bob".into(),
            resume_after: None,
        },
    ] {
        let id = carol.request(command.clone()).await;
        let reply = carol.reply(id).await;
        assert!(
            matches!(error_code(&reply), Some("forbidden")),
            "{command:?} → {reply:?}"
        );
    }
    // Over REST a private room is unknown to non-members, as one that does not exist.
    for r in [
        get_as(server.addr, "/api/rooms/staff/messages", &token("carol")).await,
        get_as(server.addr, "/api/rooms/staff", &token("carol")).await,
        get(server.addr, "/api/rooms/staff/messages").await,
    ] {
        assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_room"));
    }
    let r = get_as(server.addr, "/api/rooms/staff/messages", &token("ann")).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let mut ann = Probe::with_token(&server, "ann").await;
    ann.join("staff").await;
    ann.say("staff", "members only").await;
    still_open(&mut carol).await;
}
