//! [`Shared`]: the connections and subscription state that every clone of the driver, and
//! its watcher task, share.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use fred::clients::{Client, SubscriberClient};
use fred::types::config::Options;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the clones of a [`FredDriver`](super::FredDriver) share: the two connections, the
/// command options, the subscriptions and the counters.
pub(super) struct Shared {
    /// Publishes (pipelined) and answers pings.
    pub(super) publisher: Client,
    /// Subscribed to the room channels; nothing else.
    pub(super) subscriber: SubscriberClient,
    pub(super) sharded: bool,
    /// Publish batches with
    /// [`PUBLISH_BATCH_SCRIPT`](super::subscriptions::PUBLISH_BATCH_SCRIPT) rather than as
    /// pipelines.
    pub(super) scripted: bool,
    /// Applied to every command we wait for: fail at once while disconnected (rather than
    /// waiting in fred's unbounded retry buffer) and never wait longer than the timeout.
    pub(super) options: Options,
    pub(super) command_timeout: Duration,
    /// Wanted and confirmed subscriptions. A tokio mutex, held across the (un)subscribe round
    /// trip, so that subscribe, unsubscribe and reconciliation never interleave.
    pub(super) subs: tokio::sync::Mutex<Subs>,
    pub(super) reconnects: AtomicU64,
    pub(super) closed: AtomicBool,
    /// The reconnect watcher; aborted by `close`. std mutex: never held across an await.
    pub(super) watcher: Mutex<Option<JoinHandle<()>>>,
    /// Bumped each time the subscribed connection is back after a disconnect with every
    /// wanted channel subscribed again; [`FredEvents`](super::FredEvents) turns it into
    /// [`Incoming::Resubscribed`](crate::driver::Incoming::Resubscribed), so the hub repairs
    /// what was lost meanwhile.
    pub(super) resubscribed: watch::Sender<u64>,
}

/// The channels the bus wants and those Redis confirmed (see [`Shared::subs`]).
#[derive(Debug, Default)]
pub(super) struct Subs {
    /// Channels the bus wants to hear.
    pub(super) wanted: HashSet<String>,
    /// Channels Redis confirmed on the current connection.
    pub(super) active: HashSet<String>,
    /// The connection was lost since the last
    /// [`Incoming::Resubscribed`](crate::driver::Incoming::Resubscribed): report one once
    /// every wanted channel is subscribed again.
    pub(super) resync_pending: bool,
}
