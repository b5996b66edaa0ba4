//! The [`Hub`]: the engine of one node, and the only way in from outside the crate.
//!
//! ```text
//! mod.rs (Hub facade, builder glue)
//!   ├─ session/      Session: frame in → decode → command::dispatch; SessionState
//!   ├─ command/      one file per command family: join (the resume seam), send, dm,
//!   │                typing, query
//!   ├─ cluster.rs    bus events in; head announcements and presence leases out
//!   ├─ core.rs       the registry: backends, limits, loaded rooms, live sessions
//!   ├─ room/         ordering, fan-out, gap repair, presence (a value type)
//!   └─ queue/        each session's bounded outbound queue, drained by the transport
//! ```
//!
//! Each layer calls only the ones below it: a message goes down and never comes back.

mod builder;
mod cluster;
mod command;
mod config;
mod core;
mod queue;
mod rate;
mod reads;
mod room;
mod rooms_api;
mod session;
mod sessions;
mod stats;
mod throttle;

pub use builder::HubBuilder;
pub use command::{HostPost, Posted, SearchPage, Sender};
pub use config::Limits;
pub use queue::{CloseReason, Outbound, Outgoing};
pub use rate::Rate;
pub use session::Session;
pub use stats::StatsSnapshot;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use self::core::Core;
use crate::accounts::Revoked;
use crate::auth::{Authenticator, Credentials, Identity};
use crate::bus::LocalBus;
use crate::events::{EventStream, StreamConfig};
use crate::protocol::{Codec, Event, RoomKind, RoomSummary};
use crate::store::{HistoryPage, HistoryQuery, MemoryStore, Role, RoomRecord, Store};
use crate::{Error, Result};
use cluster::HubBusHandler;
pub(crate) use queue::Queue;
pub(crate) use queue::{cork, sink};
use session::state::SessionState;

/// The chat engine of one node. Cheap to clone: clones share everything.
///
/// A transport authenticates a client with [`Hub::authenticate`], opens a [`Session`] with
/// [`Hub::connect`], feeds it the client's frames and drains its [`Outbound`] queue.
///
/// ```
/// # async fn demo() -> chatcore::Result<()> {
/// use chatcore::{Hub, auth::Credentials, protocol::{Codec, Command, Request}};
/// let hub = Hub::builder().build().await?;
/// let me = hub.authenticate(&Credentials::Guest("ann".into())).await?;
/// let (mut session, mut outbound) = hub.connect(me, Codec::Json)?;
/// session.handle(Request::new(1, Command::Join { room: "general".into(), resume_after: None })).await;
/// let _welcome = outbound.recv().await;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Hub {
    core: Arc<Core>,
}

impl Hub {
    /// Starts configuring a hub (memory store, lone local bus and guests by default).
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.core.limits
    }

    /// The authenticator (transports use it to issue development tokens).
    pub fn authenticator(&self) -> &Arc<dyn Authenticator> {
        &self.core.auth
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.core.store
    }

    /// This node's id on the bus.
    pub fn node_id(&self) -> &str {
        self.core.bus.node_id()
    }

    /// Checks a client's credentials.
    pub async fn authenticate(&self, credentials: &Credentials) -> Result<Identity> {
        self.core.auth.authenticate(credentials).await
    }

    /// Opens a session for an authenticated user. Its first queued frame is `welcome`.
    /// Fails with [`Error::Closed`] while the hub shuts down.
    /// An identity whose user name is not valid ([`names::validate_user`](crate::names::validate_user),
    /// e.g. one an embedder's authenticator built by hand) is refused with
    /// [`Error::Unauthorized`]: nobody can connect as the system sender.
    ///
    /// The session is the host's own: the per-user, per-IP and per-room limits of
    /// [`Limits`] do not apply to it. Transports call [`Hub::connect_from`].
    pub fn connect(&self, identity: Identity, codec: Codec) -> Result<(Session, Outbound)> {
        self.open(identity, codec, None)
    }

    /// Opens a session for a user connected from `peer` (what every transport calls): like
    /// [`Hub::connect`], and the session's messages and joins count against
    /// [`Limits::messages_per_user`], [`Limits::messages_per_ip`], [`Limits::joins_per_user`],
    /// [`Limits::joins_per_ip`] and [`Limits::joins_per_room`]. Fails with
    /// [`Error::TooManyConnections`] when `peer` already has
    /// [`Limits::max_connections_per_ip`] sessions open (transports close with 4429).
    pub fn connect_from(
        &self,
        identity: Identity,
        codec: Codec,
        peer: std::net::IpAddr,
    ) -> Result<(Session, Outbound)> {
        let place = self.core.throttle.open(peer)?;
        self.open(identity, codec, Some(place))
    }

    fn open(
        &self,
        identity: Identity,
        codec: Codec,
        place: Option<throttle::ConnectionGuard>,
    ) -> Result<(Session, Outbound)> {
        if self.core.shutting_down.load(Relaxed) {
            return Err(Error::Closed);
        }
        crate::names::validate_user(&identity.user)
            .map_err(|e| Error::Unauthorized(format!("identity: {e}")))?;
        let queue = Queue::new(
            self.core.next_session_id(),
            Arc::from(identity.user.as_str()),
            codec,
            self.core.limits.queue_capacity,
            self.core.limits.slow_consumer_after,
            Arc::clone(&self.core.stats),
        );
        let user = identity.user.clone();
        let state = SessionState::new(Arc::clone(&queue), identity, place);
        self.core.add_session(&state);
        queue.send(Event::Welcome {
            protocol: crate::protocol::PROTOCOL_VERSION,
            user,
            session: state.id(),
            max_text_bytes: self.core.limits.max_text_bytes,
            max_data_bytes: self.core.limits.max_data_bytes,
        });
        Ok((
            Session::new(Arc::clone(&self.core), state),
            Outbound::new(queue),
        ))
    }

    /// Counters for metrics.
    pub fn stats(&self) -> StatsSnapshot {
        self.core.stats.snapshot(self.core.room_count() as u64)
    }

    /// Succeeds when the store and the bus answer (readiness).
    pub async fn ready(&self) -> Result<()> {
        self.core.store.ping().await?;
        self.core.bus.ping().await
    }

    /// Rooms visible to `viewer` (public rooms for anonymous callers), with online counts.
    pub async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomSummary>> {
        command::list_rooms(&self.core, viewer).await
    }

    /// One room's summary, if `viewer` may see it.
    pub async fn room_info(&self, room: &str, viewer: Option<&str>) -> Result<RoomSummary> {
        command::room_info(&self.core, room, viewer).await
    }

    /// A history page, if `viewer` may read the room. The limit is clamped to the hub's
    /// `max_history_page`; a query without a limit gets `history_on_join` messages.
    pub async fn history(
        &self,
        room: &str,
        viewer: Option<&str>,
        query: HistoryQuery,
    ) -> Result<HistoryPage> {
        command::history(&self.core, room, viewer, query).await
    }

    /// A page of the messages matching `q` that `viewer` may read (public rooms for
    /// anonymous callers), newest first; see `PROTOCOL.md`, "Search". `before` is the `next`
    /// cursor of the previous page.
    pub async fn search(
        &self,
        viewer: Option<&str>,
        q: &str,
        room: Option<String>,
        before: Option<&str>,
        limit: Option<u32>,
    ) -> Result<SearchPage> {
        command::search(&self.core, viewer, q, room, before, limit).await
    }

    /// Users online in a room (on any node), if `viewer` may read it.
    pub async fn online(&self, room: &str, viewer: Option<&str>) -> Result<Vec<String>> {
        command::online(&self.core, room, viewer).await
    }

    /// Posts a message from the host's own code, as a user or as the system: the same limits,
    /// nonce idempotency, commit, fan-out to every member (on every node) and resume replay
    /// as a client's `send`. Returns once the store committed it, with its seq (the ack).
    /// Fails with [`Error::UnknownRoom`] when the room does not exist.
    ///
    /// ```
    /// # async fn demo(hub: chatcore::Hub) -> chatcore::Result<()> {
    /// use chatcore::HostPost;
    /// let posted = hub.post(HostPost::system("order-1234", "Your order shipped").with_nonce("ship-1234")).await?;
    /// println!("seq {}", posted.message.seq);
    /// # Ok(()) }
    /// ```
    pub async fn post(&self, post: HostPost) -> Result<Posted> {
        command::post(&self.core, post).await
    }

    /// Creates a room of `kind` (public or private) owned by the system; an existing room is
    /// returned unchanged.
    pub async fn create_room(&self, name: &str, kind: RoomKind) -> Result<RoomRecord> {
        command::create_room(&self.core, name, kind, crate::names::SYSTEM_USER).await
    }

    /// Makes `user` a durable member of `room` (lets them into a private room).
    pub async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        command::add_member(&self.core, room, user, role).await
    }

    /// Ends `user`'s membership of `room`; their sessions leave it (each gets `left`): on
    /// this node before this returns, on the other nodes of the fleet when the bus delivers
    /// the removal (at most once, as every bus event: the membership itself is gone from the
    /// shared store at once, so a session a lost event missed cannot join a private room
    /// again, but stays in it until it leaves; call again to be sure).
    pub async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        command::remove_member(&self.core, room, user).await
    }

    /// Closes every session of `user` on every node of the fleet ([`CloseReason::Normal`]):
    /// on this node at once, on the others when the bus delivers the request (Redis pub/sub
    /// is at most once: a lost request leaves that node's sessions open; call again to be
    /// sure). Returns how many sessions were closed on this node.
    pub fn disconnect_user(&self, user: &str) -> usize {
        command::disconnect_user(&self.core, user)
    }

    /// Closes the live sockets of the account keyed `account` (its
    /// [`name_key`](crate::accounts::name_key)) that `which` picks, with
    /// [`CloseReason::Revoked`] (close code 4403), on every node of the fleet: on this node at
    /// once, on the others when the bus delivers the request (at most once, like
    /// [`disconnect_user`](Hub::disconnect_user); a socket a lost request missed is refused
    /// when it reconnects, since its session is revoked in the store). Returns how many were
    /// closed on this node. It walks every session of the node: meant for rare events, not per
    /// message.
    pub fn revoke(&self, account: &str, which: Revoked) -> usize {
        command::revoke(&self.core, account, which)
    }

    /// A history page of any room, without a viewer's visibility check (the host sees all).
    pub async fn read_history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        if self.core.store.room(room).await?.is_none() {
            return Err(Error::UnknownRoom(room.to_owned()));
        }
        self.core.store.history(room, query).await
    }

    /// A consumer of the durable event stream for consumer group `config.group` (see
    /// [`events`](crate::events)). Open one per group per node; on a fleet the group's lease
    /// makes one of them deliver at a time. Fails on an invalid configuration.
    pub fn event_stream(&self, config: StreamConfig) -> Result<EventStream> {
        EventStream::new(
            Arc::clone(&self.core.store),
            Arc::clone(&self.core.wake),
            config,
            self.core.bus.node_id(),
        )
    }

    /// Stops the hub: refuses new sessions, closes every session with
    /// [`CloseReason::GoingAway`] (queued frames are still written), waits up to `grace` for
    /// sends already accepted to be acknowledged, writes the read positions not yet written,
    /// then closes the store (committing what is queued) and the bus.
    pub async fn shutdown(&self, grace: Duration) -> Result<()> {
        self.core.shutting_down.store(true, Relaxed);
        for s in self.core.all_sessions() {
            s.queue.close(CloseReason::GoingAway);
        }
        let in_flight = &self.core.in_flight;
        in_flight.close();
        if tokio::time::timeout(grace, in_flight.wait()).await.is_err() {
            tracing::warn!(
                in_flight = in_flight.len(),
                "shutdown grace ran out with sends still in flight"
            );
        }
        self.core.reads.flush(&*self.core.store).await;
        let store = self.core.store.close().await;
        let bus = self.core.bus.close().await;
        store.and(bus)
    }
}

impl HubBuilder {
    /// Starts the bus and returns the hub. Must run inside a Tokio runtime. Fails when the
    /// limits are inconsistent ([`Limits::validate`]) or the bus cannot start.
    pub async fn build(self) -> Result<Hub> {
        self.limits.validate()?;
        let bus = self.bus.unwrap_or_else(|| Arc::new(LocalBus::default()));
        let core = Arc::new(Core::new(
            self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            Arc::clone(&bus),
            self.auth
                .unwrap_or_else(|| Arc::new(crate::auth::GuestAuthenticator)),
            self.limits,
            self.policy.map(|p| {
                crate::policy::Guard::new(
                    p,
                    self.policy_timeout
                        .unwrap_or(crate::policy::DEFAULT_TIMEOUT),
                )
            }),
        ));
        bus.start(Arc::new(HubBusHandler(Arc::downgrade(&core))))
            .await?;
        cluster::spawn_timers(&core);
        command::spawn_read_timers(&core);
        Ok(Hub { core })
    }
}
