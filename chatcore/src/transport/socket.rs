//! A connection's socket written from two places: its write pump, and the hub itself while
//! the pump is idle ([`DirectSink`]). A transport whose socket can be written through a
//! shared reference ([`SharedSocket`]: a plain TCP stream's write half, with `try_write`)
//! shares it between the two as an `Arc`; the session's queue decides whose turn it is
//! ([`Outbound::begin_write`](crate::Outbound::begin_write)), so frames never interleave.
//! Any other stream (TLS) is written by the pump alone, through [`Split`].
//!
//! A transport brings its socket and its [`Framing`]; the direct write ([`SocketSink`]), the
//! pump's way to the socket ([`PumpWrite`]) and the batch buffer's upkeep ([`recycle`]) are
//! written once, here, without naming a socket type.

use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;

use super::{Direct, DirectSink};
use crate::protocol::{Codec, Frame};

/// The batch buffer's capacity kept between writes, at most: a burst's larger buffer is
/// given back, so an idle connection (or a thread's direct writes) does not hold it.
pub const KEEP_BUFFER: usize = 4096;

/// Empties a buffer of frames for the next write, giving back a burst's capacity past
/// [`KEEP_BUFFER`].
pub fn recycle(out: &mut Vec<u8>) {
    out.clear();
    if out.capacity() > KEEP_BUFFER {
        *out = Vec::new();
    }
}

/// A socket written through a shared reference, without waiting: what a connection's pump
/// and the hub's [`SocketSink`] share (a transport implements it for a plain TCP stream's
/// write half).
pub trait SharedSocket: Send + Sync + Debug + 'static {
    /// Writes what the socket takes now; `WouldBlock` when it takes nothing.
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;

    /// Ready once the socket may take bytes again.
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// Where a write pump's bytes go: a [`Split`] half of any stream, or an `Arc` of a
/// [`SharedSocket`].
pub trait PumpWrite: Send + 'static {
    /// Writes all of `buf`, waiting for the socket as needed.
    fn write_all<'a>(
        &'a mut self,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;

    /// Ends our side of the stream. A [`SharedSocket`] does nothing here: its FIN goes when
    /// its last reference, the pump's once the sink is detached, is dropped.
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + Send + '_;
}

/// A stream's write half that its pump writes alone (TLS, a test's pipe). Each write ends
/// with a flush: a TLS stream can take the plaintext while its records still wait for a full
/// socket, and nothing else would push them out.
#[derive(Debug)]
pub struct Split<W>(pub W);

impl<W: AsyncWrite + Unpin + Send + 'static> PumpWrite for Split<W> {
    fn write_all<'a>(
        &'a mut self,
        mut buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        std::future::poll_fn(move |cx| {
            while !buf.is_empty() {
                match ready!(Pin::new(&mut self.0).poll_write(cx, buf))? {
                    0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    n => buf = &buf[n..],
                }
            }
            Pin::new(&mut self.0).poll_flush(cx)
        })
    }

    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        std::future::poll_fn(|cx| Pin::new(&mut self.0).poll_shutdown(cx))
    }
}

impl<S: SharedSocket> PumpWrite for Arc<S> {
    /// One `poll_fn` over `poll_write_ready` and `try_write`: the future holds the socket and
    /// what is left of `buf`, no more (a `writable()` future holds a waiter of its own, 368
    /// bytes more in every connection's writer task).
    fn write_all<'a>(
        &'a mut self,
        mut buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        let socket: &S = self;
        std::future::poll_fn(move |cx| {
            while !buf.is_empty() {
                ready!(socket.poll_write_ready(cx))?;
                match socket.try_write(buf) {
                    Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Ok(n) => buf = &buf[n..],
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            Poll::Ready(Ok(()))
        })
    }

    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        std::future::ready(Ok(()))
    }
}

/// How a transport puts a data frame on the wire.
pub trait Framing: Send + Sync + Debug + 'static {
    /// Appends `frame`, in `codec`, to `out`; returns its payload's length, or `None` when it
    /// cannot be framed (then nothing was appended).
    fn push(&self, out: &mut Vec<u8>, frame: &Frame, codec: Codec) -> Option<u64>;

    /// `frames` data frames of `bytes` payload bytes went out through a direct write (for a
    /// transport's metrics).
    fn sent(&self, frames: u64, bytes: u64) {
        let _ = (frames, bytes);
    }
}

/// chatcore's stream framing ([`framed`](super::framed), length-prefixed): what the TCP
/// transport writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct LengthPrefixed;

impl Framing for LengthPrefixed {
    fn push(&self, out: &mut Vec<u8>, frame: &Frame, codec: Codec) -> Option<u64> {
        let payload = frame.encoded(codec);
        super::framed::encode(payload, out).ok()?;
        Some(payload.len() as u64)
    }
}

thread_local! {
    /// The frames of one direct write: one buffer per thread rather than per connection, so
    /// an idle connection holds none.
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The hub's way to a connection's [`SharedSocket`]: frames written with `try_write`, never
/// waiting.
#[derive(Debug)]
pub struct SocketSink<S, F> {
    socket: Arc<S>,
    framing: F,
}

impl<S: SharedSocket, F: Framing> SocketSink<S, F> {
    /// A sink writing to `socket` (shared with the connection's pump) in `framing`.
    pub fn new(socket: Arc<S>, framing: F) -> Self {
        Self { socket, framing }
    }
}

impl<S: SharedSocket, F: Framing> DirectSink for SocketSink<S, F> {
    fn try_write(&self, frames: &[Arc<Frame>], codec: Codec) -> Direct {
        OUT.with_borrow_mut(|out| {
            let mut bytes = 0;
            for frame in frames {
                let Some(n) = self.framing.push(out, frame, codec) else {
                    out.clear();
                    return Direct::Refused;
                };
                bytes += n;
            }
            let done = match self.socket.try_write(out) {
                Ok(n) if n == out.len() => Direct::Written,
                Ok(n) if n > 0 => Direct::Partial(out[n..].to_vec()),
                _ => Direct::Refused,
            };
            recycle(out);
            if done != Direct::Refused {
                self.framing.sent(frames.len() as u64, bytes);
            }
            done
        })
    }
}

#[cfg(test)]
mod tests;
