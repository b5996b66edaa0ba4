//! [`ReadSide`]: the socket as the WebSocket library sees it. It reads from the connection's
//! read half; what the library writes (pongs, the reply to a peer's close) goes to the writer
//! through the link, which alone writes to the socket, so those frames take their turn
//! between whole data frames.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Control, LinkSender, wire};

/// The read half, and a way to hand the writer what the library writes.
pub(super) struct ReadSide<R> {
    read: R,
    to_writer: LinkSender,
}

impl<R> ReadSide<R> {
    pub(super) fn new(read: R, to_writer: LinkSender) -> Self {
        Self { read, to_writer }
    }

    /// The read half back, for ending the connection.
    pub(super) fn into_inner(self) -> R {
        self.read
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ReadSide<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl<R: Unpin> AsyncWrite for ReadSide<R> {
    /// Takes all of `buf` at once: the library writes whole frames, so each request holds
    /// whole frames. A close reply always gets through; a pong is dropped when the writer is
    /// far behind (the peer pings faster than it reads, and a pong is only a courtesy).
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let closes = wire::holds_close(buf);
        let request = Control::Raw {
            bytes: buf.to_vec(),
            closes,
        };
        if closes {
            self.to_writer.send(request);
        } else {
            self.to_writer.try_send(request);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
