//! Tests that read the server's bytes as they come: whole unmasked frames, a pong answered
//! between them, and nothing after the reply to a peer's close (RFC 6455 §5.5.1), which the
//! writer must see to because it, not the WebSocket library, writes data frames.

use chatcore::transport::Split;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control as Ctl, Data, OpCode};

use super::*;

/// A short final client frame, masked as RFC 6455 requires of clients.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126, "short frames only");
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    out
}

/// The client's end of the pipe, read frame by frame.
struct RawClient {
    io: DuplexStream,
    buf: Vec<u8>,
}

impl RawClient {
    /// The next whole frame the server sent; `None` at a clean end of stream.
    async fn next(&mut self) -> Option<(OpCode, Vec<u8>)> {
        loop {
            let mut cursor = std::io::Cursor::new(&self.buf[..]);
            if let Some((header, len)) = FrameHeader::parse(&mut cursor).expect("a valid header") {
                let start = cursor.position() as usize;
                let end = start + usize::try_from(len).expect("length");
                if self.buf.len() >= end {
                    assert!(header.mask.is_none(), "a server never masks");
                    assert!(header.is_final, "a server frame is never fragmented");
                    let payload = self.buf[start..end].to_vec();
                    self.buf.drain(..end);
                    return Some((header.opcode, payload));
                }
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(BOUND, self.io.read(&mut chunk))
                .await
                .expect("bytes in time")
                .expect("read");
            if n == 0 {
                assert!(self.buf.is_empty(), "the stream ended inside a frame");
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next protocol event, skipping control frames.
    async fn event(&mut self) -> Event {
        loop {
            if let (OpCode::Data(Data::Text), payload) = self.next().await.expect("a frame") {
                return Codec::Json.decode_event(&payload).expect("an event");
            }
        }
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) {
        let frame = client_frame(opcode, payload);
        self.io.write_all(&frame).await.expect("write");
    }
}

async fn raw_client(hub: &Hub) -> (RawClient, JoinHandle<()>) {
    let (io, server, _) = serve(hub, WsConfig::default(), 1 << 20).await;
    let mut client = RawClient {
        io,
        buf: Vec::new(),
    };
    let welcome = client.event().await;
    assert!(matches!(welcome, Event::Welcome { .. }), "{welcome:?}");
    (client, server)
}

#[tokio::test]
async fn a_websocket_ping_is_answered_with_its_pong() {
    let hub = hub(Limits::default()).await;
    let (mut c, server) = raw_client(&hub).await;
    c.send(0x9, b"are you there").await;
    loop {
        if let (OpCode::Control(Ctl::Pong), payload) = c.next().await.expect("the pong") {
            assert_eq!(payload, b"are you there");
            break;
        }
    }
    c.send(0x8, &1000u16.to_be_bytes()).await;
    while !matches!(c.next().await, Some((OpCode::Control(Ctl::Close), _))) {}
    c.io.shutdown().await.expect("our FIN");
    assert!(c.next().await.is_none(), "the end of the stream");
    tokio::time::timeout(BOUND, server)
        .await
        .expect("server ends")
        .expect("no panic");
}

#[tokio::test]
async fn nothing_follows_the_reply_to_a_peer_close() {
    // The reply tungstenite wrote, handed to the writer while the session's queue holds
    // frames (its welcome): the writer sends the reply and stops there.
    let hub = hub(Limits::default()).await;
    let (_session, outbound) = guest_session(&hub, "ann").await;
    assert!(!outbound.is_empty(), "the welcome waits");
    let (to_writer, to_reader) = chatcore::transport::link(WriterState::Running, CONTROL_QUEUE);
    let mut reply = Vec::new();
    wire::push(
        &mut reply,
        wire::Opcode::Close,
        &wire::close_payload(1000, ""),
    );
    to_writer.send(Control::Raw {
        bytes: reply.clone(),
        closes: true,
    });
    let (server_io, mut client_io) = tokio::io::duplex(64 * 1024);
    let (_read, write) = tokio::io::split(server_io);
    let writer = writer::Writer::new(
        outbound,
        to_reader,
        Arc::new(Activity::new()),
        context(WsConfig::default()),
    );
    let (write, end) = tokio::time::timeout(Duration::from_secs(5), writer.run(Split(write)))
        .await
        .expect("the writer stops after the close reply");
    assert_eq!(end, WriterState::CloseSent);
    drop((write, _read));
    let mut sent = Vec::new();
    client_io.read_to_end(&mut sent).await.expect("read");
    assert_eq!(sent, reply, "the reply, and nothing after it");
}
