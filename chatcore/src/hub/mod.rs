//! The [`Hub`]: entry point that owns rooms and sessions and wires store, bus and
//! authenticator together.

mod builder;
mod config;
mod outbox;
mod room;
mod session;
mod stats;

pub use builder::HubBuilder;
pub use config::Limits;
pub use outbox::{CloseReason, Outbound, Outgoing};
pub use session::Session;
pub use stats::StatsSnapshot;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::{Notify, OnceCell};

use crate::auth::{Authenticator, Credentials, Identity};
use crate::bus::{Bus, BusEvent, BusHandler, Envelope};
use crate::protocol::{Codec, Event, Message, RoomKind, RoomSummary};
use crate::store::{HistoryPage, HistoryQuery, NewRoom, Role, Store};
use crate::{Error, Result, names};
use outbox::SessionShared;
use room::Room;
use stats::Stats;

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
    inner: Arc<HubInner>,
}

pub(crate) struct HubInner {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    auth: Arc<dyn Authenticator>,
    limits: Limits,
    /// Loaded rooms. The lock is held only to find or insert a cell; loading happens inside
    /// the cell, so a slow store never blocks other rooms. Sessions keep their rooms' `Arc`s,
    /// so sending never touches this map.
    rooms: Mutex<HashMap<String, Arc<OnceCell<Arc<Room>>>>>,
    /// Live sessions by id, for shutdown and DM delivery.
    sessions: Mutex<HashMap<u64, Weak<SessionShared>>>,
    next_session: AtomicU64,
    stats: Arc<Stats>,
    shutting_down: AtomicBool,
    /// Version of this node's presence events: increases with each, starting from the clock so
    /// a restarted node with the same id still moves forward.
    presence_version: AtomicU64,
    /// Rooms with local commits since the last `Head` announcement.
    dirty: Mutex<Vec<Arc<Room>>>,
    /// Sends between accept and ack; shutdown waits for them.
    in_flight: AtomicUsize,
    idle: Notify,
}

impl std::fmt::Debug for HubInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("node", &self.bus.node_id())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Delivers bus events to the hub without keeping it alive.
struct HubBusHandler(Weak<HubInner>);

impl BusHandler for HubBusHandler {
    fn on_event(&self, envelope: Envelope) {
        if let Some(inner) = self.0.upgrade() {
            Hub { inner }.on_bus_event(envelope);
        }
    }

    fn on_gap_suspected(&self) {
        if let Some(inner) = self.0.upgrade() {
            let hub = Hub { inner };
            tokio::spawn(async move { hub.resync().await });
        }
    }
}

impl Hub {
    /// Starts configuring a hub (memory store, lone local bus and guests by default).
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The authenticator (transports use it to issue development tokens).
    pub fn authenticator(&self) -> &Arc<dyn Authenticator> {
        &self.inner.auth
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// This node's id on the bus.
    pub fn node_id(&self) -> &str {
        self.inner.bus.node_id()
    }

    /// Checks a client's credentials.
    pub async fn authenticate(&self, credentials: &Credentials) -> Result<Identity> {
        self.inner.auth.authenticate(credentials).await
    }

    /// Opens a session for an authenticated user. Its first queued frame is `welcome`.
    /// Fails with [`Error::Closed`] while the hub shuts down.
    pub fn connect(&self, identity: Identity, codec: Codec) -> Result<(Session, Outbound)> {
        if self.inner.shutting_down.load(Relaxed) {
            return Err(Error::Closed);
        }
        let id = self.inner.next_session.fetch_add(1, Relaxed) + 1;
        let shared = SessionShared::new(
            id,
            Arc::from(identity.user.as_str()),
            codec,
            self.inner.limits.queue_capacity,
            Arc::clone(&self.inner.stats),
        );
        self.sessions().insert(id, Arc::downgrade(&shared));
        Stats::bump(&self.inner.stats.sessions_opened);
        shared.send(Event::Welcome {
            protocol: crate::protocol::PROTOCOL_VERSION,
            user: identity.user,
            session: id,
            max_text_bytes: self.inner.limits.max_text_bytes,
        });
        let outbound = Outbound::new(Arc::clone(&shared));
        Ok((Session::new(self.clone(), shared), outbound))
    }

    /// Counters for metrics.
    pub fn stats(&self) -> StatsSnapshot {
        let rooms = self.rooms().len() as u64;
        self.inner.stats.snapshot(rooms)
    }

    /// Succeeds when the store and the bus answer (readiness).
    pub async fn ready(&self) -> Result<()> {
        self.inner.store.ping().await?;
        self.inner.bus.ping().await
    }

    /// Rooms visible to `viewer` (public rooms for anonymous callers), with online counts.
    pub async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomSummary>> {
        let records = self.inner.store.list_rooms(viewer).await?;
        Ok(records
            .into_iter()
            .map(|r| {
                let online = self.loaded(&r.name).map_or(0, |room| room.online().len()) as u64;
                RoomSummary {
                    name: r.name,
                    kind: r.kind,
                    topic: r.topic,
                    members: r.members,
                    online,
                    last_seq: r.last_seq,
                }
            })
            .collect())
    }

    /// One room's summary, if `viewer` may see it.
    pub async fn room_info(&self, room: &str, viewer: Option<&str>) -> Result<RoomSummary> {
        let record = self.readable(room, viewer).await?;
        let online = self.loaded(room).map_or(0, |r| r.online().len()) as u64;
        Ok(RoomSummary {
            name: record.name,
            kind: record.kind,
            topic: record.topic,
            members: record.members,
            online,
            last_seq: record.last_seq,
        })
    }

    /// A history page, if `viewer` may read the room. The limit is clamped to the hub's
    /// `max_history_page`; a query without a limit gets `history_on_join` messages.
    pub async fn history(
        &self,
        room: &str,
        viewer: Option<&str>,
        mut query: HistoryQuery,
    ) -> Result<HistoryPage> {
        query.check()?;
        self.readable(room, viewer).await?;
        query.limit = query.limit.min(self.inner.limits.max_history_page);
        self.inner.store.history(room, query).await
    }

    /// Users online in a room (on any node), if `viewer` may read it.
    pub async fn online(&self, room: &str, viewer: Option<&str>) -> Result<Vec<String>> {
        self.readable(room, viewer).await?;
        Ok(self.loaded(room).map(|r| r.online()).unwrap_or_default())
    }

    /// Stops the hub: refuses new sessions, closes every session with
    /// [`CloseReason::GoingAway`] (queued frames are still written), waits up to `grace` for
    /// sends already accepted to be acknowledged, then closes the store (committing what is
    /// queued) and the bus.
    pub async fn shutdown(&self, grace: Duration) -> Result<()> {
        self.inner.shutting_down.store(true, Relaxed);
        let sessions: Vec<_> = self.sessions().values().filter_map(Weak::upgrade).collect();
        for s in &sessions {
            s.close(CloseReason::GoingAway);
        }
        let deadline = tokio::time::Instant::now() + grace;
        while self.inner.in_flight.load(Relaxed) > 0 {
            let idle = self.inner.idle.notified();
            if self.inner.in_flight.load(Relaxed) == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                tracing::warn!(
                    in_flight = self.inner.in_flight.load(Relaxed),
                    "shutdown grace ran out with sends still in flight"
                );
                break;
            }
        }
        let store = self.inner.store.close().await;
        let bus = self.inner.bus.close().await;
        store.and(bus)
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<u64, Weak<SessionShared>>> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Arc<OnceCell<Arc<Room>>>>> {
        self.inner.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn loaded(&self, name: &str) -> Option<Arc<Room>> {
        self.rooms().get(name).and_then(|c| c.get().cloned())
    }

    /// The room, loaded into memory from the store (created first when `create` is given and
    /// it does not exist).
    async fn load_room(&self, name: &str, create: Option<NewRoom>) -> Result<Arc<Room>> {
        let cell = Arc::clone(self.rooms().entry(name.to_owned()).or_default());
        let room = cell
            .get_or_try_init(|| async {
                let record = match self.inner.store.room(name).await? {
                    Some(r) => r,
                    None => match create {
                        Some(new) => self.inner.store.create_room(new).await?,
                        None => return Err(Error::UnknownRoom(name.to_owned())),
                    },
                };
                let last_seq = self.inner.store.last_seq(name).await?;
                Ok::<_, Error>(Arc::new(Room::new(
                    record.name,
                    record.kind,
                    last_seq,
                    Arc::clone(&self.inner.store),
                    Arc::clone(&self.inner.stats),
                    self.inner.limits.gap_timeout,
                    self.inner.limits.queue_capacity,
                )))
            })
            .await?;
        Ok(Arc::clone(room))
    }

    /// The room's record if `viewer` may read it: public rooms for everyone, others for
    /// durable members only. An unknown room is `UnknownRoom`; an existing room the viewer
    /// may not read is `Forbidden` (direct-message room names are predictable anyway, so
    /// hiding their existence would protect nothing).
    async fn readable(&self, room: &str, viewer: Option<&str>) -> Result<crate::store::RoomRecord> {
        let record = self
            .inner
            .store
            .room(room)
            .await?
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        if record.kind == RoomKind::Public {
            return Ok(record);
        }
        match viewer {
            Some(user) if self.inner.store.member(room, user).await?.is_some() => Ok(record),
            _ => Err(Error::Forbidden(format!(
                "room {room} is not readable for you"
            ))),
        }
    }

    /// Loads a DM room, creating it with both durable members on first use.
    async fn dm_room(&self, me: &str, to: &str) -> Result<Arc<Room>> {
        names::validate_user(to)?;
        let name = names::dm_room(me, to);
        if self.loaded(&name).is_none() && self.inner.store.room(&name).await?.is_none() {
            self.inner
                .store
                .create_room(NewRoom {
                    name: name.clone(),
                    kind: RoomKind::Direct,
                    creator: me.to_owned(),
                    created: crate::now_millis(),
                })
                .await?;
            self.inner.store.add_member(&name, me, Role::Owner).await?;
            self.inner.store.add_member(&name, to, Role::Owner).await?;
        }
        self.load_room(&name, None).await
    }

    /// Another node delivered a direct message to `user` in `room`: joins `user`'s sessions
    /// here to it (the `joined` frame carries the message), unless already joined.
    async fn on_invite(&self, user: &str, room: &str) {
        let is_party = names::dm_members(room).is_some_and(|(a, b)| a == user || b == user);
        let sessions = self.sessions_of(user);
        if !is_party || sessions.is_empty() {
            return;
        }
        let room = match self.load_room(room, None).await {
            Ok(room) => room,
            Err(e) => {
                tracing::warn!(room, error = %e, "cannot open the direct room of an invite");
                return;
            }
        };
        for session in sessions {
            if !session.rooms().contains_key(&room.name) {
                if let Err(e) = self.attach(&session, &room, None, None).await {
                    tracing::debug!(room = %room.name, error = %e, "invite not joined");
                }
            }
        }
    }

    /// Live local sessions of a user.
    fn sessions_of(&self, user: &str) -> Vec<Arc<SessionShared>> {
        self.sessions()
            .values()
            .filter_map(Weak::upgrade)
            .filter(|s| &*s.user == user && s.close_reason().is_none())
            .collect()
    }

    fn forget_session(&self, id: u64) {
        if self.sessions().remove(&id).is_some() {
            Stats::bump(&self.inner.stats.sessions_closed);
        }
    }

    /// Hands a committed message to its room and to the other nodes.
    fn committed(&self, room: &Arc<Room>, message: Message) {
        Stats::bump(&self.inner.stats.messages_in);
        self.inner.bus.publish(BusEvent::Message(message.clone()));
        room.on_committed(message);
        if !room.dirty.swap(true, Relaxed) {
            self.inner
                .dirty
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Arc::clone(room));
        }
    }

    /// Announces the newest seq of every room with local commits since the last call, so
    /// nodes that lost the tail of a burst on the bus repair it (see [`BusEvent::Head`]).
    fn announce_heads(&self) {
        let rooms =
            std::mem::take(&mut *self.inner.dirty.lock().unwrap_or_else(|p| p.into_inner()));
        for room in rooms {
            room.dirty.store(false, Relaxed);
            self.inner.bus.publish(BusEvent::Head {
                room: room.name.clone(),
                seq: room.head(),
            });
        }
    }

    /// Checks every room with local members against the store (after a bus outage).
    async fn resync(&self) {
        for room in self.loaded_rooms() {
            if room.local_members() == 0 {
                continue;
            }
            match self.inner.store.last_seq(&room.name).await {
                Ok(seq) => room.on_head(seq),
                Err(e) => tracing::warn!(room = %room.name, error = %e, "resync failed"),
            }
        }
    }

    fn next_presence_version(&self) -> u64 {
        self.inner.presence_version.fetch_add(1, Relaxed) + 1
    }

    /// Publishes that `user`'s presence in `room` changed on this node.
    fn publish_presence(&self, room: &str, user: &str, online: bool) {
        self.inner.bus.publish(BusEvent::Presence {
            room: room.to_owned(),
            user: user.to_owned(),
            online,
            version: self.next_presence_version(),
        });
    }

    /// Renews this node's presence lease in every room with local members.
    fn publish_rosters(&self) {
        let lease_ms = self.inner.limits.presence_lease.as_millis() as u64;
        for room in self.loaded_rooms() {
            if room.local_members() > 0 {
                self.inner.bus.publish(BusEvent::Roster {
                    room: room.name.clone(),
                    users: room.local_users(),
                    version: self.next_presence_version(),
                    lease_ms,
                });
            }
        }
    }

    fn loaded_rooms(&self) -> Vec<Arc<Room>> {
        self.rooms()
            .values()
            .filter_map(|c| c.get().cloned())
            .collect()
    }

    /// Renews presence leases every `presence_heartbeat` and drops expired remote presence
    /// at least once a second, until the hub is dropped.
    fn spawn_presence(inner: &Arc<HubInner>) {
        let weak = Arc::downgrade(inner);
        let limits = &inner.limits;
        let heartbeat = limits.presence_heartbeat;
        let period = heartbeat
            .min(limits.presence_lease / 4)
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(5));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_roster = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let hub = Hub { inner };
                let now = std::time::Instant::now();
                for room in hub.loaded_rooms() {
                    room.expire_remote(now);
                }
                if last_roster.elapsed() >= heartbeat {
                    last_roster = tokio::time::Instant::now();
                    hub.publish_rosters();
                }
            }
        });
    }

    /// Runs [`Hub::announce_heads`] every `gap_timeout` until the hub is dropped.
    fn spawn_announcer(inner: &Arc<HubInner>) {
        let weak = Arc::downgrade(inner);
        let period = inner.limits.gap_timeout.max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                Hub { inner }.announce_heads();
            }
        });
    }

    fn send_started(&self) {
        self.inner.in_flight.fetch_add(1, Relaxed);
    }

    fn send_finished(&self) {
        if self.inner.in_flight.fetch_sub(1, Relaxed) == 1 {
            self.inner.idle.notify_waiters();
        }
    }

    fn on_bus_event(&self, envelope: Envelope) {
        Stats::bump(&self.inner.stats.bus_received);
        if let BusEvent::Invite { user, room } = envelope.event {
            let hub = self.clone();
            tokio::spawn(async move { hub.on_invite(&user, &room).await });
            return;
        }
        let Some(room) = self.loaded(envelope.event.room()) else {
            return;
        };
        match envelope.event {
            BusEvent::Message(message) => room.on_committed(message),
            BusEvent::Typing {
                room: name,
                user,
                on,
            } => {
                room.broadcast_except(
                    Event::Typing {
                        room: name,
                        user,
                        on,
                    },
                    0,
                );
            }
            BusEvent::Head { seq, .. } => room.on_head(seq),
            BusEvent::Presence {
                user,
                online,
                version,
                ..
            } => {
                let lease = self.inner.limits.presence_lease;
                room.remote_presence(&envelope.origin, &user, online, version, lease);
            }
            BusEvent::Roster {
                users,
                version,
                lease_ms,
                ..
            } => {
                let lease = Duration::from_millis(lease_ms);
                room.remote_roster(&envelope.origin, users, version, lease);
            }
            // Handled above: it names a room this node may not have loaded yet.
            BusEvent::Invite { .. } => {}
        }
    }
}
