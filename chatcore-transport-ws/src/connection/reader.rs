//! The read pump: socket → rate limit → codec check → `Session::handle_frame`.

use std::sync::Arc;

use chatcore::protocol::{Codec, Event, Frame};
use chatcore::transport::{ABUSE, Admission, RateLimiter, Verdict};
use chatcore::{ErrorCode, Session};
use futures::StreamExt;
use tokio::io::AsyncRead;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use chatcore::transport::Activity;

use super::socket::ReadSide;
use super::{CloseRequest, ConnContext, Control, ReaderLink, WriterState};
use crate::close;

type Stream<S> = WebSocketStream<ReadSide<S>>;

/// How reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadEnd {
    /// The close handshake finished, timed out, or the peer vanished.
    Closed,
    /// Reading failed (oversized message, invalid UTF-8, protocol violation); the writer was
    /// asked to send the matching close frame. The WebSocket can no longer be read.
    Failed,
    /// The writer cannot write any more: drop the connection.
    WriterDead,
}

/// Why the main loop stopped, before the close handshake is finished.
enum Stop {
    End(ReadEnd),
    /// The peer sent a close frame; tungstenite queued the reply.
    PeerClosed,
    /// The writer sent a close frame; wait for the peer's.
    CloseSent,
}

/// Owns the read half and the per-connection rate limiter.
pub(super) struct Reader {
    codec: Codec,
    /// Requests to the writer; the writer's state.
    link: ReaderLink,
    activity: Arc<Activity>,
    limiter: RateLimiter,
    ctx: ConnContext,
    /// We asked the writer to close: handle no more frames.
    closing: bool,
}

impl Reader {
    pub(super) fn new(
        codec: Codec,
        link: ReaderLink,
        activity: Arc<Activity>,
        ctx: ConnContext,
    ) -> Self {
        let c = &ctx.config;
        let limiter = RateLimiter::new(&c.rate_limit);
        Self {
            codec,
            link,
            activity,
            limiter,
            ctx,
            closing: false,
        }
    }

    /// Reads until the connection is over, and hands the read half back for reuniting.
    pub(super) async fn run<S: AsyncRead + Unpin>(
        mut self,
        mut stream: Stream<S>,
        session: &mut Session,
    ) -> (Stream<S>, ReadEnd) {
        let stop = self.pump(&mut stream, session).await;
        let timeout = self.ctx.config.close_timeout;
        let Reader { link, activity, .. } = self;
        let end = match stop {
            Stop::End(end) => end,
            // Reading on hands the writer tungstenite's close reply (peer close; the writer
            // stops after sending it) or receives the peer's close (ours was sent); either
            // way tungstenite then ends the stream.
            Stop::PeerClosed | Stop::CloseSent => {
                let deadline = Instant::now() + timeout;
                while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, stream.next()).await {
                    activity.touch();
                }
                ReadEnd::Closed
            }
        };
        // Without the reader's end the writer stops (after any close it was asked to send).
        drop(link);
        (stream, end)
    }

    async fn pump<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut Stream<S>,
        session: &mut Session,
    ) -> Stop {
        loop {
            match self.link.state() {
                // The writer task is gone without saying why (it panicked).
                (WriterState::Running, true) => return Stop::End(ReadEnd::WriterDead),
                (WriterState::Running, false) => {}
                (WriterState::CloseSent, _) => return Stop::CloseSent,
                (WriterState::Dead | WriterState::Stopped, _) => {
                    return Stop::End(ReadEnd::WriterDead);
                }
            }
            let item = tokio::select! {
                biased;
                () = self.link.changed() => continue,
                item = stream.next() => item,
            };
            let message = match item {
                None => return Stop::End(ReadEnd::Closed),
                Some(Err(e)) => return Stop::End(self.failed(e)),
                Some(Ok(m)) => m,
            };
            self.activity.touch();
            self.ctx.metrics.frames_received.increment(1);
            match message {
                Message::Text(text) => self.data(session, text.as_bytes(), false).await,
                Message::Binary(bytes) => self.data(session, &bytes, true).await,
                Message::Ping(_) | Message::Pong(_) => {
                    // Tungstenite answers pings itself; they still count against the rate.
                    if self.limiter.check(Instant::now()) == Verdict::Abuse {
                        self.close(close::POLICY, ABUSE);
                    }
                }
                Message::Close(_) => return Stop::PeerClosed,
                Message::Frame(_) => {}
            }
        }
    }

    /// One data message.
    async fn data(&mut self, session: &mut Session, bytes: &[u8], binary: bool) {
        self.ctx
            .metrics
            .bytes_received
            .increment(bytes.len() as u64);
        if self.closing || session.close_reason().is_some() {
            return; // the session is over; the writer is closing the socket
        }
        let matches_codec = binary == self.codec.is_binary();
        let readable = matches_codec.then_some((self.codec, bytes));
        match self.limiter.admit(Instant::now(), readable) {
            Admission::Handle => {}
            Admission::Refuse(error) => {
                self.ctx.metrics.rate_limited.increment(1);
                self.reply(error);
                return;
            }
            Admission::Close { code, reason } => {
                self.ctx.metrics.rate_limited.increment(1);
                self.close(code, reason);
                return;
            }
        }
        if !matches_codec {
            let text = if binary {
                "binary frame on the chatcore.v1.json subprotocol: send JSON in text frames"
            } else {
                "text frame on the chatcore.v1.msgpack subprotocol: send MessagePack in binary frames"
            };
            self.reply(Event::error(None, ErrorCode::BadFrame, text));
            return;
        }
        // Boxed: the command layer's future (~2 KB) would otherwise be part of every
        // connection's task, idle or not; one allocation per request is far cheaper.
        Box::pin(session.handle_frame(bytes)).await;
    }

    /// Queues a transport-made frame; dropped when the writer is far behind (the client is
    /// flooding us, and the error is advisory).
    fn reply(&self, event: Event) {
        self.link.try_send(Control::Frame(Frame::new(event)));
    }

    /// Asks the writer to close the connection; no more frames are handled.
    fn close(&mut self, code: u16, reason: &str) {
        if self.closing {
            return;
        }
        self.closing = true;
        let reason = chatcore::transport::close::reason_text(reason).to_owned();
        self.link
            .send(Control::Close(Box::new(CloseRequest { code, reason })));
    }

    /// A read error: maps it to a close code when the peer can still be told.
    fn failed(&mut self, e: WsError) -> ReadEnd {
        let (code, reason) = match &e {
            WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
                close::TOO_BIG,
                format!("message too big: {size} bytes, the limit is {max_size}"),
            ),
            WsError::Capacity(other) => (close::TOO_BIG, other.to_string()),
            WsError::Utf8(_) => (
                close::INVALID_PAYLOAD,
                "text frame is not valid UTF-8".to_owned(),
            ),
            WsError::Io(_)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                tracing::debug!(error = %e, "peer went away");
                return ReadEnd::Closed;
            }
            WsError::Protocol(p) => (close::PROTOCOL_ERROR, format!("protocol error: {p}")),
            other => (close::PROTOCOL_ERROR, other.to_string()),
        };
        tracing::debug!(code, %reason, "closing after a read error");
        self.close(code, &reason);
        ReadEnd::Failed
    }
}
