//! Writing to a TCP socket from two places: the connection's write pump, and the hub itself
//! while the pump is idle ([`chatcore::transport::DirectSink`]). Both write through a shared
//! write half with `try_write`, which needs no `&mut`; the session's queue decides whose turn
//! it is (`Outbound::begin_write`), so frames never interleave.
//!
//! Over TLS, or any stream other than plain TCP, the pump writes alone through a split half
//! ([`Sink`] for `WriteHalf`), as before.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::task::{Poll, ready};

use chatcore::protocol::{Codec, Frame};
use chatcore::transport::{Direct, DirectSink};
use tokio::io::{AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

use super::wire;
use crate::metrics::Metrics;

/// Where the write pump's bytes go.
pub(super) trait Sink: Send + 'static {
    /// Writes all of `buf`, waiting for the socket as needed.
    fn write_all<'a>(
        &'a mut self,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

impl<S: AsyncWrite + Send + 'static> Sink for WriteHalf<S> {
    fn write_all<'a>(
        &'a mut self,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        AsyncWriteExt::write_all(self, buf)
    }
}

/// The write half of a TCP connection, shared by the pump and a [`TcpSink`].
pub(super) type Shared = Arc<OwnedWriteHalf>;

impl Sink for Shared {
    /// One `poll_fn` over `poll_write_ready` and `try_write`: the future holds the socket and
    /// what is left of `buf`, no more (`writable()` holds a waiter of its own, 368 bytes more
    /// in every connection's writer task).
    fn write_all<'a>(
        &'a mut self,
        mut buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        let tcp: &TcpStream = (**self).as_ref();
        std::future::poll_fn(move |cx| {
            while !buf.is_empty() {
                ready!(tcp.poll_write_ready(cx))?;
                match tcp.try_write(buf) {
                    Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Ok(n) => buf = &buf[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            Poll::Ready(Ok(()))
        })
    }
}

thread_local! {
    /// The frames of one direct write: one buffer per thread rather than per connection, so
    /// an idle connection holds none.
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The hub's way to a TCP connection's socket.
#[derive(Debug)]
pub(super) struct TcpSink {
    socket: Shared,
    metrics: Arc<Metrics>,
}

impl TcpSink {
    pub(super) fn new(socket: Shared, metrics: Arc<Metrics>) -> Self {
        Self { socket, metrics }
    }
}

impl DirectSink for TcpSink {
    fn try_write(&self, frames: &[Arc<Frame>], codec: Codec) -> Direct {
        OUT.with_borrow_mut(|out| {
            let mut bytes = 0;
            for frame in frames {
                bytes += wire::push_data(out, frame, codec);
            }
            let tcp: &TcpStream = (*self.socket).as_ref();
            let done = match tcp.try_write(out) {
                Ok(n) if n == out.len() => Direct::Written,
                Ok(n) if n > 0 => Direct::Partial(out[n..].to_vec()),
                _ => Direct::Refused,
            };
            wire::recycle(out);
            if done != Direct::Refused {
                self.metrics.frames_sent.increment(frames.len() as u64);
                self.metrics.bytes_sent.increment(bytes);
            }
            done
        })
    }
}
