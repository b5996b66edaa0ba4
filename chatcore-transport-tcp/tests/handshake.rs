//! The TCP handshake over real sockets: hello, codecs, credentials, refusals.

mod common;

use std::time::Duration;

use chatcore::Hub;
use chatcore::auth::JwtAuthenticator;
use chatcore::protocol::{Codec, Event};
use chatcore::transport::framed::Hello;
use chatcore_transport_tcp::TcpConfig;
use common::*;
use tokio::io::AsyncWriteExt;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn json_and_msgpack_users_chat_in_one_room() {
    let server = TestServer::start().await;
    let mut ann = Client::guest(&server, "ann", Codec::Json).await;
    let mut bob = Client::guest(&server, "bob", Codec::MsgPack).await;
    ann.join("general").await;
    bob.join("general").await;
    let ack = ann.say("general", "hello over tcp").await;
    assert!(matches!(ack, Event::Ack { seq: 1, .. }), "{ack:?}");
    let text = bob
        .until(|e| match e {
            Event::Message(m) => Some(m.text),
            _ => None,
        })
        .await;
    assert_eq!(text, "hello over tcp");
    assert_eq!(server.transport.open_connections(), 2);
}

#[tokio::test]
async fn requests_pipelined_behind_the_hello_are_handled() {
    let server = TestServer::start().await;
    let mut c = Client::connect(&server).await;
    let mut hello = Hello::new(Codec::Json);
    hello.user = Some("ann".into());
    c.hello(&hello).await;
    let id = c.request(chatcore::protocol::Command::Ping {}).await;
    assert!(matches!(c.next().await, Ok(Event::Welcome { .. })));
    assert_eq!(c.reply(id).await, Event::Pong { id: Some(id) });
}

#[tokio::test]
async fn tokens_are_checked_and_guests_refused_when_not_allowed() {
    let auth = JwtAuthenticator::new(SECRET).expect("jwt");
    let token = auth.sign("carol", Duration::from_secs(60)).expect("token");
    let server = TestServer::with(Hub::builder().authenticator(auth), TcpConfig::default()).await;

    let mut guest = Client::connect(&server).await;
    let mut hello = Hello::new(Codec::Json);
    hello.user = Some("mallory".into());
    guest.hello(&hello).await;
    match guest.ended().await {
        Ended::Close(4401, reason) => {
            assert!(reason.contains("guests are not allowed"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    let mut forged = Client::connect(&server).await;
    let mut hello = Hello::new(Codec::MsgPack);
    hello.token = Some("not.a.jwt".into());
    forged.hello(&hello).await;
    assert!(matches!(forged.ended().await, Ended::Close(4401, _)));

    let mut carol = Client::connect(&server).await;
    let mut hello = Hello::new(Codec::MsgPack);
    hello.token = Some(token);
    carol.hello(&hello).await;
    match carol.next().await {
        Ok(Event::Welcome { user, .. }) => assert_eq!(user, "carol"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_hello_this_server_does_not_speak_is_a_protocol_error() {
    let server = TestServer::start().await;
    for (payload, expect) in [
        (&br#"{"type":"join","room":"general"}"#[..], "first frame"),
        (
            br#"{"type":"hello","protocol":2,"codec":"json","user":"a"}"#,
            "protocol 2",
        ),
        (
            br#"{"type":"hello","protocol":1,"codec":"cbor","user":"a"}"#,
            "cbor",
        ),
        (b"\x81\xa4type\xa5hello", "first frame"),
    ] {
        let mut c = Client::connect(&server).await;
        c.send_payload(payload).await;
        match c.ended().await {
            Ended::Close(1002, reason) => assert!(reason.contains(expect), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn garbage_before_the_hello_reads_as_an_oversized_frame() {
    let server = TestServer::start().await;
    let mut c = Client::connect(&server).await;
    c.stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    match c.ended().await {
        Ended::Close(1009, reason) => assert!(reason.contains("limit is 65536"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_handshake_that_never_completes_is_closed() {
    let config = TcpConfig::default()
        .with_handshake_timeout(Duration::from_millis(300))
        .expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let mut silent = Client::connect(&server).await;
    assert!(matches!(silent.ended().await, Ended::Close(4408, _)));

    // A trickle: a byte every 50 ms never makes a hello in time.
    let mut trickle = Client::connect(&server).await;
    let frame = {
        let mut hello = Hello::new(Codec::Json);
        hello.user = Some("slow".into());
        let mut out = bytes::BytesMut::new();
        chatcore::transport::framed::encode(&hello.to_json(), &mut out).expect("frame");
        out
    };
    let writer = async {
        for byte in frame.iter() {
            if trickle.stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    assert!(matches!(trickle.ended().await, Ended::Close(4408, _)));
    // Their slots are given back once the peers hang up.
    drop((silent, trickle));
    let freed = async {
        while server.transport.open_connections() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(BOUND, freed)
        .await
        .expect("slots freed");
}
