//! What the shared connections do in the background: scripted publish batches, keeping the
//! wanted channels subscribed (reconciliation after reconnects and every
//! [`RECONCILE_EVERY`]), and the watcher task that drives it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::types::{ClusterHash, CustomCommand, Value};
use tokio::sync::broadcast;

use super::errors::classify;
use super::shared::Shared;
use crate::Result;
use crate::driver::Outgoing;

/// How often wanted and confirmed subscriptions are compared outside reconnects (a
/// `SUBSCRIBE` that timed out while connected is retried this late at worst).
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

/// Channels per `SUBSCRIBE` when re-subscribing many at once.
const SUBSCRIBE_CHUNK: usize = 512;

/// Publishes `KEYS[i]`'s payload `ARGV[i]` for every `i`: a batch of `PUBLISH`es as one
/// command. Redis still runs one `PUBLISH` per event, in order; the client builds, sends and
/// awaits one command per batch instead of one per event, which is where a pipeline of
/// `PUBLISH`es spends its time (about twice the throughput measured here, see
/// BENCHMARKS.md). Used on a single Redis (or sentinel) with classic pub/sub; Redis Cluster
/// refuses multi-slot scripts, so there batches stay pipelines of (S)PUBLISH.
const PUBLISH_BATCH_SCRIPT: &str =
    "for i = 1, #KEYS do redis.call('PUBLISH', KEYS[i], ARGV[i]) end return #KEYS";

impl Shared {
    /// Sends a `PING` on each connected connection without waiting for the answers.
    pub(super) fn ping_both(&self) {
        let timeout = self.command_timeout;
        if self.publisher.is_connected() {
            let publisher = self.publisher.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(timeout, publisher.ping::<Value>(None)).await;
            });
        }
        if self.subscriber.is_connected() {
            let subscriber = self.subscriber.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(timeout, subscriber.ping::<Value>(None)).await;
            });
        }
    }

    /// One `EVAL` of [`PUBLISH_BATCH_SCRIPT`] for the batch. The command reaches the
    /// connection during the first poll, like a pipeline.
    pub(super) async fn publish_script(&self, batch: Vec<Outgoing>) -> Result<()> {
        let mut args = Vec::with_capacity(2 + 2 * batch.len());
        args.push(Value::from_static_str(PUBLISH_BATCH_SCRIPT));
        args.push(Value::Integer(batch.len() as i64));
        let mut payloads = Vec::with_capacity(batch.len());
        for Outgoing {
            channel, payload, ..
        } in batch
        {
            args.push(Value::String(channel.into()));
            payloads.push(Value::Bytes(payload));
        }
        args.extend(payloads);
        let eval = CustomCommand::new_static("EVAL", ClusterHash::Random, false);
        let _: Value = self
            .publisher
            .with_options(&self.options)
            .custom(eval, args)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// One `(S)SUBSCRIBE` or `(S)UNSUBSCRIBE` for `channels`, returning once Redis applied
    /// it, bounded by the command timeout. Sharded commands go one hash slot at a time (Redis
    /// Cluster refuses cross-slot ones); fred waits for `SSUBSCRIBE`'s own reply.
    pub(super) async fn send_subscribe(
        &self,
        subscribe: bool,
        channels: Vec<String>,
    ) -> Result<(), fred::error::Error> {
        let s = &self.subscriber;
        let round_trip = async {
            if !self.sharded {
                if subscribe {
                    s.subscribe(channels).await?;
                } else {
                    s.unsubscribe(channels).await?;
                }
                // fred completes (UN)SUBSCRIBE once written, not when Redis has applied it.
                // Redis answers a connection's commands in order, so a PING answered on the
                // same connection proves the change is in effect: events published from now
                // on reach this node (what the hub relies on before reading the last seq).
                let _: Value = s.ping(None).await?;
                return Ok(());
            }
            let mut by_slot: BTreeMap<u16, Vec<String>> = BTreeMap::new();
            for channel in channels {
                let slot = fred::util::redis_keyslot(channel.as_bytes());
                by_slot.entry(slot).or_default().push(channel);
            }
            for (_, group) in by_slot {
                if subscribe {
                    s.ssubscribe(group).await?;
                } else {
                    s.sunsubscribe(group).await?;
                }
            }
            Ok(())
        };
        tokio::time::timeout(self.command_timeout, round_trip)
            .await
            .unwrap_or_else(|_| {
                Err(fred::error::Error::new(
                    fred::error::ErrorKind::Timeout,
                    "subscription change timed out",
                ))
            })
    }

    /// Makes the confirmed subscriptions match the wanted ones. After a reconnect nothing is
    /// confirmed, so everything wanted is subscribed again.
    pub(super) async fn reconcile(&self, reconnected: bool) {
        let mut subs = self.subs.lock().await;
        if reconnected {
            subs.active.clear();
            subs.resync_pending = true;
        }
        if !self.subscriber.is_connected() {
            return;
        }
        let missing: Vec<String> = subs.wanted.difference(&subs.active).cloned().collect();
        for chunk in missing.chunks(SUBSCRIBE_CHUNK) {
            match self.send_subscribe(true, chunk.to_vec()).await {
                Ok(()) => subs.active.extend(chunk.iter().cloned()),
                Err(e) => {
                    tracing::warn!(channels = chunk.len(), error = %e, "re-subscribing failed; retrying later");
                    return;
                }
            }
        }
        if subs.resync_pending {
            subs.resync_pending = false;
            if !missing.is_empty() {
                tracing::info!(
                    channels = missing.len(),
                    "re-subscribed after reconnecting to Redis"
                );
            }
            self.resubscribed.send_modify(|n| *n += 1);
        }
        let extra: Vec<String> = subs.active.difference(&subs.wanted).cloned().collect();
        for chunk in extra.chunks(SUBSCRIBE_CHUNK) {
            if self.send_subscribe(false, chunk.to_vec()).await.is_ok() {
                for channel in chunk {
                    subs.active.remove(channel);
                }
            }
        }
    }
}

/// Counts reconnections, re-subscribes after the subscribed connection's, and every
/// [`RECONCILE_EVERY`] reconciles subscriptions and pings both connections (an idle
/// connection that died silently then has an unanswered command, and fred's unresponsive
/// check replaces it).
pub(super) async fn watch(shared: Arc<Shared>) {
    let mut publisher = shared.publisher.reconnect_rx();
    let mut subscriber = shared.subscriber.reconnect_rx();
    let mut tick = tokio::time::interval(RECONCILE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            r = publisher.recv() => match r {
                Ok(server) => {
                    shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%server, "bus publishing connection reconnected to Redis");
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            r = subscriber.recv() => match r {
                Ok(server) => {
                    shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%server, "bus subscribed connection reconnected to Redis");
                    shared.reconcile(true).await;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => shared.reconcile(true).await,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                shared.reconcile(false).await;
                shared.ping_both();
            }
        }
    }
}
