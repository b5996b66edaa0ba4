//! [`EventStream`]: the consumer: lease, catch-up pages, live tail, fenced commits.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{StreamConfig, Wake};
use crate::protocol::Message;
use crate::store::{HistoryQuery, Store};
use crate::{Error, Result};

/// One consumer of the host's event stream (see the [module docs](super)). Made by
/// [`Hub::event_stream`](crate::Hub::event_stream); read with [`EventStream::next`], commit
/// with [`EventStream::commit`].
pub struct EventStream {
    store: Arc<dyn Store>,
    wake: Arc<Wake>,
    config: StreamConfig,
    holder: String,
    /// The lease's fencing token while this consumer holds it.
    token: Option<u64>,
    renewed: Instant,
    /// Room → last seq read from the store (delivered or skipped).
    read: HashMap<String, u64>,
    /// Read and not yet handed out: at most about one page.
    buffer: VecDeque<Message>,
    /// Where the next round of reads starts among the rooms, so every room gets its turn.
    turn: usize,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("group", &self.config.group)
            .field("holder", &self.holder)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        wake: Arc<Wake>,
        config: StreamConfig,
        node: &str,
    ) -> Result<Self> {
        config.validate()?;
        let holder = config.holder.clone().unwrap_or_else(|| node.to_owned());
        wake.open();
        Ok(Self {
            store,
            wake,
            config,
            holder,
            token: None,
            renewed: Instant::now(),
            read: HashMap::new(),
            buffer: VecDeque::new(),
            turn: 0,
        })
    }

    /// `true` while this consumer holds its group's lease (it is the one delivering).
    pub fn is_active(&self) -> bool {
        self.token.is_some()
    }

    /// The next event for this group. Waits while another consumer of the group holds the
    /// lease, and while there is nothing new. Fails on a store error, and with
    /// [`Error::BadCursor`] when a committed cursor is past its room's newest seq (a store
    /// restored from an older backup).
    pub async fn next(&mut self) -> Result<Message> {
        loop {
            self.keep_lease().await?;
            if let Some(event) = self.buffer.pop_front() {
                return Ok(event);
            }
            let wake = Arc::clone(&self.wake);
            let waiting = wake.notified();
            if !self.fill().await? {
                let nap = self.config.poll.min(self.config.lease_ttl / 3);
                tokio::select! {
                    () = waiting => {}
                    () = tokio::time::sleep(nap) => {}
                }
            }
        }
    }

    /// Records that the group has processed `event` (and everything before it in its room).
    /// Fails with [`Error::LeaseLost`] when another consumer took over; this one then
    /// starts again from the committed cursors once it holds the lease again.
    pub async fn commit(&mut self, event: &Message) -> Result<()> {
        let Some(token) = self.token else {
            return Err(Error::LeaseLost(self.config.group.clone()));
        };
        let done = self
            .store
            .commit_cursor(&self.config.group, token, &event.room, event.seq)
            .await;
        if let Err(Error::LeaseLost(_)) = &done {
            self.lose_lease();
        }
        done
    }

    /// Takes or renews the lease when due; waits on standby while someone else holds it.
    async fn keep_lease(&mut self) -> Result<()> {
        let ttl = self.config.lease_ttl;
        loop {
            if self.token.is_some() && self.renewed.elapsed() < ttl / 3 {
                return Ok(());
            }
            let asked = Instant::now();
            match self
                .store
                .acquire_lease(&self.config.group, &self.holder, ttl)
                .await?
            {
                Some(token) => {
                    if self.token != Some(token) {
                        self.start_from_cursors(token).await?;
                    }
                    self.renewed = asked;
                    return Ok(());
                }
                None => {
                    if self.token.is_some() {
                        self.lose_lease();
                    }
                    tokio::time::sleep(ttl / 3).await;
                }
            }
        }
    }

    async fn start_from_cursors(&mut self, token: u64) -> Result<()> {
        let cursors = self.store.cursors(&self.config.group).await?;
        tracing::info!(group = %self.config.group, holder = %self.holder, token, "event stream: lease taken");
        self.read = cursors.into_iter().collect();
        self.buffer.clear();
        self.token = Some(token);
        Ok(())
    }

    fn lose_lease(&mut self) {
        tracing::warn!(group = %self.config.group, holder = %self.holder, "event stream: lease lost");
        self.token = None;
        self.read.clear();
        self.buffer.clear();
    }

    /// Reads a page from each room with something new, in turn, until about a page is
    /// buffered. `false` when nothing was new.
    async fn fill(&mut self) -> Result<bool> {
        let heads = self.store.heads().await?;
        if heads.is_empty() {
            return Ok(false);
        }
        let n = heads.len();
        let mut progressed = false;
        for i in 0..n {
            let (room, head) = &heads[(self.turn + i) % n];
            if !self.config.filter.reads_room(room) {
                continue;
            }
            let at = self.read.get(room).copied().unwrap_or(0);
            if at > *head {
                return Err(Error::BadCursor(format!(
                    "consumer group {}: the cursor of {room} is at {at}, past its newest seq {head}",
                    self.config.group
                )));
            }
            if at == *head {
                continue;
            }
            let page = self
                .store
                .history(room, HistoryQuery::after(at, self.config.page))
                .await?;
            let Some(last) = page.messages.last() else {
                continue;
            };
            self.read.insert(room.clone(), last.seq);
            progressed = true;
            let filter = &self.config.filter;
            self.buffer
                .extend(page.messages.into_iter().filter(|m| filter.accepts(m)));
            if self.buffer.len() >= self.config.page as usize {
                self.turn = (self.turn + i + 1) % n;
                return Ok(true);
            }
        }
        self.turn = (self.turn + 1) % n;
        Ok(progressed)
    }

    /// How long the lease lasts (for hosts that size their own timeouts around it).
    pub fn lease_ttl(&self) -> Duration {
        self.config.lease_ttl
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.wake.close();
    }
}
