//! The write pump: session queue → coalesced socket writes, keep-alive pings, close frames.

use std::sync::Arc;

use bytes::Bytes;
use chatcore::protocol::{Codec, Frame};
use chatcore::{Outbound, Outgoing};
use futures::SinkExt;
use futures::stream::SplitSink;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

use chatcore::transport::{Activity, Guarded, WriteGuard};

use super::{ConnContext, Control, WriterLink, WriterState};
use crate::close;

type Sink<S> = SplitSink<WebSocketStream<S>, Message>;

/// Most frames coalesced into one flush, so pings and control requests are never starved by
/// a long burst.
const MAX_BATCH: u64 = 256;

/// Owns the session's outbound queue and the write half.
pub(super) struct Writer {
    outbound: Outbound,
    /// Requests from the reader; the writer's state for it.
    link: WriterLink,
    activity: Arc<Activity>,
    ctx: ConnContext,
    /// Cuts off a client that stopped reading as soon as its socket refuses bytes for the
    /// hub's `slow_consumer_after` while frames wait (`chatcore::transport::WriteGuard`).
    guard: WriteGuard,
}

enum Step {
    Control(Option<Control>),
    Tick,
    Out(Outgoing),
}

impl Writer {
    pub(super) fn new(
        outbound: Outbound,
        link: WriterLink,
        activity: Arc<Activity>,
        ctx: ConnContext,
    ) -> Self {
        Self {
            guard: WriteGuard::new(&outbound),
            outbound,
            link,
            activity,
            ctx,
        }
    }

    /// Writes until the session or the connection ends; returns the write half for reuniting.
    pub(super) async fn run<S>(mut self, mut sink: Sink<S>) -> (Sink<S>, WriterState)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let end = self.pump(&mut sink).await;
        self.link.set_state(end);
        (sink, end)
    }

    async fn pump<S>(&mut self, sink: &mut Sink<S>) -> WriterState
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let every = self.ctx.config.ping_interval();
        let mut ping = tokio::time::interval_at(Instant::now() + every, every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                biased;
                c = self.link.recv() => Step::Control(c),
                _ = ping.tick() => Step::Tick,
                o = self.outbound.recv() => Step::Out(o),
            };
            let written = match step {
                Step::Control(Some(Control::Frame(frame))) => self.frames(sink, frame, false).await,
                Step::Control(Some(Control::Close(close))) => {
                    // Frames queued so far answer requests handled before the violation:
                    // deliver them (not what keeps arriving) before the close.
                    let mut backlog = self.outbound.len();
                    while backlog > 0 {
                        let Some(frame) = self.outbound.try_next() else {
                            break;
                        };
                        backlog -= 1;
                        if !self.frames(sink, frame, false).await {
                            return WriterState::Dead;
                        }
                    }
                    return self.close(sink, close.code, &close.reason).await;
                }
                Step::Control(None) => return WriterState::Stopped,
                Step::Tick => {
                    if self.activity.idle() >= self.ctx.config.idle_timeout() {
                        let reason = "idle timeout: nothing received, not even a pong";
                        return self.close(sink, close::IDLE_TIMEOUT, reason).await;
                    }
                    self.ping(sink).await
                }
                Step::Out(Outgoing::Frame(frame)) => self.frames(sink, frame, true).await,
                Step::Out(Outgoing::Closed(reason)) => {
                    let (code, text) = close::for_reason(reason);
                    return self.close(sink, code, text).await;
                }
            };
            if !written {
                return WriterState::Dead;
            }
        }
    }

    /// Writes `first` and, when coalescing, every frame already queued behind it, then
    /// flushes once; all within the write timeout.
    async fn frames<S>(&mut self, sink: &mut Sink<S>, first: Arc<Frame>, coalesce: bool) -> bool
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let codec = self.outbound.codec();
        let outbound = &mut self.outbound;
        let started = Instant::now();
        let batch = async {
            let mut frames = 1;
            let mut bytes = first.encoded(codec).len() as u64;
            sink.feed(message(&first, codec)).await?;
            while coalesce && frames < MAX_BATCH {
                let Some(next) = outbound.try_next() else {
                    break;
                };
                frames += 1;
                bytes += next.encoded(codec).len() as u64;
                sink.feed(message(&next, codec)).await?;
            }
            sink.flush().await?;
            Ok::<_, tokio_tungstenite::tungstenite::Error>((frames, bytes))
        };
        let m = &self.ctx.metrics;
        match self.guard.write(self.ctx.config.write_timeout, batch).await {
            Guarded::Done(Ok((frames, bytes))) => {
                m.frames_sent.increment(frames);
                m.bytes_sent.increment(bytes);
                m.write_took(started.elapsed());
                true
            }
            Guarded::Done(Err(e)) => {
                tracing::debug!(error = %e, "write failed");
                false
            }
            Guarded::SlowConsumer => {
                tracing::info!(
                    "the socket refuses bytes while frames wait; dropping the slow consumer"
                );
                false
            }
            Guarded::TimedOut => {
                m.write_timeouts.increment(1);
                tracing::info!("socket write timed out; dropping the connection");
                false
            }
        }
    }

    async fn ping<S>(&mut self, sink: &mut Sink<S>) -> bool
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let timeout = self.ctx.config.write_timeout;
        match tokio::time::timeout(timeout, sink.send(Message::Ping(Bytes::new()))).await {
            Ok(Ok(())) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                self.ctx.metrics.write_timeouts.increment(1);
                false
            }
        }
    }

    /// Sends a close frame; the reader then waits for the peer's.
    async fn close<S>(&mut self, sink: &mut Sink<S>, code: u16, reason: &str) -> WriterState
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: chatcore::transport::close::reason_text(reason).into(),
        };
        let timeout = self.ctx.config.write_timeout;
        match tokio::time::timeout(timeout, sink.send(Message::Close(Some(frame)))).await {
            Ok(Ok(())) => {
                self.ctx.metrics.closed(code);
                WriterState::CloseSent
            }
            Ok(Err(e)) => {
                tracing::debug!(code, error = %e, "close frame not sent");
                WriterState::Dead
            }
            Err(_) => {
                self.ctx.metrics.write_timeouts.increment(1);
                WriterState::Dead
            }
        }
    }
}

/// The WebSocket message for a frame: the shared encoded bytes, never copied. JSON goes out as
/// a text frame built directly, since the codec's output is UTF-8 by construction and
/// re-validating it for every recipient would be wasted work.
fn message(frame: &Frame, codec: Codec) -> Message {
    let bytes = frame.encoded(codec).clone();
    match codec {
        Codec::MsgPack => Message::Binary(bytes),
        Codec::Json => Message::Frame(WsFrame::message(bytes, OpCode::Data(Data::Text), true)),
    }
}
