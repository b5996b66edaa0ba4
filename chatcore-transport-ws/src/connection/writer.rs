//! The write pump: session queue → coalesced socket writes, keep-alive pings, close frames.
//! It frames what it sends itself ([`wire`]) into one buffer per batch. Over TCP the hub
//! also writes to the socket while the pump is idle ([`direct`](super::direct)); every write
//! of the pump is bracketed by `Outbound::begin_write` and `end_write` so the two never
//! interleave, and starts with what a direct write left unwritten.

use std::sync::Arc;

use chatcore::protocol::Frame;
use chatcore::{Outbound, Outgoing};
use tokio::time::{Instant, MissedTickBehavior};

use chatcore::transport::{Activity, Guarded, PumpWrite, WriteGuard, recycle};

use super::wire::{self, Opcode};
use super::{ConnContext, Control, WriterLink, WriterState};
use crate::close;

/// Most frames coalesced into one write, so pings and control requests are never starved by
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
    pub(super) async fn run<W: PumpWrite>(mut self, mut sink: W) -> (W, WriterState) {
        let end = self.pump(&mut sink).await;
        self.outbound.detach();
        self.link.set_state(end);
        (sink, end)
    }

    async fn pump<W: PumpWrite>(&mut self, sink: &mut W) -> WriterState {
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
                Step::Control(Some(Control::Frame(frame))) => {
                    self.frames(sink, Some(frame), false).await
                }
                Step::Control(Some(Control::Close(close))) => {
                    // Frames queued so far answer requests handled before the violation:
                    // deliver them (not what keeps arriving) before the close.
                    let mut backlog = self.outbound.len();
                    while backlog > 0 {
                        let Some(frame) = self.outbound.try_next() else {
                            break;
                        };
                        backlog -= 1;
                        if !self.frames(sink, Some(frame), false).await {
                            return WriterState::Dead;
                        }
                    }
                    return self.close(sink, close.code, &close.reason).await;
                }
                Step::Control(Some(Control::Raw { bytes, closes })) => {
                    if closes {
                        self.outbound.detach();
                    }
                    self.begin();
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
                Step::Out(Outgoing::Frame(frame)) => self.frames(sink, Some(frame), true).await,
                Step::Out(Outgoing::Flush) => self.frames(sink, None, true).await,
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

    /// Starts a write: no direct write cuts in until it is done, and what the last one left
    /// unwritten goes first.
    fn begin(&mut self) {
        if let Some(rest) = self.outbound.begin_write() {
            self.out.extend_from_slice(&rest);
        }
    }

    /// Writes `first` (if any) and, when coalescing, every frame already queued behind it
    /// (up to the write buffer size), in one write within the write timeout.
    async fn frames<W: PumpWrite>(
        &mut self,
        sink: &mut W,
        first: Option<Arc<Frame>>,
        coalesce: bool,
    ) -> bool {
        self.begin();
        let codec = self.outbound.codec();
        let limit = self.ctx.config.write_buffer_bytes();
        let (mut frames, mut bytes) = (0, 0);
        if let Some(first) = first {
            frames += 1;
            bytes += wire::push_data(&mut self.out, &first, codec);
        }
        while coalesce && frames < MAX_BATCH && self.out.len() < limit {
            let Some(next) = self.outbound.try_next() else {
                break;
            };
            frames += 1;
            bytes += wire::push_data(&mut self.out, &next, codec);
        }
        self.write(sink, frames, bytes).await
    }

    /// Writes the buffer (`frames` data frames of `bytes` payload bytes) within the write
    /// timeout, and empties it.
    async fn write<W: PumpWrite>(&mut self, sink: &mut W, frames: u64, bytes: u64) -> bool {
        let started = Instant::now();
        let write = sink.write_all(&self.out);
        let done = self.guard.write(self.ctx.config.write_timeout, write).await;
        recycle(&mut self.out);
        let m = &self.ctx.metrics;
        match done {
            Guarded::Done(Ok(())) => {
                self.outbound.end_write();
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

    async fn ping<W: PumpWrite>(&mut self, sink: &mut W) -> bool {
        self.begin();
        wire::push(&mut self.out, Opcode::Ping, &[]);
        self.write(sink, 0, 0).await
    }

    /// Sends a close frame; the reader then waits for the peer's.
    async fn close<W: PumpWrite>(&mut self, sink: &mut W, code: u16, reason: &str) -> WriterState {
        self.outbound.detach();
        self.begin();
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
