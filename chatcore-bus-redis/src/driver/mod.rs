//! The [`Driver`] seam: the few pub/sub operations the bus needs from Redis.
//!
//! Everything else (the publish queue and its batching, decoding, filtering of own events and
//! of unsubscribed rooms, counters, shutdown) lives in [`crate::engine`] and is unit tested
//! against [`stub::StubDriver`], without Redis. [`fred::FredDriver`] is the real one.

pub(crate) mod fred;
#[cfg(test)]
pub(crate) mod stub;

use std::future::Future;

use bytes::Bytes;

use crate::Error;

/// One `PUBLISH` (or `SPUBLISH`): a channel and a payload.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) channel: String,
    pub(crate) payload: Bytes,
    /// The seq a `Message` or `Head` event announces, so that if this publication is lost
    /// the engine can announce the room's head again later; `None` for ephemeral events.
    pub(crate) head: Option<u64>,
}

/// What the subscribed connection reports.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A message on a subscribed channel.
    Message { channel: Bytes, payload: Bytes },
    /// This many messages were lost because the reader fell behind.
    Lagged(u64),
    /// The subscribed connection came back after a disconnect and every wanted channel is
    /// subscribed again: whatever was published meanwhile was lost.
    Resubscribed,
}

/// Pub/sub on a backend. Clones share one set of connections.
pub(crate) trait Driver: Clone + Send + Sync + 'static {
    /// The subscribed connection's messages.
    type Events: Events;

    /// Publishes a batch: one round trip (a pipeline, or one script running a `PUBLISH` per
    /// event), events in batch order. The batch is handed to the connection during the
    /// future's first poll, so batches whose futures are first polled in order are written in
    /// order; the future then waits for Redis's replies.
    fn publish_batch(&self, batch: Vec<Outgoing>)
    -> impl Future<Output = Result<(), Error>> + Send;

    /// Wants `channel`'s messages from now on, also after reconnects. Returns once Redis
    /// confirmed the subscription; while disconnected, returns at once and subscribes after
    /// reconnecting. Idempotent.
    fn subscribe(&self, channel: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// No longer wants `channel`'s messages. Idempotent.
    fn unsubscribe(&self, channel: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Whether every connection is up right now.
    fn is_connected(&self) -> bool;

    /// A round trip to Redis; fails at once while disconnected.
    fn ping(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// A new receiver of the subscribed connection's messages (from now on).
    fn events(&self) -> Self::Events;

    /// Successful reconnections so far.
    fn reconnects(&self) -> u64;

    /// Disconnects. Idempotent.
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// A receiver of [`Incoming`] messages.
pub(crate) trait Events: Send + 'static {
    /// The next message; `None` once the driver closed.
    fn next(&mut self) -> impl Future<Output = Option<Incoming>> + Send;
}
