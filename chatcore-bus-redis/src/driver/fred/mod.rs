//! [`FredDriver`]: the [`Driver`] on Redis, through two fred connections.
//!
//! One connection publishes (a [`Client`], pipelined); one is subscribed (a
//! [`SubscriberClient`]): a subscribed RESP2 connection cannot run other commands.
//!
//! Subscriptions are re-established by this driver rather than by fred's
//! `manage_subscriptions`, for three reasons found in fred 10.1:
//!
//! - fred tracks only channels whose `SUBSCRIBE` went through, while the hub's wish to hear a
//!   room must survive a `subscribe` made while Redis was down;
//! - its `resubscribe_all` sends `SUBSCRIBE`/`PSUBSCRIBE` without arguments when none are
//!   tracked (Redis answers with an error that fred expects no reply for);
//! - `SUBSCRIBE` and `UNSUBSCRIBE` complete when written, not when Redis applied them, so the
//!   driver confirms each change with a `PING` on the same connection (see
//!   `Shared::send_subscribe`).
//!
//! So the driver keeps the set of wanted channels and the set confirmed on the current
//! connection, and reconciles them after every reconnect and every few seconds.

mod errors;
mod events;
mod shared;
mod subscriptions;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::types::config::{Config, Options, ReconnectPolicy, UnresponsiveConfig};
use fred::types::{Builder, Value};
use tokio::sync::watch;

use super::{Driver, Outgoing};
use crate::config::RedisBusConfig;
use crate::error::redact_url;
use crate::{Error, Result};

use errors::{classify, is_transient, millis, tidy_reason};
pub(crate) use events::FredEvents;
use shared::Shared;
use subscriptions::watch;

/// The Redis driver. Clones share the connections.
#[derive(Clone)]
pub(crate) struct FredDriver {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FredDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FredDriver")
            .field("sharded", &self.shared.sharded)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl FredDriver {
    /// Connects both connections; fails with a one-line [`Error::Connect`] when Redis cannot
    /// be reached.
    pub(crate) async fn connect(config: &RedisBusConfig) -> Result<Self> {
        let url = redact_url(&config.url);
        let scheme = config
            .url
            .split_once("://")
            .map_or("", |(scheme, _)| scheme);
        if !matches!(
            scheme,
            "redis"
                | "redis-cluster"
                | "redis-sentinel"
                | "rediss"
                | "rediss-cluster"
                | "rediss-sentinel"
        ) {
            return Err(Error::Config(format!(
                "invalid Redis URL {url}: expected redis://host:port (or redis-cluster://, redis-sentinel://)"
            )));
        }
        let fred_config = Config::from_url(&config.url)
            .map_err(|e| Error::Config(format!("invalid Redis URL {url}: {}", e.details())))?;
        let scripted = !config.sharded && !fred_config.server.is_clustered();
        let policy = ReconnectPolicy::new_exponential(
            0, // retry forever
            millis(config.reconnect_min),
            millis(config.reconnect_max),
            2,
        );
        let mut builder = Builder::from_config(fred_config);
        builder
            .set_policy(policy)
            .with_connection_config(|c| {
                c.connection_timeout = config.connect_timeout;
                c.internal_command_timeout = config.command_timeout;
                // A connection that leaves a command unanswered this long is closed and
                // reopened: with the liveness pings of `watch`, this catches connections that
                // died silently (a network partition, a vanished host), not only closed ones.
                c.unresponsive = UnresponsiveConfig {
                    max_timeout: Some(config.command_timeout),
                    interval: (config.command_timeout / 4)
                        .clamp(Duration::from_millis(10), Duration::from_secs(1)),
                };
            })
            .with_performance_config(|p| p.default_command_timeout = config.command_timeout);
        let publisher = builder.build()?;
        builder
            .with_performance_config(|p| p.broadcast_channel_capacity = config.broadcast_capacity);
        let subscriber = builder.build_subscriber_client()?;

        let connect_error = |e: fred::error::Error| Error::Connect {
            url: url.clone(),
            reason: tidy_reason(e.details()),
        };
        publisher.init().await.map_err(connect_error)?;
        if let Err(e) = subscriber.init().await {
            let _ = publisher.quit().await;
            return Err(connect_error(e));
        }

        let options = Options {
            fail_fast: true,
            timeout: Some(config.command_timeout),
            max_attempts: Some(1),
            ..Options::default()
        };
        let shared = Arc::new(Shared {
            publisher,
            subscriber,
            sharded: config.sharded,
            scripted,
            options,
            command_timeout: config.command_timeout,
            subs: tokio::sync::Mutex::default(),
            reconnects: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            watcher: Mutex::new(None),
            resubscribed: watch::Sender::new(0),
        });
        let watcher = tokio::spawn(watch(Arc::clone(&shared)));
        *shared
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(watcher);
        Ok(Self { shared })
    }
}

impl Driver for FredDriver {
    type Events = FredEvents;

    fn publish_batch(&self, batch: Vec<Outgoing>) -> impl Future<Output = Result<()>> + Send {
        let shared = Arc::clone(&self.shared);
        async move {
            if shared.scripted && batch.len() > 1 {
                return shared.publish_script(batch).await;
            }
            let pipeline = shared.publisher.pipeline();
            let queued = pipeline.with_options(&shared.options);
            // Queueing completes without waiting; `unconstrained` keeps Tokio's cooperative
            // budget from suspending it halfway, so the whole batch is handed to the connection
            // (by `last`) during this future's first poll, as the Driver contract requires.
            tokio::task::unconstrained(async {
                for Outgoing {
                    channel, payload, ..
                } in batch
                {
                    let payload = Value::Bytes(payload);
                    if shared.sharded {
                        queued.spublish::<(), _, _>(channel, payload).await?;
                    } else {
                        queued.publish::<(), _, _>(channel, payload).await?;
                    }
                }
                Ok::<_, fred::error::Error>(())
            })
            .await?;
            let _: Value = pipeline.last().await.map_err(classify)?;
            Ok(())
        }
    }

    async fn subscribe(&self, channel: &str) -> Result<()> {
        let shared = &self.shared;
        let mut subs = shared.subs.lock().await;
        subs.wanted.insert(channel.to_owned());
        if subs.active.contains(channel) || !shared.subscriber.is_connected() {
            return Ok(()); // already there, or done by reconciliation after reconnecting
        }
        match shared.send_subscribe(true, vec![channel.to_owned()]).await {
            Ok(()) => {
                subs.active.insert(channel.to_owned());
                Ok(())
            }
            Err(e) if is_transient(&e) => {
                tracing::warn!(channel, error = %e, "subscribe failed; retrying after reconnect");
                Ok(())
            }
            Err(e) => {
                subs.wanted.remove(channel);
                Err(e.into())
            }
        }
    }

    async fn unsubscribe(&self, channel: &str) -> Result<()> {
        let shared = &self.shared;
        let mut subs = shared.subs.lock().await;
        subs.wanted.remove(channel);
        if !subs.active.contains(channel) || !shared.subscriber.is_connected() {
            return Ok(());
        }
        match shared.send_subscribe(false, vec![channel.to_owned()]).await {
            Ok(()) => {
                subs.active.remove(channel);
                Ok(())
            }
            Err(e) => {
                // The bus filters the room's messages already; reconciliation retries.
                tracing::warn!(channel, error = %e, "unsubscribe failed; retrying later");
                Ok(())
            }
        }
    }

    fn is_connected(&self) -> bool {
        self.shared.publisher.is_connected() && self.shared.subscriber.is_connected()
    }

    async fn ping(&self) -> Result<()> {
        if !self.is_connected() {
            return Err(Error::Disconnected);
        }
        let _: Value = self
            .shared
            .publisher
            .with_options(&self.shared.options)
            .ping(None)
            .await
            .map_err(classify)?;
        Ok(())
    }

    fn events(&self) -> FredEvents {
        let mut resubscribed = self.shared.resubscribed.subscribe();
        resubscribed.mark_unchanged();
        FredEvents {
            rx: self.shared.subscriber.message_rx(),
            resubscribed,
        }
    }

    fn reconnects(&self) -> u64 {
        self.shared.reconnects.load(Ordering::Relaxed)
    }

    async fn close(&self) {
        let shared = &self.shared;
        if shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(watcher) = shared
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            watcher.abort();
        }
        // QUIT also stops a reconnection loop that is waiting between attempts.
        let quit = async {
            let (a, b) = tokio::join!(shared.subscriber.quit(), shared.publisher.quit());
            a.and(b)
        };
        match tokio::time::timeout(shared.command_timeout, quit).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "QUIT failed"),
            Err(_) => tracing::debug!("QUIT timed out"),
        }
    }
}
