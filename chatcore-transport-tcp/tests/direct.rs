//! Direct writes (the hub writing a plain TCP socket from the reader's task while the writer
//! is idle) against a client that sends much and reads nothing for a while.

mod common;

use chatcore::protocol::Codec;
use chatcore_testkit::SentBack;
use common::*;
use tokio::io::AsyncWriteExt;

/// A room of one: each `send` is answered with the sender's own copy and the ack, corked and
/// written by the connection's reader while the socket takes them. The client writes all its
/// requests before it reads a byte, so the replies (24 MB) fill both sockets' buffers: direct
/// writes are cut short or refused and the writer takes over, the rest of a cut-short write
/// first.
#[tokio::test]
async fn corked_replies_that_outrun_a_client_that_does_not_read_arrive_whole_and_in_order() {
    const SENDS: u64 = 400;
    let (hub, config) = unthrottled();
    let server = TestServer::with(hub, config).await;
    let mut ann = Client::guest(&server, "ann", Codec::Json).await;
    ann.join("r").await;
    let body = |i: u64| format!("{i:08}{}", "y".repeat(60_000));
    let requests = framed_sends("r", SENDS, 1_000, body);
    tokio::time::timeout(BOUND, ann.stream.write_all(&requests))
        .await
        .expect("the server reads on while its replies wait")
        .expect("write");
    let mut back = SentBack::new();
    while !back.has(SENDS) {
        back.take(ann.next().await.expect("the connection stays"));
    }
    back.assert_in_order(SENDS, 1_000, body);
}
