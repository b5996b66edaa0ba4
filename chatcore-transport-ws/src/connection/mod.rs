//! One WebSocket connection: a reader task, a writer task, and the close handshake.
//!
//! ```text
//! socket ──read half──> ReadSide ──> tungstenite ──> Reader ── decode ──> Session::handle_frame
//!                                      │ (pongs, close reply)   │ (error frames, close requests)
//!                                      v                        v
//! socket <──write half── Writer <──────────── link (Control) ───┘
//!                          ^
//!                          └── Outbound (session queue), pings
//! ```
//!
//! The reader runs on the connection's task; the writer on a task of its own, because one
//! task `select!`-ing over both re-polls the read half on every delivery (measured at half
//! the throughput). The socket is split at the byte level: tungstenite reads and parses from
//! the read half, and the writer alone writes to the write half, framing data frames itself
//! ([`wire`]). What tungstenite writes (pongs, the reply to a peer's close) reaches the writer
//! through the [`link`](chatcore::transport::link) with the reader's control requests, so it
//! takes its turn between whole frames. When both are done the halves are reunited and the TCP
//! connection is ended gracefully: our FIN first, then the peer's remaining bytes are read
//! and discarded (bounded), so a close frame is never lost to a TCP reset.
//!
//! Over plain TCP ([`run_tcp`]) the hub writes to the socket too, while the writer is idle:
//! what a reader's turn queued for a session (a reply, a small room's messages) goes out from
//! that reader's task at the end of its turn, without waking the writer ([`direct`]).

mod direct;
mod reader;
mod socket;
mod wire;
mod writer;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chatcore::protocol::Frame;
use chatcore::transport::{Activity, PumpWrite, SocketSink, Split};
use chatcore::{Outbound, Session};
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_util::task::AbortOnDropHandle;

use crate::WsConfig;
use crate::metrics::Metrics;

/// Most bytes read and discarded while ending a connection (the rest of an oversized message,
/// the peer's close frame). Past it the socket is simply dropped.
const MAX_DRAIN_BYTES: usize = 8 << 20;
/// Transport-generated frames (error replies) waiting for the writer.
const CONTROL_QUEUE: usize = 32;

/// The reader's end of the link to the writer.
type ReaderLink = chatcore::transport::ReaderLink<Control, WriterState>;
/// The writer's end of the link to the reader.
type WriterLink = chatcore::transport::WriterLink<Control, WriterState>;
/// The socket adapter's way in to the writer.
type LinkSender = chatcore::transport::LinkSender<Control, WriterState>;

/// What every connection shares with the transport.
#[derive(Clone, Debug)]
pub(crate) struct ConnContext {
    pub(crate) config: Arc<WsConfig>,
    pub(crate) metrics: Arc<Metrics>,
}

/// Reader → writer requests (through the link).
#[derive(Debug)]
enum Control {
    /// A frame made by the transport itself (a `bad_frame` or `rate_limited` error).
    Frame(Arc<Frame>),
    /// Send a close frame, then stop (boxed: rare, and three words unboxed).
    Close(Box<CloseRequest>),
    /// Whole frames tungstenite wrote (pongs, a close reply), to send as they are; after a
    /// close reply (`closes`) nothing more is sent.
    Raw { bytes: Vec<u8>, closes: bool },
}

/// A close frame the reader asks the writer to send.
#[derive(Debug)]
struct CloseRequest {
    code: u16,
    reason: String,
}

/// What the writer is doing, watched by the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriterState {
    /// Writing frames.
    Running,
    /// Sent a close frame: the reader now only waits for the peer's close.
    CloseSent,
    /// A write failed or timed out: the socket is unusable.
    Dead,
    /// The reader went away (the peer closed); nothing more to write.
    Stopped,
}

/// Keeps the open-connections gauge right however the connection ends.
struct OpenGuard(Arc<Metrics>);

impl OpenGuard {
    fn new(metrics: &Arc<Metrics>) -> Self {
        metrics.connections_open.increment(1.0);
        Self(Arc::clone(metrics))
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.connections_open.decrement(1.0);
    }
}

/// Runs a connection whose HTTP upgrade is done, until it is closed, over any stream (TLS,
/// a test's pipe). The session is dropped (its user goes offline) once the writer has
/// finished.
///
/// Not an `async fn`: its arguments would stay in the connection's task beside the copies
/// `serve` holds, for as long as the connection lives; `then` holds one future at a time.
pub(crate) fn run<S>(
    io: S,
    session: Session,
    outbound: Outbound,
    ctx: ConnContext,
) -> impl Future<Output = ()> + Send
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let open = OpenGuard::new(&ctx.metrics);
    let (read, write) = tokio::io::split(io);
    let budget = ctx.config.close_timeout;
    serve(read, Split(write), session, outbound, ctx).then(move |halves| async move {
        let _open = open;
        if let Some((read, Split(write))) = halves {
            if read.is_pair_of(&write) {
                finish(read.unsplit(write), budget).await;
            }
        }
    })
}

/// As [`run`], over a plain TCP connection whose socket the hub may write to itself
/// ([`direct`]); `early` holds what the HTTP server read past the upgrade request.
pub(crate) fn run_tcp(
    tcp: TcpStream,
    early: Vec<u8>,
    session: Session,
    outbound: Outbound,
    ctx: ConnContext,
) -> impl Future<Output = ()> + Send {
    let open = OpenGuard::new(&ctx.metrics);
    let (read, write) = tcp.into_split();
    let write = Arc::new(direct::TcpWrite(write));
    let framing = direct::WsFraming::new(Arc::clone(&ctx.metrics));
    outbound.attach(Box::new(SocketSink::new(Arc::clone(&write), framing)));
    let read = std::io::Cursor::new(early).chain(read);
    let budget = ctx.config.close_timeout;
    serve(read, write, session, outbound, ctx).then(move |halves| async move {
        let _open = open;
        let Some((read, write)) = halves else {
            return;
        };
        let (_, read) = read.into_inner();
        // The writer detached the sink, so the pump held the last reference.
        if let Ok(Ok(tcp)) = Arc::try_unwrap(write).map(|write| read.reunite(write.0)) {
            finish(tcp, budget).await;
        }
    })
}

/// Reads and writes until the connection is over; returns the halves when the socket can
/// still be ended politely ([`finish`]).
async fn serve<R, W>(
    read: R,
    write: W,
    session: Session,
    outbound: Outbound,
    ctx: ConnContext,
) -> Option<(R, W)>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: PumpWrite,
{
    let (to_writer, to_reader) = chatcore::transport::link(WriterState::Running, CONTROL_QUEUE);
    let read = socket::ReadSide::new(read, to_writer.sender());
    let stream =
        WebSocketStream::from_raw_socket(read, Role::Server, Some(ctx.config.tungstenite())).await;
    let activity = Arc::new(Activity::new());

    let writer = writer::Writer::new(outbound, to_reader, Arc::clone(&activity), ctx.clone());
    let mut writer = AbortOnDropHandle::new(tokio::spawn(writer.run(write)));
    let mut session = session;
    let reader = reader::Reader::new(session.codec(), to_writer, activity, ctx.clone());
    // Frames the reader's requests queue go out at the end of each of its turns, written by
    // this task where the socket allows it (`chatcore::transport::poll_corked`).
    let (stream, read_end) = {
        let mut reading = std::pin::pin!(reader.run(stream, &mut session));
        std::future::poll_fn(|cx| chatcore::transport::poll_corked(reading.as_mut(), cx)).await
    };
    let written = (&mut writer).await;
    tracing::debug!(
        session = session.id(),
        user = session.user(),
        ?read_end,
        "connection ended"
    );
    drop(session);

    let (write, write_end) = written.ok()?;
    if write_end == WriterState::Dead || read_end == reader::ReadEnd::WriterDead {
        return None; // the socket cannot take writes: just drop it
    }
    Some((stream.into_inner().into_inner(), write))
}

/// Ends the TCP connection politely: FIN first, then read (and discard) whatever the peer
/// still sends until it closes its side, within a time and byte budget. Closing a socket
/// with unread input would send a reset, which can destroy the close frame in flight.
async fn finish<S>(mut io: S, budget: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let drained = tokio::time::timeout(budget, async {
        if io.shutdown().await.is_err() {
            return;
        }
        let mut buf = vec![0u8; 8 * 1024];
        let mut total = 0;
        while total < MAX_DRAIN_BYTES {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::debug!("peer did not end the connection within the close timeout");
    }
}

#[cfg(test)]
mod tests;
