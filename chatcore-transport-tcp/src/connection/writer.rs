//! The write pump: session queue → coalesced socket writes, keep-alives, the close frame. On
//! plain TCP the hub also writes to the socket while the pump is idle
//! (`chatcore::transport::SocketSink`): every write of the pump is bracketed by
//! `Outbound::begin_write` and `end_write` so the two never interleave, and starts with what a
//! direct write left unwritten.

use std::sync::Arc;

use chatcore::protocol::{Codec, Frame};
use chatcore::transport::framed::{self, Close};
use chatcore::transport::{Activity, Guarded, PumpWrite, WriteGuard, close, recycle};
use chatcore::{Outbound, Outgoing};
use tokio::time::{Instant, MissedTickBehavior};

use super::{Control, WriterLink, WriterState};
use crate::TcpConfig;

/// Most frames coalesced into one write, so keep-alives and control requests are never
/// starved by a long burst.
const MAX_BATCH: usize = 256;

/// Owns the session's outbound queue and the write half.
pub(super) struct Writer {
    /// The session's queue.
    outbound: Outbound,
    /// Requests from the reader; tells the reader how writing ended.
    link: WriterLink,
    /// When the peer last sent anything, for the idle timeout.
    activity: Arc<Activity>,
    /// Keep-alive, write buffer and timeouts.
    config: Arc<TcpConfig>,
    /// Bytes of the batch being written; empty between writes, keeping at most
    /// `chatcore::transport::KEEP_BUFFER` of capacity.
    out: Vec<u8>,
    /// Cuts off a client that stopped reading as soon as its socket refuses bytes for the
    /// hub's `slow_consumer_after` while frames wait.
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
        config: Arc<TcpConfig>,
    ) -> Self {
        Self {
            guard: WriteGuard::new(&outbound),
            outbound,
            link,
            activity,
            config,
            out: Vec::new(),
        }
    }

    /// Writes until the session or the connection ends, then tells the reader how it ended.
    pub(super) async fn run(mut self, mut io: impl PumpWrite) {
        let end = self.pump(&mut io).await;
        self.outbound.detach();
        // A shared plain TCP socket sends our FIN with its last reference, this one now.
        drop(io);
        self.link.set_state(end);
    }

    async fn pump(&mut self, io: &mut impl PumpWrite) -> WriterState {
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
                Step::Control(Some(Control::Reply(frame))) => {
                    self.frames(io, Some(frame), false).await
                }
                Step::Control(Some(Control::Close(close))) => {
                    // Frames queued so far answer requests handled before the violation:
                    // deliver them (not what keeps arriving) before the close.
                    let backlog = self.outbound.len();
                    for _ in 0..backlog {
                        let Some(frame) = self.outbound.try_next() else {
                            break;
                        };
                        if !self.frames(io, Some(frame), false).await {
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
                    self.begin();
                    self.push(&[]) && self.write(io).await
                }
                Step::Out(Outgoing::Frame(frame)) => self.frames(io, Some(frame), true).await,
                Step::Out(Outgoing::Closed(reason)) => {
                    let (code, text) = close::for_reason(reason);
                    return self.close(io, code, text).await;
                }
                Step::Out(Outgoing::Flush) => self.frames(io, None, true).await,
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
        io: &mut impl PumpWrite,
        first: Option<Arc<Frame>>,
        coalesce: bool,
    ) -> bool {
        self.begin();
        let codec = self.outbound.codec();
        let mut frames = 0;
        if let Some(first) = first {
            if !self.push(first.encoded(codec)) {
                return false;
            }
            frames += 1;
        }
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

    /// Starts a write: no direct write cuts in until it is done, and what the last one left
    /// unwritten goes first.
    fn begin(&mut self) {
        if let Some(rest) = self.outbound.begin_write() {
            self.out.extend_from_slice(&rest);
        }
    }

    /// Appends one frame to the batch; `false` when it cannot be framed.
    fn push(&mut self, payload: &[u8]) -> bool {
        framed::encode(payload, &mut self.out).is_ok()
    }

    /// Writes the batch within the write timeout, then empties it.
    async fn write(&mut self, io: &mut impl PumpWrite) -> bool {
        let written = self
            .guard
            .write(self.config.write_timeout(), io.write_all(&self.out))
            .await;
        recycle(&mut self.out);
        match written {
            Guarded::Done(Ok(())) => {
                self.outbound.end_write();
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
                tracing::info!("socket write timed out; dropping the connection");
                false
            }
        }
    }

    /// Sends the close frame and ends our side of the connection (FIN; on a shared plain TCP
    /// socket when [`Writer::run`] lets it go).
    async fn close(&mut self, io: &mut impl PumpWrite, code: u16, reason: &str) -> WriterState {
        let codec: Codec = self.outbound.codec();
        self.outbound.detach();
        self.begin();
        if !self.push(&Close::new(code, reason).encode(codec)) || !self.write(io).await {
            return WriterState::Dead;
        }
        let _ = tokio::time::timeout(self.config.write_timeout(), io.shutdown()).await;
        WriterState::Closed
    }
}
