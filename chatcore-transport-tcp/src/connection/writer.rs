//! The write pump: session queue → coalesced socket writes, keep-alives, the close frame.

use std::sync::Arc;

use bytes::BytesMut;
use chatcore::protocol::{Codec, Frame};
use chatcore::transport::framed::{self, Close};
use chatcore::transport::{Activity, Guarded, WriteGuard, close};
use chatcore::{Outbound, Outgoing};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, MissedTickBehavior};

use super::{Control, WriterLink, WriterState};
use crate::TcpConfig;

/// Most frames coalesced into one write, so keep-alives and control requests are never
/// starved by a long burst.
const MAX_BATCH: usize = 256;
/// The batch buffer's capacity kept between writes, at most: a burst's (or a join's history
/// page's) larger buffer is given back, so an idle connection does not hold it.
const KEEP_BUFFER: usize = 4096;

/// Owns the session's outbound queue and the write half.
pub(super) struct Writer {
    /// The session's queue.
    pub(super) outbound: Outbound,
    /// Requests from the reader; tells the reader how writing ended.
    pub(super) link: WriterLink,
    /// When the peer last sent anything, for the idle timeout.
    pub(super) activity: Arc<Activity>,
    /// Keep-alive, write buffer and timeouts.
    pub(super) config: Arc<TcpConfig>,
    /// Bytes of the batch being written; empty between writes, keeping at most
    /// [`KEEP_BUFFER`] of capacity.
    pub(super) out: BytesMut,
    /// Cuts off a client that stopped reading as soon as its socket refuses bytes for the
    /// hub's `slow_consumer_after` while frames wait.
    pub(super) guard: WriteGuard,
}

enum Step {
    Control(Option<Control>),
    Tick,
    Out(Outgoing),
}

impl Writer {
    /// Writes until the session or the connection ends, then tells the reader how it ended.
    pub(super) async fn run(mut self, mut io: impl AsyncWrite + Unpin) {
        let end = self.pump(&mut io).await;
        self.link.set_state(end);
    }

    async fn pump(&mut self, io: &mut (impl AsyncWrite + Unpin)) -> WriterState {
        let every = self.config.keepalive().interval();
        let mut tick = tokio::time::interval_at(Instant::now() + every, every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                biased;
                c = self.link.recv() => Step::Control(c),
                _ = tick.tick() => Step::Tick,
                o = self.outbound.recv() => Step::Out(o),
            };
            let written = match step {
                Step::Control(Some(Control::Reply(frame))) => self.frames(io, frame, false).await,
                Step::Control(Some(Control::Close(close))) => {
                    // Frames queued so far answer requests handled before the violation:
                    // deliver them (not what keeps arriving) before the close.
                    let backlog = self.outbound.len();
                    for _ in 0..backlog {
                        let Some(frame) = self.outbound.try_next() else {
                            break;
                        };
                        if !self.frames(io, frame, false).await {
                            return WriterState::Dead;
                        }
                    }
                    return self.close(io, close.code, &close.reason).await;
                }
                // The reader is done: the peer ended its side.
                Step::Control(None) => {
                    let (code, reason) = close::for_reason(chatcore::CloseReason::Normal);
                    return self.close(io, code, reason).await;
                }
                Step::Tick => {
                    if self.activity.idle() >= self.config.keepalive().idle_timeout() {
                        let reason = "idle timeout: nothing received, not even a keep-alive";
                        return self.close(io, close::IDLE_TIMEOUT, reason).await;
                    }
                    self.push(&[]) && self.write(io).await
                }
                Step::Out(Outgoing::Frame(frame)) => self.frames(io, frame, true).await,
                Step::Out(Outgoing::Closed(reason)) => {
                    let (code, text) = close::for_reason(reason);
                    return self.close(io, code, text).await;
                }
                // Only for a transport that lets the hub write to its socket; this one does not.
                Step::Out(Outgoing::Flush) => true,
            };
            if !written {
                return WriterState::Dead;
            }
        }
    }

    /// Writes `first` and, when coalescing, frames already queued behind it (up to the write
    /// buffer size), in one write.
    async fn frames(
        &mut self,
        io: &mut (impl AsyncWrite + Unpin),
        first: Arc<Frame>,
        coalesce: bool,
    ) -> bool {
        let codec = self.outbound.codec();
        if !self.push(first.encoded(codec)) {
            return false;
        }
        let mut frames = 1;
        while coalesce && frames < MAX_BATCH && self.out.len() < self.config.write_buffer_bytes() {
            let Some(next) = self.outbound.try_next() else {
                break;
            };
            frames += 1;
            if !self.push(next.encoded(codec)) {
                return false;
            }
        }
        self.write(io).await
    }

    /// Appends one frame to the batch; `false` when it cannot be framed.
    fn push(&mut self, payload: &[u8]) -> bool {
        framed::encode(payload, &mut self.out).is_ok()
    }

    /// Writes the batch within the write timeout, then empties it.
    async fn write(&mut self, io: &mut (impl AsyncWrite + Unpin)) -> bool {
        let written = self
            .guard
            .write(self.config.write_timeout(), io.write_all(&self.out))
            .await;
        self.recycle();
        match written {
            Guarded::Done(Ok(())) => true,
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
                tracing::info!("socket write timed out; dropping the connection");
                false
            }
        }
    }

    /// Empties the batch buffer for the next write, giving back a burst's capacity past
    /// [`KEEP_BUFFER`].
    fn recycle(&mut self) {
        self.out.clear();
        if self.out.capacity() > KEEP_BUFFER {
            self.out = BytesMut::new();
        }
    }

    /// Sends the close frame and ends our side of the connection (FIN).
    async fn close(
        &mut self,
        io: &mut (impl AsyncWrite + Unpin),
        code: u16,
        reason: &str,
    ) -> WriterState {
        let codec: Codec = self.outbound.codec();
        if !self.push(&Close::new(code, reason).encode(codec)) || !self.write(io).await {
            return WriterState::Dead;
        }
        let _ = tokio::time::timeout(self.config.write_timeout(), io.shutdown()).await;
        WriterState::Closed
    }
}
