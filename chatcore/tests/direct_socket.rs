//! Direct writes over real loopback sockets (`chatcore::transport::SocketSink`): a write
//! cut short by a full socket hands back exactly the rest, which the pump then writes.

use std::sync::Arc;
use std::task::{Context, Poll};

use chatcore::ErrorCode;
use chatcore::protocol::{Codec, Event, Frame};
use chatcore::transport::{
    Direct, DirectSink, Framing, LengthPrefixed, PumpWrite, SharedSocket, SocketSink,
};
use chatcore_testkit::{BOUND, tcp_pair};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedWriteHalf;

/// A plain TCP write half, shared as a transport shares it.
#[derive(Debug)]
struct TcpWrite(OwnedWriteHalf);

impl SharedSocket for TcpWrite {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(buf)
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.0.as_ref().poll_write_ready(cx)
    }
}

#[tokio::test]
async fn a_sink_cut_short_by_a_full_socket_hands_back_exactly_the_rest() {
    let (server, mut client) = tcp_pair().await;
    let (_read, write) = server.into_split();
    let write = Arc::new(TcpWrite(write));
    let sink = SocketSink::new(Arc::clone(&write), LengthPrefixed);
    // An odd size, so a nearly full socket takes part of a frame rather than none of it.
    let frame = Frame::new(Event::error(None, ErrorCode::BadFrame, "x".repeat(100_003)));
    let mut framed = Vec::new();
    LengthPrefixed
        .push(&mut framed, &frame, Codec::Json)
        .expect("framed");
    let mut expected = Vec::new();
    let mut rest = None;
    for _ in 0..10_000 {
        match sink.try_write(&[Arc::clone(&frame)], Codec::Json) {
            Direct::Written => expected.extend_from_slice(&framed),
            Direct::Partial(left) => {
                expected.extend_from_slice(&framed);
                rest = Some(left);
                break;
            }
            Direct::Refused => panic!("a full socket took nothing: no partial write to test"),
        }
    }
    let rest = rest.expect("the socket filled up");
    assert!(
        !rest.is_empty() && rest.len() < framed.len(),
        "{}",
        rest.len()
    );
    assert_eq!(
        sink.try_write(&[Arc::clone(&frame)], Codec::Json),
        Direct::Refused,
        "a full socket takes nothing more"
    );
    let reading = tokio::spawn(async move {
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.expect("read");
        got
    });
    let mut shared = Arc::clone(&write);
    shared.write_all(&rest).await.expect("the rest");
    drop((sink, shared));
    drop(Arc::try_unwrap(write).expect("the last reference")); // FIN
    let got = tokio::time::timeout(BOUND, reading)
        .await
        .expect("read in time")
        .expect("no panic");
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the bytes, whole and in order");
}
