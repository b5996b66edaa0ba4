//! [`StreamConfig`] and [`StreamFilter`]: what an [`EventStream`](super::EventStream) reads and how.

use std::time::Duration;

use crate::protocol::{Message, MessageKind};

/// Which events a stream delivers. Events it skips still move the stream forward (they are
/// not delivered again in this run; after a restart they are read and skipped again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamFilter {
    /// Only rooms whose name starts with this.
    pub room_prefix: Option<String>,
    /// Only these kinds (every kind when `None`).
    pub kinds: Option<Vec<MessageKind>>,
}

impl StreamFilter {
    /// Only rooms whose name starts with `prefix`.
    pub fn room_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.room_prefix = Some(prefix.into());
        self
    }

    /// Only events of these kinds.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = MessageKind>) -> Self {
        self.kinds = Some(kinds.into_iter().collect());
        self
    }

    /// `true` when the stream reads `room` at all.
    pub fn reads_room(&self, room: &str) -> bool {
        self.room_prefix
            .as_ref()
            .is_none_or(|p| room.starts_with(p))
    }

    /// `true` when the stream delivers `event`.
    pub fn accepts(&self, event: &Message) -> bool {
        self.reads_room(&event.room) && self.kinds.as_ref().is_none_or(|k| k.contains(&event.kind))
    }
}

/// How an [`EventStream`](super::EventStream) consumes. Start with [`StreamConfig::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamConfig {
    /// The consumer group: cursors and the lease are kept under this name. Each group gets
    /// every event once.
    pub group: String,
    /// This consumer's name in the lease. Default: the hub's node id, stable across restarts
    /// of one node, so a restarted consumer keeps its lease instead of waiting it out.
    pub holder: Option<String>,
    /// How long the lease lasts without renewal: a consumer that dies is replaced after
    /// this. Renewed every third of it while the consumer reads. Default 10 s.
    pub lease_ttl: Duration,
    /// How often an idle stream looks for commits made on other nodes. Default 250 ms; this
    /// node's commits wake it at once.
    pub poll: Duration,
    /// Events read from the store per room per page. Default 200.
    pub page: u32,
    /// Which events to deliver.
    pub filter: StreamFilter,
}

impl StreamConfig {
    /// Defaults for consumer group `group`.
    pub fn new(group: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            holder: None,
            lease_ttl: Duration::from_secs(10),
            poll: Duration::from_millis(250),
            page: 200,
            filter: StreamFilter::default(),
        }
    }

    /// With a filter.
    pub fn with_filter(mut self, filter: StreamFilter) -> Self {
        self.filter = filter;
        self
    }

    /// With this consumer's lease name.
    pub fn with_holder(mut self, holder: impl Into<String>) -> Self {
        self.holder = Some(holder.into());
        self
    }

    /// With a lease time to live.
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// With an idle poll interval.
    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// With a page size.
    pub fn with_page(mut self, page: u32) -> Self {
        self.page = page;
        self
    }

    /// Refuses settings that cannot work.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        if self.group.is_empty() || self.group.len() > 128 {
            return Err(crate::Error::invalid("group", "must be 1 to 128 bytes"));
        }
        if self.lease_ttl < Duration::from_millis(30) || self.poll.is_zero() || self.page == 0 {
            return Err(crate::Error::Config(
                "an event stream needs a lease of at least 30 ms, a poll interval and a page size"
                    .into(),
            ));
        }
        Ok(())
    }
}
