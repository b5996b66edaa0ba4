//! [`StubDriver`]: an in-memory pub/sub server for unit tests of the bus logic.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::{broadcast, watch};

use super::{Driver, Events, Incoming, Outgoing};
use crate::{Error, Result};

/// Connections that see each other's publishes, like clients of one Redis.
#[derive(Clone, Default)]
pub(crate) struct StubNet {
    conns: Arc<Mutex<Vec<Arc<Conn>>>>,
}

struct Conn {
    channels: Mutex<HashSet<String>>,
    /// Messages as `(channel, payload)`; `None` reports a re-subscription.
    tx: broadcast::Sender<Option<(Bytes, Bytes)>>,
}

impl StubNet {
    /// A new connection whose receive buffer holds `capacity` messages.
    pub(crate) fn driver(&self, capacity: usize) -> StubDriver {
        let conn = Arc::new(Conn {
            channels: Mutex::default(),
            tx: broadcast::channel(capacity).0,
        });
        lock(&self.conns).push(Arc::clone(&conn));
        StubDriver {
            net: self.clone(),
            conn,
            connected: Arc::new(AtomicBool::new(true)),
            paused: Arc::new(watch::channel(false).0),
            batches: Arc::default(),
            closed: Arc::default(),
        }
    }

    /// Delivers `payload` to every connection subscribed to `channel`, as Redis would.
    pub(crate) fn inject(&self, channel: &str, payload: impl Into<Bytes>) {
        let payload = payload.into();
        for conn in lock(&self.conns).iter() {
            if lock(&conn.channels).contains(channel) {
                let _ = conn.tx.send(Some((
                    Bytes::copy_from_slice(channel.as_bytes()),
                    payload.clone(),
                )));
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One node's connection to a [`StubNet`]. Clones share it.
#[derive(Clone)]
pub(crate) struct StubDriver {
    net: StubNet,
    conn: Arc<Conn>,
    /// Cleared to simulate Redis being down: publishing and ping fail at once.
    pub(crate) connected: Arc<AtomicBool>,
    /// While `true`, publish batches are delivered but their replies are withheld.
    pub(crate) paused: Arc<watch::Sender<bool>>,
    /// Size of every batch published, in order.
    pub(crate) batches: Arc<Mutex<Vec<usize>>>,
    pub(crate) closed: Arc<AtomicU64>,
}

impl StubDriver {
    pub(crate) fn batch_sizes(&self) -> Vec<usize> {
        lock(&self.batches).clone()
    }

    /// Reports that the connection came back and re-subscribed, as the Redis driver does
    /// after a reconnect.
    pub(crate) fn resubscribed(&self) {
        let _ = self.conn.tx.send(None);
    }
}

impl Driver for StubDriver {
    type Events = StubEvents;

    fn publish_batch(&self, batch: Vec<Outgoing>) -> impl Future<Output = Result<()>> + Send {
        let this = self.clone();
        async move {
            if !this.connected.load(Ordering::SeqCst) {
                return Err(Error::Disconnected);
            }
            lock(&this.batches).push(batch.len());
            for Outgoing {
                channel, payload, ..
            } in batch
            {
                this.net.inject(&channel, payload);
            }
            let mut paused = this.paused.subscribe();
            let _ = paused.wait_for(|p| !p).await;
            Ok(())
        }
    }

    async fn subscribe(&self, channel: &str) -> Result<()> {
        lock(&self.conn.channels).insert(channel.to_owned());
        Ok(())
    }

    async fn unsubscribe(&self, channel: &str) -> Result<()> {
        lock(&self.conn.channels).remove(channel);
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    async fn ping(&self) -> Result<()> {
        if self.is_connected() {
            Ok(())
        } else {
            Err(Error::Disconnected)
        }
    }

    fn events(&self) -> StubEvents {
        StubEvents {
            rx: self.conn.tx.subscribe(),
        }
    }

    fn reconnects(&self) -> u64 {
        0
    }

    async fn close(&self) {
        self.closed.fetch_add(1, Ordering::SeqCst);
        lock(&self.conn.channels).clear();
    }
}

/// A [`StubDriver`]'s received messages.
pub(crate) struct StubEvents {
    rx: broadcast::Receiver<Option<(Bytes, Bytes)>>,
}

impl Events for StubEvents {
    async fn next(&mut self) -> Option<Incoming> {
        match self.rx.recv().await {
            Ok(Some((channel, payload))) => Some(Incoming::Message { channel, payload }),
            Ok(None) => Some(Incoming::Resubscribed),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Incoming::Lagged(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
