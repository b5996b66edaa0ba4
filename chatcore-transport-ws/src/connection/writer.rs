//! The write pump: session queue → coalesced socket writes, keep-alive pings, close frames.
//! It frames what it sends itself ([`wire`]) into one buffer per batch and is the only
//! writer of the socket.

use std::sync::Arc;

use chatcore::protocol::{Codec, Frame};
use chatcore::{Outbound, Outgoing};
use tokio::io::{AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::time::{Instant, MissedTickBehavior};

use chatcore::transport::{Activity, Guarded, WriteGuard};

use super::wire::{self, Opcode};
use super::{ConnContext, Control, WriterLink, WriterState};
use crate::close;

/// Most frames coalesced into one write, so pings and control requests are never starved by
/// a long burst.
const MAX_BATCH: u64 = 256;
/// The batch buffer's capacity kept between writes, at most: a burst's larger buffer is
/// given back, so an idle connection does not hold it.
const KEEP_BUFFER: usize = 4096;

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
    /// The frames of one write.
    out: Vec<u8>,
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
            out: Vec::new(),
        }
    }

    /// Writes until the session or the connection ends; returns the write half for reuniting.
    pub(super) async fn run<S: AsyncWrite>(
        mut self,
        mut sink: WriteHalf<S>,
    ) -> (WriteHalf<S>, WriterState) {
        let end = self.pump(&mut sink).await;
        self.link.set_state(end);
        (sink, end)
    }

    async fn pump<S: AsyncWrite>(&mut self, sink: &mut WriteHalf<S>) -> WriterState {
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
                Step::Control(Some(Control::Raw { bytes, closes })) => {
                    self.out.extend_from_slice(&bytes);
                    let written = self.write(sink, 0, 0).await;
                    if closes && written {
                        return WriterState::CloseSent;
                    }
                    written
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

    /// Writes `first` and, when coalescing, every frame already queued behind it (up to the
    /// write buffer size), in one write within the write timeout.
    async fn frames<S: AsyncWrite>(
        &mut self,
        sink: &mut WriteHalf<S>,
        first: Arc<Frame>,
        coalesce: bool,
    ) -> bool {
        let codec = self.outbound.codec();
        let limit = self.ctx.config.write_buffer_bytes();
        let mut frames = 1;
        let mut bytes = push_frame(&mut self.out, &first, codec);
        while coalesce && frames < MAX_BATCH && self.out.len() < limit {
            let Some(next) = self.outbound.try_next() else {
                break;
            };
            frames += 1;
            bytes += push_frame(&mut self.out, &next, codec);
        }
        self.write(sink, frames, bytes).await
    }

    /// Writes the buffer (`frames` data frames of `bytes` payload bytes) within the write
    /// timeout, and empties it.
    async fn write<S: AsyncWrite>(
        &mut self,
        sink: &mut WriteHalf<S>,
        frames: u64,
        bytes: u64,
    ) -> bool {
        let started = Instant::now();
        let write = sink.write_all(&self.out);
        let done = self.guard.write(self.ctx.config.write_timeout, write).await;
        recycle(&mut self.out);
        let m = &self.ctx.metrics;
        match done {
            Guarded::Done(Ok(())) => {
                if frames > 0 {
                    m.frames_sent.increment(frames);
                    m.bytes_sent.increment(bytes);
                    m.write_took(started.elapsed());
                }
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

    async fn ping<S: AsyncWrite>(&mut self, sink: &mut WriteHalf<S>) -> bool {
        wire::push(&mut self.out, Opcode::Ping, &[]);
        self.write(sink, 0, 0).await
    }

    /// Sends a close frame; the reader then waits for the peer's.
    async fn close<S: AsyncWrite>(
        &mut self,
        sink: &mut WriteHalf<S>,
        code: u16,
        reason: &str,
    ) -> WriterState {
        let reason = chatcore::transport::close::reason_text(reason);
        wire::push(
            &mut self.out,
            Opcode::Close,
            &wire::close_payload(code, reason),
        );
        if self.write(sink, 0, 0).await {
            self.ctx.metrics.closed(code);
            WriterState::CloseSent
        } else {
            tracing::debug!(code, "close frame not sent");
            WriterState::Dead
        }
    }
}

/// Empties the batch buffer for the next write, giving back a burst's capacity past
/// [`KEEP_BUFFER`].
fn recycle(out: &mut Vec<u8>) {
    out.clear();
    if out.capacity() > KEEP_BUFFER {
        *out = Vec::new();
    }
}

/// Appends the WebSocket frame for `frame` to `out`: the shared encoded bytes, as a binary
/// frame for MessagePack and a text frame for JSON (the codec's output is UTF-8 by
/// construction). Returns the payload's length.
fn push_frame(out: &mut Vec<u8>, frame: &Frame, codec: Codec) -> u64 {
    let payload = frame.encoded(codec);
    let opcode = match codec {
        Codec::MsgPack => Opcode::Binary,
        Codec::Json => Opcode::Text,
    };
    wire::push(out, opcode, payload);
    payload.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_keeps_a_small_capacity_and_gives_back_a_bursts() {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(&[1; 100]);
        recycle(&mut out);
        assert!(out.is_empty());
        assert_eq!(out.capacity(), 1024, "kept for the next write");
        out.extend_from_slice(&[1; 64 * 1024]);
        recycle(&mut out);
        assert!(out.is_empty());
        assert!(out.capacity() <= KEEP_BUFFER, "{}", out.capacity());
    }
}
