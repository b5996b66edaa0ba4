//! Bad input after the handshake gets the WebSocket transport's answers, over real sockets.

mod common;

use chatcore::protocol::{Codec, Command, Event};
use common::*;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn malformed_frames_get_bad_frame_and_the_connection_stays() {
    let server = TestServer::start().await;
    for codec in [Codec::Json, Codec::MsgPack] {
        let mut c = Client::guest(&server, "ann", codec).await;
        c.send_payload(b"\xc1{not a frame").await;
        let error = c.until(|e| error_code(&e).map(str::to_owned)).await;
        assert_eq!(error, "bad_frame");
        let id = c.request(Command::Ping {}).await;
        assert_eq!(c.reply(id).await, Event::Pong { id: Some(id) });
    }
}

#[tokio::test]
async fn a_frame_in_the_other_codec_is_bad_frame() {
    let server = TestServer::start().await;
    let mut c = Client::guest(&server, "ann", Codec::MsgPack).await;
    c.send_payload(br#"{"type":"ping","id":1}"#).await;
    let error = c.until(|e| error_code(&e).map(str::to_owned)).await;
    assert_eq!(error, "bad_frame");
    let mut j = Client::guest(&server, "bob", Codec::Json).await;
    let ping = Codec::MsgPack.encode(&chatcore::protocol::Request::new(1, Command::Ping {}));
    j.send_payload(&ping).await;
    let error = j.until(|e| error_code(&e).map(str::to_owned)).await;
    assert_eq!(error, "bad_frame");
}

#[tokio::test]
async fn unknown_commands_and_missing_fields_echo_the_request_id() {
    let server = TestServer::start().await;
    let mut c = Client::guest(&server, "ann", Codec::Json).await;
    c.send_payload(br#"{"type":"explode","id":42}"#).await;
    let e = c.reply(42).await;
    assert_eq!(error_code(&e), Some("unknown_type"), "{e:?}");
    c.send_payload(br#"{"type":"send","id":43,"room":"r"}"#)
        .await;
    let e = c.reply(43).await;
    assert_eq!(error_code(&e), Some("bad_request"), "{e:?}");
}

#[tokio::test]
async fn an_oversized_length_prefix_closes_with_1009_before_the_payload() {
    let server = TestServer::start().await;
    let mut c = Client::guest(&server, "ann", Codec::Json).await;
    // Announce 1 MiB, send none of it: the server must not wait for (or buffer) it.
    c.stream
        .write_all(&(1u32 << 20).to_be_bytes())
        .await
        .expect("write");
    match c.ended().await {
        Ended::Close(1009, reason) => assert!(reason.contains("1048576"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Others are unaffected.
    let mut bob = Client::guest(&server, "bob", Codec::Json).await;
    bob.join("general").await;
}

#[tokio::test]
async fn a_client_that_ends_its_side_gets_a_normal_close() {
    let server = TestServer::start().await;
    let mut c = Client::guest(&server, "ann", Codec::Json).await;
    c.stream.shutdown().await.expect("FIN");
    assert_eq!(c.ended().await, Ended::Close(1000, "session closed".into()));
}
