//! [`Limits`]: the hub's size and rate bounds.

use std::num::NonZeroU32;
use std::time::Duration;

use super::rate::Rate;
use crate::{Error, Result};

/// A default rate (the numbers are non-zero constants).
const fn rate(per_second: u32, burst: u32) -> Option<Rate> {
    match (NonZeroU32::new(per_second), NonZeroU32::new(burst)) {
        (Some(p), Some(b)) => Some(Rate::of(p, b)),
        _ => None,
    }
}

/// Size and time bounds the hub enforces. Every field has a default chosen for a public chat
/// server; change them with the `with_*` setters, which check invariants (fields set directly
/// are checked by [`Limits::validate`] when the hub is built).
///
/// `#[non_exhaustive]`: limits are added as the protocol grows (this release added
/// [`Limits::max_data_bytes`]); start from [`Limits::default`] and use the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest message text, in UTF-8 bytes. Default 8 KiB: several screens of text, while a
    /// 1 MiB paste is refused.
    pub max_text_bytes: usize,
    /// Largest nonce, in bytes. Default 128: room for a UUID or a hash, not for abuse of the
    /// dedupe index.
    pub max_nonce_bytes: usize,
    /// Largest [`Message::data`](crate::protocol::Message::data), in bytes of compact JSON
    /// (whatever the codec). Default 4 KiB: room for a card's fields (an order with a few
    /// lines, a poll), not for files, which would be copied to every member, the store and
    /// the bus. Checked after the policy, so metadata a policy attaches counts too.
    pub max_data_bytes: usize,
    /// Outbound queue of each session, in frames. Default 1024: several seconds of a busy room.
    /// A member whose queue cannot take a message falls behind and is fed from the store as
    /// its queue drains; see [`Limits::slow_consumer_after`].
    pub queue_capacity: usize,
    /// How long a session whose queue is full may take nothing out of it before it is closed
    /// as a slow consumer (close code 4008). Default 3 s: a reader that makes any progress is
    /// caught up from the store instead; one that stopped reading is cut off within seconds
    /// of its socket refusing bytes.
    pub slow_consumer_after: Duration,
    /// Messages sent in `joined` when a client joins without a resume point. Default 50.
    pub history_on_join: u32,
    /// Largest history page a client may ask for. Default 200.
    pub max_history_page: u32,
    /// Most missed messages replayed inside `joined` on resume; beyond it the client pages.
    /// Default 500.
    pub resume_limit: u32,
    /// Rooms one session may have joined at once. Default 256.
    pub max_rooms_per_session: usize,
    /// How long a room waits for a missing seq (lost on the bus, or a commit whose ack was
    /// lost) before reading it from the store. Default 200 ms.
    pub gap_timeout: Duration,
    /// How often a node renews its presence lease for each room with local members
    /// ([`BusEvent::Roster`](crate::bus::BusEvent::Roster)). Default 2 s.
    pub presence_heartbeat: Duration,
    /// How long another node's presence stays valid without renewal. Default 7 s: three
    /// renewals fall inside it (two may be lost) with 1 s to spare for a late one. A dead
    /// node's users leave everyone's presence between `lease - heartbeat` and the lease plus
    /// one sweep (a fortieth of the lease, at most 250 ms) after it died: 5 to 7.25 s with
    /// the defaults, inside the promised 10 s with 2.75 s of margin (RELIABILITY.md).
    pub presence_lease: Duration,
    /// Most users online in a room for which each join and leave is announced to every
    /// member (`user_joined`/`user_left`). Past it the room is *large*: members get the count
    /// (`online_count`, coalesced to once a second) and ask `who` for the list; at half of it
    /// the room is small again. Default 200: announcing every join makes filling a room of n
    /// cost n² frames (5,000 members: 25 million).
    pub presence_announce_limit: usize,
    /// `send`s and `dm`s one user may make, over all their sessions on this node that a
    /// transport opened ([`Hub::connect_from`](crate::Hub::connect_from)); `None` for no limit.
    /// Past it a command is refused with `rate_limited` and `retry_after_ms`, and nothing is
    /// stored. Default 10 per second in bursts of 50: a person types far slower, a pasted
    /// conversation fits in the burst, and one user cannot multiply the per-connection frame
    /// limit by opening more connections.
    pub messages_per_user: Option<Rate>,
    /// `send`s and `dm`s from one IP address, all its users together; `None` for no limit.
    /// Default 100 per second in bursts of 300: room for an office or a school behind one NAT,
    /// while one address cannot flood with many made-up guest names.
    pub messages_per_ip: Option<Rate>,
    /// `join`s one user may make; `None` for no limit. Default 10 per second in bursts of 300:
    /// a client that reconnects rejoins all its rooms (at most
    /// [`Limits::max_rooms_per_session`], 256) at once.
    pub joins_per_user: Option<Rate>,
    /// `join`s from one IP address; `None` for no limit. Default 100 per second in bursts of
    /// 1,000.
    pub joins_per_ip: Option<Rate>,
    /// `join`s into one room from everyone (join-flood protection: a bot army cannot pour into
    /// a room faster than its members can react); `None` for no limit. Default 50 per second
    /// in bursts of 500: a room's regulars reconnecting after a restart fit in the burst, and
    /// those refused retry after `retry_after_ms`.
    pub joins_per_room: Option<Rate>,
    /// Sessions one IP address may have open on this node at once, every transport together;
    /// `None` for no cap. Past it a connection is refused with close code 4429. Default
    /// 1,000: a large NAT fits, one machine cannot hold the node's sockets. (Unfinished
    /// handshakes are capped separately, by the transports'
    /// [`HandshakeLimit`](crate::transport::HandshakeLimit).)
    pub max_connections_per_ip: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_bytes: 8 * 1024,
            max_nonce_bytes: 128,
            max_data_bytes: 4 * 1024,
            queue_capacity: 1024,
            slow_consumer_after: Duration::from_secs(3),
            history_on_join: 50,
            max_history_page: 200,
            resume_limit: 500,
            max_rooms_per_session: 256,
            gap_timeout: Duration::from_millis(200),
            presence_heartbeat: Duration::from_secs(2),
            presence_lease: Duration::from_secs(7),
            presence_announce_limit: 200,
            messages_per_user: rate(10, 50),
            messages_per_ip: rate(100, 300),
            joins_per_user: rate(10, 300),
            joins_per_ip: rate(100, 1000),
            joins_per_room: rate(50, 500),
            max_connections_per_ip: Some(1000),
        }
    }
}

impl Limits {
    /// Checks every invariant the setters promise; [`HubBuilder::build`](crate::HubBuilder::build)
    /// calls it, so limits written field by field are checked too.
    pub fn validate(&self) -> Result<()> {
        let page = crate::store::MAX_PAGE;
        let fail = |what: String| Err(Error::Config(what));
        if self.max_text_bytes == 0 {
            return fail("max_text_bytes must be at least 1".into());
        }
        if self.max_nonce_bytes == 0 {
            return fail("max_nonce_bytes must be at least 1".into());
        }
        if self.max_data_bytes < 2 {
            return fail("max_data_bytes must be at least 2 (the empty object `{}`)".into());
        }
        if self.queue_capacity < 8 {
            return fail("queue_capacity must be at least 8".into());
        }
        if self.history_on_join > page {
            return fail(format!("history_on_join must be at most {page}"));
        }
        if self.max_history_page == 0 || self.max_history_page > page {
            return fail(format!("max_history_page must be between 1 and {page}"));
        }
        if self.resume_limit == 0 || self.resume_limit > page {
            return fail(format!("resume_limit must be between 1 and {page}"));
        }
        if self.slow_consumer_after.is_zero() {
            return fail("slow_consumer_after must be non-zero".into());
        }
        if self.max_rooms_per_session == 0 {
            return fail("max_rooms_per_session must be at least 1".into());
        }
        if self.presence_heartbeat.is_zero() || self.presence_lease < self.presence_heartbeat * 2 {
            return fail(
                "presence_lease must be at least twice presence_heartbeat (and both non-zero)"
                    .into(),
            );
        }
        if self.presence_announce_limit < 2 {
            return fail("presence_announce_limit must be at least 2".into());
        }
        if self.max_connections_per_ip == Some(0) {
            return fail("max_connections_per_ip must be at least 1 (or no cap)".into());
        }
        Ok(())
    }

    /// `self` once [`Limits::validate`] passes.
    fn checked(self) -> Result<Self> {
        self.validate().map(|()| self)
    }

    /// Sets [`Limits::max_text_bytes`] (at least 1).
    pub fn with_max_text_bytes(mut self, bytes: usize) -> Result<Self> {
        self.max_text_bytes = bytes;
        self.checked()
    }

    /// Sets [`Limits::max_data_bytes`] (at least 2, the size of `{}`).
    pub fn with_max_data_bytes(mut self, bytes: usize) -> Result<Self> {
        self.max_data_bytes = bytes;
        self.checked()
    }

    /// Sets [`Limits::queue_capacity`] (at least 8, so a join's frames always fit).
    pub fn with_queue_capacity(mut self, frames: usize) -> Result<Self> {
        self.queue_capacity = frames;
        self.checked()
    }

    /// Sets [`Limits::history_on_join`] (at most the store's page limit).
    pub fn with_history_on_join(mut self, messages: u32) -> Result<Self> {
        self.history_on_join = messages;
        self.checked()
    }

    /// Sets [`Limits::max_history_page`] (1 to the store's page limit).
    pub fn with_max_history_page(mut self, messages: u32) -> Result<Self> {
        self.max_history_page = messages;
        self.checked()
    }

    /// Sets [`Limits::resume_limit`] (1 to the store's page limit).
    pub fn with_resume_limit(mut self, messages: u32) -> Result<Self> {
        self.resume_limit = messages;
        self.checked()
    }

    /// Sets [`Limits::max_rooms_per_session`] (at least 1).
    pub fn with_max_rooms_per_session(mut self, rooms: usize) -> Result<Self> {
        self.max_rooms_per_session = rooms;
        self.checked()
    }

    /// Sets [`Limits::presence_heartbeat`] and [`Limits::presence_lease`]; the lease must be
    /// at least twice the heartbeat so one lost renewal does not flap presence.
    pub fn with_presence(mut self, heartbeat: Duration, lease: Duration) -> Result<Self> {
        self.presence_heartbeat = heartbeat;
        self.presence_lease = lease;
        self.checked()
    }

    /// Sets [`Limits::slow_consumer_after`] (non-zero).
    pub fn with_slow_consumer_after(mut self, stall: Duration) -> Result<Self> {
        self.slow_consumer_after = stall;
        self.checked()
    }

    /// Sets [`Limits::presence_announce_limit`] (at least 2).
    pub fn with_presence_announce_limit(mut self, users: usize) -> Result<Self> {
        self.presence_announce_limit = users;
        self.checked()
    }

    /// Sets [`Limits::messages_per_user`] and [`Limits::messages_per_ip`] (`None`: no limit).
    pub fn with_message_rates(mut self, per_user: Option<Rate>, per_ip: Option<Rate>) -> Self {
        self.messages_per_user = per_user;
        self.messages_per_ip = per_ip;
        self
    }

    /// Sets [`Limits::joins_per_user`], [`Limits::joins_per_ip`] and
    /// [`Limits::joins_per_room`] (`None`: no limit).
    pub fn with_join_rates(
        mut self,
        per_user: Option<Rate>,
        per_ip: Option<Rate>,
        per_room: Option<Rate>,
    ) -> Self {
        self.joins_per_user = per_user;
        self.joins_per_ip = per_ip;
        self.joins_per_room = per_room;
        self
    }

    /// Sets [`Limits::max_connections_per_ip`] (at least 1; `None`: no cap).
    pub fn with_max_connections_per_ip(mut self, sessions: Option<usize>) -> Result<Self> {
        self.max_connections_per_ip = sessions;
        self.checked()
    }

    /// No per-user, per-IP or per-room rate and no cap on sessions per IP: for benchmarks and
    /// hosts that limit at a proxy in front.
    pub fn without_rate_limits(self) -> Self {
        let mut l = self
            .with_message_rates(None, None)
            .with_join_rates(None, None, None);
        l.max_connections_per_ip = None;
        l
    }

    /// Sets [`Limits::gap_timeout`].
    pub fn with_gap_timeout(mut self, timeout: Duration) -> Self {
        self.gap_timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_check_invariants() {
        assert!(Limits::default().with_max_text_bytes(0).is_err());
        assert!(Limits::default().with_queue_capacity(2).is_err());
        assert!(Limits::default().with_max_history_page(0).is_err());
        assert!(Limits::default().with_resume_limit(100_000).is_err());
        let s = Duration::from_secs(1);
        assert!(Limits::default().with_presence(s, s).is_err());
        assert!(Limits::default().with_presence(Duration::ZERO, s).is_err());
        assert!(Limits::default().with_presence(s, s * 2).is_ok());
        assert!(Limits::default().with_presence_announce_limit(1).is_err());
        assert!(Limits::default().with_presence_announce_limit(2).is_ok());
        let l = Limits::default()
            .with_queue_capacity(16)
            .and_then(|l| l.with_max_text_bytes(10))
            .expect("valid");
        assert_eq!((l.queue_capacity, l.max_text_bytes), (16, 10));
    }

    #[test]
    fn fields_written_directly_are_checked_by_validate() {
        assert!(Limits::default().validate().is_ok());
        let zero_rooms = Limits {
            max_rooms_per_session: 0,
            ..Limits::default()
        };
        assert!(zero_rooms.validate().is_err());
        let tiny_queue = Limits {
            queue_capacity: 1,
            ..Limits::default()
        };
        assert!(tiny_queue.validate().is_err());
        assert!(
            Limits::default()
                .with_max_connections_per_ip(Some(0))
                .is_err()
        );
        let open = Limits::default().without_rate_limits();
        assert_eq!(
            (open.messages_per_user, open.max_connections_per_ip),
            (None, None)
        );
    }
}
