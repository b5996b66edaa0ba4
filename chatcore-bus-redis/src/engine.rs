//! The bus logic over any [`Driver`]: the publish queue and its pipelined drain, the receive
//! loop (decode, drop own events and unsubscribed rooms), loss reporting in both directions,
//! counters and shutdown.
//!
//! **Losses this node caused** (a full queue, a batch that failed while Redis was away): the
//! newest seq of each room whose `Message` or `Head` was dropped is remembered and announced
//! again as a `Head` once publishing works, so other nodes read the lost messages from the
//! store even when no later message of the room would reveal the gap.
//!
//! **Where events go**: a room's events on `{prefix}room:{name}`, node-wide events
//! ([`Channel::AllNodes`]) on `{prefix}nodes`, which [`Engine::start`] subscribes so that
//! every started node hears them whatever rooms it serves. The driver keeps it among its
//! wanted channels, so it is subscribed again after a reconnect, with the rooms.
//!
//! **Losses this node suffered** (its reader fell behind, or the subscribed connection was
//! down): the handler hears [`BusHandler::on_gap_suspected`] and checks its rooms against
//! the store.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use chatcore::bus::{BusEvent, BusHandler, Channel};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::driver::{Driver, Outgoing};
use crate::stats::{BusStats, Counters, worth_logging};
use crate::wire;
use crate::{Error, Result};

/// What [`Engine::new`] needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) node_id: String,
    /// `{prefix}room:`, prepended to a room name to make its channel.
    pub(crate) room_prefix: String,
    /// `{prefix}nodes`, the channel of node-wide events.
    pub(crate) nodes_channel: String,
    pub(crate) publish_queue: usize,
    pub(crate) max_batch: usize,
    /// How long `close` waits for the queue to drain.
    pub(crate) flush_timeout: Duration,
}

/// The bus over a driver. Dropping it stops its tasks: the drain task flushes what is queued
/// and disconnects the driver, the receive task is aborted.
pub(crate) struct Engine<D: Driver> {
    node_id: Arc<str>,
    room_prefix: Arc<str>,
    /// The channel of node-wide events, subscribed by `start` and never unsubscribed.
    nodes_channel: Arc<str>,
    driver: D,
    /// Encoded events waiting for the drain task. Bounded: a full queue drops (and counts).
    queue: mpsc::Sender<Outgoing>,
    queue_capacity: usize,
    /// Set by `close`; `publish` checks it so nothing is queued after the flush began.
    closed: AtomicBool,
    /// Tells the drain task to flush and stop.
    shutdown: Arc<Notify>,
    /// The drain task, awaited by `close`. std mutex: only taken to move the handle out.
    drain: Mutex<Option<JoinHandle<()>>>,
    /// Rooms whose events are delivered. Checked on every received message, so a message
    /// still in flight when a room was unsubscribed is not delivered. std lock: never held
    /// across an await.
    rooms: Arc<RwLock<HashSet<String>>>,
    counters: Arc<Counters>,
    /// Rooms whose newest `Message`/`Head` was dropped, to announce again.
    lost_heads: LostHeads,
    /// The receive task, started by `start`; aborted on close or drop.
    receiver: Mutex<Option<AbortOnDrop>>,
    flush_timeout: Duration,
}

impl<D: Driver> std::fmt::Debug for Engine<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("node_id", &self.node_id)
            .field("room_prefix", &self.room_prefix)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<D: Driver> Engine<D> {
    /// Wraps a connected driver and starts the drain task. Must run inside a Tokio runtime.
    pub(crate) fn new(driver: D, settings: Settings) -> Self {
        let (queue, rx) = mpsc::channel(settings.publish_queue);
        let shutdown = Arc::new(Notify::new());
        let counters = Arc::new(Counters::default());
        let lost_heads = LostHeads::default();
        let drain = tokio::spawn(drain(
            Drain {
                driver: driver.clone(),
                shutdown: Arc::clone(&shutdown),
                counters: Arc::clone(&counters),
                lost_heads: Arc::clone(&lost_heads),
                node_id: settings.node_id.clone(),
                room_prefix: settings.room_prefix.clone(),
            },
            rx,
            settings.max_batch,
        ));
        Self {
            node_id: settings.node_id.into(),
            room_prefix: settings.room_prefix.into(),
            nodes_channel: settings.nodes_channel.into(),
            driver,
            queue,
            queue_capacity: settings.publish_queue,
            closed: AtomicBool::new(false),
            shutdown,
            drain: Mutex::new(Some(drain)),
            rooms: Arc::default(),
            counters,
            lost_heads,
            receiver: Mutex::new(None),
            flush_timeout: settings.flush_timeout,
        }
    }

    pub(crate) fn node_id(&self) -> &str {
        &self.node_id
    }

    /// A room's Redis channel.
    fn room_channel(&self, room: &str) -> String {
        format!("{}{room}", self.room_prefix)
    }

    /// The Redis channel an event travels on.
    fn channel(&self, channel: Channel<'_>) -> String {
        match channel {
            Channel::Room(room) => self.room_channel(room),
            Channel::AllNodes => self.nodes_channel.to_string(),
        }
    }

    /// Subscribes the node-wide channel and starts delivering received events to `handler`:
    /// node-wide ones, and those of subscribed rooms.
    pub(crate) async fn start(&self, handler: Arc<dyn BusHandler>) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        // Listening first, so nothing published after the subscription is confirmed is missed.
        let events = self.driver.events();
        self.driver.subscribe(&self.nodes_channel).await?;
        let mut receiver = self.receiver.lock().unwrap_or_else(PoisonError::into_inner);
        if receiver.is_some() {
            return Err(Error::Config("the bus was already started".into()));
        }
        let ctx = Receiver {
            node_id: Arc::clone(&self.node_id),
            room_prefix: Arc::clone(&self.room_prefix),
            nodes_channel: Arc::clone(&self.nodes_channel),
            rooms: Arc::clone(&self.rooms),
            counters: Arc::clone(&self.counters),
            handler,
        };
        *receiver = Some(AbortOnDrop(tokio::spawn(ctx.run(events))));
        Ok(())
    }

    pub(crate) async fn subscribe(&self, room: &str) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let added = self.rooms_mut().insert(room.to_owned());
        let result = self.driver.subscribe(&self.room_channel(room)).await;
        if result.is_err() && added {
            self.rooms_mut().remove(room);
        }
        result
    }

    pub(crate) async fn unsubscribe(&self, room: &str) -> Result<()> {
        self.rooms_mut().remove(room);
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        self.driver.unsubscribe(&self.room_channel(room)).await
    }

    /// Encodes and queues; never waits. Drops (and counts) when the queue is full or closed.
    pub(crate) fn publish(&self, event: BusEvent) {
        if self.closed.load(Ordering::Acquire) {
            Counters::add(&self.counters.dropped, 1);
            return;
        }
        let payload = match wire::encode(&self.node_id, &event) {
            Ok(payload) => payload,
            Err(e) => {
                Counters::add(&self.counters.dropped, 1);
                tracing::error!(channel = ?event.channel(), error = %e, "cannot encode a bus event; dropped");
                return;
            }
        };
        let item = Outgoing {
            channel: self.channel(event.channel()),
            payload,
            head: head_of(&event).map(|(_, seq)| seq),
        };
        if let Err(e) = self.queue.try_send(item) {
            if let Some((room, seq)) = head_of(&event) {
                remember_lost(&self.lost_heads, room, seq);
            }
            let dropped = Counters::add(&self.counters.dropped, 1);
            if worth_logging(dropped) {
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "the publish queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the bus is closed",
                };
                tracing::warn!(dropped, "bus event dropped: {why}");
            }
        }
    }

    pub(crate) async fn ping(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.driver.ping().await
    }

    /// Stops accepting events, flushes the queue (within the flush timeout), stops receiving
    /// and disconnects. Idempotent.
    pub(crate) async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.shutdown.notify_one();
        let drain = self
            .drain
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // The drain task disconnects the driver once flushed; if it cannot finish, we do.
        let mut flushed = false;
        if let Some(drain) = drain {
            let abort = drain.abort_handle();
            flushed = tokio::time::timeout(self.flush_timeout, drain)
                .await
                .is_ok_and(|joined| joined.is_ok());
            if !flushed {
                abort.abort();
                tracing::warn!("bus queue not flushed within {:?}", self.flush_timeout);
            }
        }
        self.receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if !flushed {
            self.driver.close().await;
        }
        Ok(())
    }

    pub(crate) fn stats(&self) -> BusStats {
        let c = &self.counters;
        BusStats {
            published: Counters::get(&c.published),
            dropped: Counters::get(&c.dropped),
            received: Counters::get(&c.received),
            own: Counters::get(&c.own),
            decode_errors: Counters::get(&c.decode_errors),
            lagged: Counters::get(&c.lagged),
            gaps_suspected: Counters::get(&c.gaps_suspected),
            heads_reannounced: Counters::get(&c.heads_reannounced),
            reconnects: self.driver.reconnects(),
            queued: self.queue_capacity.saturating_sub(self.queue.capacity()) as u64,
            connected: !self.closed.load(Ordering::Acquire) && self.driver.is_connected(),
            rooms: self
                .rooms
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .len() as u64,
        }
    }

    fn rooms_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashSet<String>> {
        self.rooms.write().unwrap_or_else(PoisonError::into_inner)
    }
}

mod drain;

use drain::{Drain, LostHeads, drain, head_of, remember_lost};
mod receive;

use receive::Receiver;
#[cfg(test)]
mod tests;
