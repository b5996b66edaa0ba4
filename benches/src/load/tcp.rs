//! chatcore's TCP transport on the load generator's side (`--transport tcp`): length-prefixed
//! frames (PROTOCOL.md, "TCP transport") shown to the rest of chat-load as the WebSocket
//! messages it reads and writes, so members run on either transport unchanged. A frame
//! arrives as a binary message whatever its codec (members only look at its bytes); the
//! server's keep-alives (empty frames) are answered, not passed on.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use chatcore::protocol::Codec;
use chatcore::transport::framed::{self, Hello};
use futures::{Sink, Stream};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

/// Largest frame accepted from the server.
const MAX_FRAME: usize = 1 << 20;

/// A TCP transport connection whose hello was sent.
#[derive(Debug)]
pub struct Framed {
    tcp: TcpStream,
    /// What arrived and is not a whole frame yet.
    read: BytesMut,
    /// Frames to write, not written yet.
    write: BytesMut,
    /// How much the read buffer grows by when it is full.
    chunk: usize,
}

impl Framed {
    /// Sends the hello (`codec`, as guest `user`) on `tcp`, which is then read `chunk`
    /// bytes at a time; the server's first frame is `welcome` (or a close frame).
    pub async fn hello(
        mut tcp: TcpStream,
        codec: Codec,
        user: &str,
        chunk: usize,
    ) -> Result<Self, String> {
        let mut hello = Hello::new(codec);
        hello.user = Some(user.to_owned());
        let mut write = BytesMut::new();
        framed::encode(&hello.to_json(), &mut write).map_err(|e| format!("hello: {e}"))?;
        tcp.write_all(&write)
            .await
            .map_err(|e| format!("hello: {}", e.kind()))?;
        write.clear();
        Ok(Self {
            tcp,
            read: BytesMut::with_capacity(chunk),
            write,
            chunk,
        })
    }

    /// Answers a keep-alive with one: written now when nothing else waits, else queued
    /// behind what does (it goes with the next flush).
    fn keepalive(&mut self) {
        if self.write.is_empty() {
            match self.tcp.try_write(&[0; framed::HEADER_BYTES]) {
                Ok(framed::HEADER_BYTES) => return,
                Ok(n) => {
                    self.write
                        .extend_from_slice(&[0; framed::HEADER_BYTES][n..]);
                    return;
                }
                Err(_) => {}
            }
        }
        let _ = framed::encode(&[], &mut self.write);
    }
}

/// A transport error as the WebSocket library's, which the members report.
fn io_error(e: impl std::fmt::Display) -> WsError {
    WsError::Io(io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

impl Stream for Framed {
    type Item = Result<WsMessage, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match framed::decode(&mut this.read, MAX_FRAME) {
                Ok(Some(frame)) if frame.is_empty() => {
                    this.keepalive();
                    continue;
                }
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(WsMessage::Binary(frame)))),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Some(Err(io_error(e)))),
            }
            if this.read.capacity() - this.read.len() < this.chunk / 4 {
                this.read.reserve(this.chunk);
            }
            if let Err(e) = ready!(this.tcp.poll_read_ready(cx)) {
                return Poll::Ready(Some(Err(WsError::Io(e))));
            }
            match this.tcp.try_read_buf(&mut this.read) {
                Ok(0) => return Poll::Ready(None),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Some(Err(WsError::Io(e)))),
            }
        }
    }
}

impl Sink<WsMessage> for Framed {
    type Error = WsError;

    /// Writes out what is queued first: one message waits at most.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.poll_flush(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: WsMessage) -> Result<(), WsError> {
        let this = self.get_mut();
        let payload: &[u8] = match &item {
            WsMessage::Text(t) => t.as_bytes(),
            WsMessage::Binary(b) => b,
            // Pings, pongs and closes are WebSocket's own: this transport has none.
            _ => return Ok(()),
        };
        framed::encode(payload, &mut this.write).map_err(io_error)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let this = self.get_mut();
        while !this.write.is_empty() {
            let n = ready!(Pin::new(&mut this.tcp).poll_write(cx, &this.write))?;
            if n == 0 {
                return Poll::Ready(Err(WsError::Io(io::ErrorKind::WriteZero.into())));
            }
            this.write.advance(n);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.get_mut().tcp)
            .poll_shutdown(cx)
            .map_err(WsError::Io)
    }
}

#[cfg(test)]
mod tests {
    use futures::{SinkExt, StreamExt};
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    use super::*;

    /// A load connection to a loopback listener, and the server's end of it with the hello
    /// read off.
    async fn pair() -> (Framed, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr"));
        let (client, accepted) = tokio::join!(client, listener.accept());
        let framed = Framed::hello(client.expect("connect"), Codec::Json, "ann", 4096)
            .await
            .expect("hello");
        let (mut server, _) = accepted.expect("accept");
        let mut buf = BytesMut::new();
        let hello = loop {
            if let Some(frame) = framed::decode(&mut buf, MAX_FRAME).expect("hello frame") {
                break frame;
            }
            server.read_buf(&mut buf).await.expect("read");
        };
        let hello: Hello = serde_json::from_slice(&hello).expect("hello is JSON");
        assert_eq!(
            (hello.user.as_deref(), hello.codec.as_str()),
            (Some("ann"), "json")
        );
        (framed, server)
    }

    #[tokio::test]
    async fn frames_arrive_whole_and_keepalives_are_answered_not_passed_on() {
        let (mut framed, mut server) = pair().await;
        let mut out = BytesMut::new();
        framed::encode(&[], &mut out).expect("keep-alive");
        framed::encode(br#"{"type":"welcome"}"#, &mut out).expect("frame");
        // Split mid-header: the reader waits for the rest.
        server.write_all(&out[..6]).await.expect("write");
        server.flush().await.expect("flush");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        server.write_all(&out[6..]).await.expect("write");
        let got = framed.next().await.expect("a frame").expect("no error");
        assert_eq!(
            got,
            WsMessage::Binary(br#"{"type":"welcome"}"#.to_vec().into())
        );
        let mut answer = [1u8; framed::HEADER_BYTES];
        server
            .read_exact(&mut answer)
            .await
            .expect("keep-alive back");
        assert_eq!(answer, [0; framed::HEADER_BYTES]);

        framed
            .send(WsMessage::Text(r#"{"type":"join","room":"r"}"#.into()))
            .await
            .expect("send");
        let mut buf = BytesMut::new();
        let sent = loop {
            if let Some(frame) = framed::decode(&mut buf, MAX_FRAME).expect("frame") {
                break frame;
            }
            server.read_buf(&mut buf).await.expect("read");
        };
        assert_eq!(&sent[..], br#"{"type":"join","room":"r"}"#);
    }

    #[tokio::test]
    async fn an_oversized_length_is_an_error_and_a_closed_socket_the_end() {
        let (mut framed, mut server) = pair().await;
        let too_big = u32::try_from(MAX_FRAME + 1).expect("fits");
        server
            .write_all(&too_big.to_be_bytes())
            .await
            .expect("write");
        assert!(matches!(framed.next().await, Some(Err(WsError::Io(_)))));

        let (mut framed, server) = pair().await;
        drop(server);
        assert!(framed.next().await.is_none(), "end of stream");
    }
}
