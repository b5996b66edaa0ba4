//! The drain task: the publish queue sent as pipelined batches, and the memory of what was
//! lost so that its heads are announced again once publishing works.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chatcore::bus::BusEvent;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Notify, mpsc};

use crate::Result;
use crate::driver::{Driver, Outgoing};
use crate::stats::{Counters, worth_logging};
use crate::wire;

/// Pipelines in flight at once. More than one keeps Redis busy while the previous batch's
/// replies travel back; the replies of one connection come back in order, so a few suffice.
pub(super) const MAX_IN_FLIGHT: usize = 4;

/// How often the drain task tries to re-announce the heads of rooms whose events were
/// dropped. Short enough that a restarted Redis is followed by repairs within a fraction of a
/// second; a timer tick this rare costs nothing.
const LOST_HEADS_EVERY: Duration = Duration::from_millis(250);

/// Newest dropped seq per room (see the module docs). std mutex: held for a map operation,
/// never across an await, and only on the loss path.
pub(super) type LostHeads = Arc<Mutex<HashMap<String, u64>>>;

/// The room and seq announced by an event whose loss other nodes must learn about.
pub(super) fn head_of(event: &BusEvent) -> Option<(&str, u64)> {
    match event {
        BusEvent::Message(m) => Some((&m.room, m.seq)),
        BusEvent::Head { room, seq } => Some((room, *seq)),
        _ => None,
    }
}

pub(super) fn remember_lost(lost: &LostHeads, room: &str, seq: u64) {
    let mut lost = lost.lock().unwrap_or_else(PoisonError::into_inner);
    match lost.get_mut(room) {
        Some(head) => *head = (*head).max(seq),
        None => {
            lost.insert(room.to_owned(), seq);
        }
    }
}

/// A batch being sent: its outcome, its size, and the newest seq per channel it carried.
type Pending = Pin<Box<dyn Future<Output = Sent> + Send>>;

/// What a batch's future reports.
struct Sent {
    result: Result<()>,
    events: usize,
    /// Newest `Message`/`Head` seq per channel in the batch, remembered if it failed.
    heads: HashMap<String, u64>,
}

/// What the drain task shares with the engine.
pub(super) struct Drain<D> {
    pub(super) driver: D,
    pub(super) shutdown: Arc<Notify>,
    pub(super) counters: Arc<Counters>,
    pub(super) lost_heads: LostHeads,
    pub(super) node_id: String,
    pub(super) room_prefix: String,
}

impl<D: Driver> Drain<D> {
    /// Counts a batch's outcome; remembers the heads of a lost one.
    fn settle(&self, sent: Sent, failed_batches: &mut u64) {
        let Sent {
            result,
            events,
            heads,
        } = sent;
        match result {
            Ok(()) => {
                Counters::add(&self.counters.published, events as u64);
            }
            Err(e) => {
                Counters::add(&self.counters.dropped, events as u64);
                for (channel, seq) in heads {
                    if let Some(room) = channel.strip_prefix(&self.room_prefix) {
                        remember_lost(&self.lost_heads, room, seq);
                    }
                }
                *failed_batches += 1;
                if worth_logging(*failed_batches) {
                    tracing::warn!(events, failed_batches = *failed_batches, error = %e, "bus publish batch dropped");
                }
            }
        }
    }

    /// `Head` events for the rooms whose newest events were lost, once Redis is back.
    fn lost_heads_batch(&self) -> Vec<Outgoing> {
        if !self.driver.is_connected() {
            return Vec::new();
        }
        let lost = std::mem::take(
            &mut *self
                .lost_heads
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let mut batch = Vec::with_capacity(lost.len());
        for (room, seq) in lost {
            let channel = format!("{}{room}", self.room_prefix);
            let event = BusEvent::Head { room, seq };
            if let Ok(payload) = wire::encode(&self.node_id, &event) {
                batch.push(Outgoing {
                    channel,
                    payload,
                    head: Some(seq),
                });
            }
        }
        Counters::add(&self.counters.heads_reannounced, batch.len() as u64);
        batch
    }

    /// Starts sending `batch` as one pipeline. Polls it once now, so the batch reaches the
    /// connection before any later one does; returns its outcome if it is already known.
    fn send(
        &self,
        batch: Vec<Outgoing>,
        in_flight: &mut FuturesUnordered<Pending>,
    ) -> Option<Sent> {
        let events = batch.len();
        let mut heads: HashMap<String, u64> = HashMap::new();
        for item in &batch {
            if let Some(seq) = item.head {
                match heads.get_mut(&item.channel) {
                    Some(head) => *head = (*head).max(seq),
                    None => {
                        heads.insert(item.channel.clone(), seq);
                    }
                }
            }
        }
        let driver = self.driver.clone();
        let mut send: Pending = Box::pin(async move {
            Sent {
                result: driver.publish_batch(batch).await,
                events,
                heads,
            }
        });
        match futures::FutureExt::now_or_never(send.as_mut()) {
            Some(sent) => Some(sent),
            None => {
                in_flight.push(send);
                None
            }
        }
    }
}

/// Drains the publish queue: takes what is there (up to `max_batch`), sends it as one
/// pipeline, keeps up to [`MAX_IN_FLIGHT`] pipelines in flight, and re-announces lost heads
/// every [`LOST_HEADS_EVERY`]. On shutdown, or when every sender is gone, flushes what is
/// queued, waits for the replies and disconnects the driver.
pub(super) async fn drain<D: Driver>(
    d: Drain<D>,
    mut rx: mpsc::Receiver<Outgoing>,
    max_batch: usize,
) {
    let mut in_flight: FuturesUnordered<Pending> = FuturesUnordered::new();
    let mut buf = Vec::with_capacity(max_batch);
    let mut closing = false;
    let mut failed_batches = 0u64;
    let mut retry = tokio::time::interval(LOST_HEADS_EVERY);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            Some(sent) = in_flight.next(), if !in_flight.is_empty() => {
                d.settle(sent, &mut failed_batches);
            }
            () = d.shutdown.notified(), if !closing => {
                closing = true;
                rx.close(); // what is queued is still received, then `recv_many` returns 0
            }
            n = rx.recv_many(&mut buf, max_batch), if in_flight.len() < MAX_IN_FLIGHT => {
                if n == 0 {
                    break;
                }
                let batch = std::mem::replace(&mut buf, Vec::with_capacity(max_batch));
                if let Some(sent) = d.send(batch, &mut in_flight) {
                    d.settle(sent, &mut failed_batches);
                }
            }
            _ = retry.tick(), if !closing && in_flight.len() < MAX_IN_FLIGHT => {
                let batch = d.lost_heads_batch();
                if !batch.is_empty() {
                    if let Some(sent) = d.send(batch, &mut in_flight) {
                        d.settle(sent, &mut failed_batches);
                    }
                }
            }
        }
    }
    while let Some(sent) = in_flight.next().await {
        d.settle(sent, &mut failed_batches);
    }
    d.driver.close().await;
}
