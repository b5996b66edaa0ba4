//! One TCP connection: framed reads, a reader and a writer task, and the final close frame.
//!
//! ```text
//! socket ──frames──> Reader ── rate limit ──> Session::handle_frame ──> hub
//!                      │  (error replies, close requests: Control)      │ (plain TCP: a
//!                      v                                                │  turn's frames,
//! socket <─frames─── Writer <── Outbound (session queue), keep-alives,  │  written directly)
//!    ^                          Control                                 │
//!    └──────────────────────────────────────────────────────────────────┘
//! ```
//!
//! As on WebSocket, the reader runs on the connection's task and the writer on its own, and
//! the writer coalesces queued frames into one socket write. The reader is polled under a
//! cork (`chatcore::transport::poll_corked`): the frames its requests queue (an ack, a small
//! room's messages) wait for the end of its turn, and on plain TCP they then go out from its
//! task while the writer is idle, without waking it ([`Io`] for `TcpStream`). A connection
//! ends with a close frame from the writer, then our FIN; the reader then reads and discards
//! what the peer still sends (bounded in time and bytes) so the close frame is not destroyed
//! by a TCP reset.

mod reader;
mod writer;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chatcore::protocol::{Codec, Frame};
use chatcore::transport::framed::{self, Close, FrameTooLarge};
use chatcore::transport::{
    Activity, LengthPrefixed, PumpWrite, RateLimiter, SharedSocket, SocketSink,
};
use chatcore::{Outbound, Session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::task::AbortOnDropHandle;

use crate::TcpConfig;

/// Most bytes read and discarded while ending a connection.
const MAX_DRAIN_BYTES: usize = 8 << 20;
/// Transport-made frames (error replies) waiting for the writer.
const CONTROL_QUEUE: usize = 32;

/// The reader's end of the link to the writer.
type ReaderLink = chatcore::transport::ReaderLink<Control, WriterState>;
/// The writer's end of the link to the reader.
type WriterLink = chatcore::transport::WriterLink<Control, WriterState>;

/// Why a frame could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The length prefix was over the limit.
    TooLarge(FrameTooLarge),
    /// The socket failed.
    Io(std::io::Error),
}

/// A plain TCP connection's write half, written by its writer and by the hub.
#[derive(Debug)]
pub(crate) struct TcpWrite(OwnedWriteHalf);

impl SharedSocket for TcpWrite {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(buf)
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.0.as_ref().poll_write_ready(cx)
    }
}

/// A byte stream a connection runs on: a plain [`TcpStream`] or, with the `tls` feature, a
/// TLS stream over one. The connection code is written once, for any of them; only how the
/// stream is split for the reader and the writer differs.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sized + 'static {
    /// The reader's half.
    type Read: AsyncRead + Unpin + Send + 'static;
    /// The writer's half.
    type Write: PumpWrite;

    /// Splits the stream for the reader and the writer of `outbound`'s session.
    fn split(self, outbound: &Outbound) -> (Self::Read, Self::Write);
}

/// Plain TCP: the hub writes to the socket too, while the writer is idle (a
/// `chatcore::transport::SocketSink` attached to the session's queue): what a reader's turn
/// queued for a session (a reply, a small room's messages) goes out from that reader's task
/// at the end of its turn, without waking the writer.
impl Io for TcpStream {
    type Read = OwnedReadHalf;
    type Write = Arc<TcpWrite>;

    fn split(self, outbound: &Outbound) -> (OwnedReadHalf, Arc<TcpWrite>) {
        let (read, write) = self.into_split();
        let write = Arc::new(TcpWrite(write));
        outbound.attach(Box::new(SocketSink::new(
            Arc::clone(&write),
            LengthPrefixed,
        )));
        (read, write)
    }
}

/// TLS: the writer alone writes, through a split half.
#[cfg(feature = "tls")]
impl Io for tokio_rustls::server::TlsStream<TcpStream> {
    type Read = tokio::io::ReadHalf<Self>;
    type Write = chatcore::transport::Split<tokio::io::WriteHalf<Self>>;

    fn split(self, _: &Outbound) -> (Self::Read, Self::Write) {
        let (read, write) = tokio::io::split(self);
        (read, chatcore::transport::Split(write))
    }
}

/// A socket with its read buffer.
#[derive(Debug)]
pub(crate) struct Conn<S = TcpStream> {
    io: S,
    buf: BytesMut,
    max_frame: usize,
    close_timeout: Duration,
    write_timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(io: S, config: &TcpConfig) -> Self {
        Self {
            io,
            buf: BytesMut::with_capacity(config.read_buffer_bytes()),
            max_frame: config.max_frame_bytes(),
            close_timeout: config.close_timeout(),
            write_timeout: config.write_timeout(),
        }
    }

    /// The next frame (empty for a keep-alive); `Ok(None)` when the peer ended the stream.
    pub(crate) async fn read_frame(&mut self) -> Result<Option<Bytes>, ReadError> {
        read_frame(&mut self.io, &mut self.buf, self.max_frame).await
    }

    /// Sends a close frame (in `codec`, JSON before one was chosen) and ends the connection.
    pub(crate) async fn refuse(mut self, code: u16, reason: &str, codec: Option<Codec>) {
        tracing::debug!(code, reason, "TCP connection refused");
        let close = Close::new(code, reason).encode(codec.unwrap_or_default());
        let mut frame = BytesMut::new();
        if framed::encode(&close, &mut frame).is_err() {
            return;
        }
        let written = tokio::time::timeout(self.write_timeout, self.io.write_all(&frame)).await;
        if matches!(written, Ok(Ok(()))) {
            finish(self.io, self.close_timeout).await;
        }
    }
}

/// Reads until `buf` holds a whole frame, and takes it out.
async fn read_frame<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
    max: usize,
) -> Result<Option<Bytes>, ReadError> {
    loop {
        if let Some(frame) = framed::decode(buf, max).map_err(ReadError::TooLarge)? {
            return Ok(Some(frame));
        }
        match io.read_buf(buf).await {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

/// What the reader asks of the writer (through the link).
#[derive(Debug)]
enum Control {
    /// End the connection: a close frame, then FIN (boxed: rare, and three words unboxed).
    Close(Box<CloseRequest>),
    /// Write this transport-made frame (a `rate_limited` error) now.
    Reply(Arc<Frame>),
}

/// A close frame the reader asks the writer to send.
#[derive(Debug)]
struct CloseRequest {
    code: u16,
    reason: String,
}

/// How far the writer got, watched by the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriterState {
    /// Its close frame and FIN went out: the reader discards what still arrives.
    Closed,
    /// The socket failed under a write: nothing more can be sent.
    Dead,
    /// Still writing.
    Running,
}

/// Runs a connection whose handshake is done until it is closed. The session is dropped (its
/// user goes offline) once the writer has finished; `slot`, the connection's place under the
/// connection cap, with it. Not an `async fn`, which would hold its arguments beside the
/// copies the connection's future holds.
pub(crate) fn run<S: Io>(
    conn: Conn<S>,
    session: Session,
    outbound: Outbound,
    config: Arc<TcpConfig>,
    slot: OwnedSemaphorePermit,
) -> impl Future<Output = ()> + Send {
    let Conn { io, buf, .. } = conn;
    let halves = io.split(&outbound);
    serve(halves, buf, session, outbound, config, slot)
}

/// Reads (corked: `chatcore::transport::poll_corked`) and writes until the connection is
/// over, then lets `slot` go.
async fn serve(
    (read, write): (impl AsyncRead + Unpin, impl PumpWrite),
    buf: BytesMut,
    mut session: Session,
    outbound: Outbound,
    config: Arc<TcpConfig>,
    slot: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let (to_writer, to_reader) = chatcore::transport::link(WriterState::Running, CONTROL_QUEUE);
    let writer = writer::Writer::new(
        outbound,
        to_reader,
        Arc::clone(&activity),
        Arc::clone(&config),
    );
    let mut writer = AbortOnDropHandle::new(tokio::spawn(writer.run(write)));
    let reader = reader::Reader {
        codec: session.codec(),
        link: to_writer,
        activity,
        limiter: RateLimiter::new(&config.rate_limit()),
        config,
        closing: false,
    };
    {
        let mut reading = std::pin::pin!(reader.run(read, buf, &mut session));
        std::future::poll_fn(|cx| chatcore::transport::poll_corked(reading.as_mut(), cx)).await;
    }
    let _ = (&mut writer).await;
    tracing::debug!(
        session = session.id(),
        user = session.user(),
        "TCP connection ended"
    );
    drop(slot);
}

/// Ends the connection politely: FIN, then read and discard whatever the peer still sends
/// until it closes its side, within a time and byte budget.
async fn finish<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, budget: Duration) {
    let ended = tokio::time::timeout(budget, async {
        if io.shutdown().await.is_ok() {
            discard(&mut io).await;
        }
    })
    .await;
    if ended.is_err() {
        tracing::debug!("peer did not end the connection within the close timeout");
    }
}

/// Reads and drops input until the peer's FIN, an error, or [`MAX_DRAIN_BYTES`].
async fn discard<R: AsyncRead + Unpin>(io: &mut R) {
    let mut sink = vec![0u8; 8 * 1024];
    let mut total = 0;
    while total < MAX_DRAIN_BYTES {
        match io.read(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(n) => total += n,
        }
    }
}

#[cfg(test)]
mod tests;
