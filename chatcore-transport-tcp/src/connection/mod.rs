//! One TCP connection: framed reads, a reader and a writer task, and the final close frame.
//!
//! ```text
//! socket ──frames──> Reader ── rate limit ──> Session::handle_frame ──> hub
//!                      │  (error replies, close requests: Control)
//!                      v
//! socket <─frames─── Writer <── Outbound (session queue), keep-alives, Control
//! ```
//!
//! As on WebSocket, the reader runs on the connection's task and the writer on its own, and
//! the writer coalesces queued frames into one socket write. A connection ends with a close
//! frame from the writer, then our FIN; the reader then reads and discards what the peer still
//! sends (bounded in time and bytes) so the close frame is not destroyed by a TCP reset.

mod reader;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use chatcore::protocol::{Codec, Frame};
use chatcore::transport::framed::{self, Close, FrameTooLarge};
use chatcore::transport::{Activity, RateLimiter};
use chatcore::{Outbound, Session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
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

/// A byte stream a connection runs on: a plain [`TcpStream`] or, with the `tls` feature, a
/// TLS stream over one. The connection code is written once, for any of them.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for S {}

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
/// connection cap, with it.
pub(crate) async fn run<S: Io>(
    conn: Conn<S>,
    session: Session,
    outbound: Outbound,
    config: Arc<TcpConfig>,
    slot: OwnedSemaphorePermit,
) {
    let Conn { io, buf, .. } = conn;
    let (read_half, write_half) = tokio::io::split(io);
    let activity = Arc::new(Activity::new());
    let (to_writer, to_reader) = chatcore::transport::link(WriterState::Running, CONTROL_QUEUE);
    let writer = writer::Writer {
        guard: chatcore::transport::WriteGuard::new(&outbound),
        outbound,
        link: to_reader,
        activity: Arc::clone(&activity),
        config: Arc::clone(&config),
        out: BytesMut::new(),
    };
    let mut writer = AbortOnDropHandle::new(tokio::spawn(writer.run(write_half)));
    let mut session = session;
    let reader = reader::Reader {
        codec: session.codec(),
        link: to_writer,
        activity,
        limiter: RateLimiter::new(&config.rate_limit()),
        config,
        closing: false,
    };
    reader.run(read_half, buf, &mut session).await;
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
