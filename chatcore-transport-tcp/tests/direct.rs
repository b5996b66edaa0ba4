//! Direct writes (the hub writing a plain TCP socket from the reader's task while the writer
//! is idle) against a client that sends much and reads nothing for a while.

mod common;

use chatcore::protocol::{Codec, Request};
use chatcore::transport::RateLimit;
use chatcore::transport::framed;
use chatcore::{Hub, Limits};
use chatcore_testkit::SentBack;
use chatcore_transport_tcp::TcpConfig;
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
    let limits = Limits::default()
        .without_rate_limits()
        .with_max_text_bytes(64 * 1024)
        .expect("limits");
    let fast = RateLimit::new(100_000, 100_000, 1_000).expect("limit");
    let config = TcpConfig::default().with_rate_limit(fast);
    let server = TestServer::with(Hub::builder().limits(limits), config).await;
    let mut ann = Client::guest(&server, "ann", Codec::Json).await;
    ann.join("r").await;
    let body = |i: u64| format!("{i:08}{}", "y".repeat(60_000));
    let mut requests = Vec::new();
    for i in 0..SENDS {
        let send = chatcore_testkit::send("r", &body(i), None);
        let payload = Codec::Json.encode(&Request::new(1_000 + i, send));
        framed::encode(&payload, &mut requests).expect("frame");
    }
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
