//! [`Core`]: the registry every part of the hub shares — backends, limits, loaded rooms, live
//! sessions — and the lifecycle of rooms (load on first use, unload when nothing uses them).
//!
//! Commands and the cluster side call down into it; it never calls them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OnceCell;
use tokio_util::task::TaskTracker;

use super::config::Limits;
use super::room::{Room, RoomContext};
use super::session::state::SessionState;
use super::sessions::SessionTable;
use super::stats::Stats;
use super::throttle::Throttle;
use crate::auth::Authenticator;
use crate::bus::{Bus, BusEvent};
use crate::events::Wake;
use crate::policy::Guard;
use crate::store::{NewRoom, Store};
use crate::{Error, Result};

/// Loaded rooms by name. The map's lock is held only to find or insert a cell; loading happens
/// inside the cell, so a slow store never blocks other rooms.
type Rooms = HashMap<String, Arc<OnceCell<Arc<Room>>>>;

/// What the hub's parts share.
pub(crate) struct Core {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) auth: Arc<dyn Authenticator>,
    pub(crate) limits: Limits,
    /// Per-user, per-IP and per-room rates and sessions per IP ([`Limits`]).
    pub(crate) throttle: Throttle,
    /// The host's policy; `None` when there is none, so the command layer skips it for free.
    pub(crate) policy: Option<Guard>,
    /// Wakes the host's idle event streams on each local commit (one load while none is open).
    pub(crate) wake: Arc<Wake>,
    pub(crate) stats: Arc<Stats>,
    /// What every loaded room shares (store, stats, the list of rooms to announce).
    pub(crate) room_context: Arc<RoomContext>,
    /// Sessions keep their rooms' `Arc`s, so sending never touches this map.
    rooms: Mutex<Rooms>,
    /// Live sessions by id, for shutdown and direct-message delivery.
    sessions: Mutex<SessionTable>,
    next_session: AtomicU64,
    /// Set by shutdown: no new session is accepted.
    pub(crate) shutting_down: AtomicBool,
    /// Version of this node's presence events: increases with each, starting from the clock so
    /// a restarted node with the same id still moves forward.
    presence_version: AtomicU64,
    /// Sends between accept and ack (each awaits its commit on a task); shutdown waits for
    /// them.
    pub(crate) in_flight: TaskTracker,
    /// Read positions not yet written, receipts not yet sent (`reads.rs`).
    pub(crate) reads: super::reads::Reads,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("node", &self.bus.node_id())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Core {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        auth: Arc<dyn Authenticator>,
        limits: Limits,
        policy: Option<Guard>,
    ) -> Self {
        let stats: Arc<Stats> = Arc::default();
        let room_context = Arc::new(RoomContext::new(
            Arc::clone(&store),
            Arc::clone(&stats),
            limits.gap_timeout,
            limits.queue_capacity,
            limits.slow_consumer_after,
            limits.presence_announce_limit,
        ));
        Self {
            store,
            bus,
            auth,
            throttle: Throttle::new(&limits),
            limits,
            policy,
            wake: Arc::default(),
            stats,
            room_context,
            rooms: Mutex::new(HashMap::new()),
            sessions: Mutex::new(SessionTable::default()),
            next_session: AtomicU64::new(0),
            shutting_down: AtomicBool::new(false),
            presence_version: AtomicU64::new(crate::clock::now_millis().max(0) as u64 * 1000),
            in_flight: TaskTracker::new(),
            reads: Default::default(),
        }
    }

    fn rooms(&self) -> MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sessions(&self) -> MutexGuard<'_, SessionTable> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The room if it is loaded on this node.
    pub(crate) fn loaded(&self, name: &str) -> Option<Arc<Room>> {
        self.rooms().get(name).and_then(|c| c.get().cloned())
    }

    /// Forgets a deleted room, loaded or being loaded: the next use reads the store.
    pub(crate) fn forget_room(&self, name: &str) {
        self.rooms().remove(name);
    }

    /// Every loaded room.
    pub(crate) fn loaded_rooms(&self) -> Vec<Arc<Room>> {
        self.rooms()
            .values()
            .filter_map(|c| c.get().cloned())
            .collect()
    }

    /// Number of loaded rooms.
    pub(crate) fn room_count(&self) -> usize {
        self.rooms().len()
    }

    /// Unloads every room nothing else holds, and forgets failed loads; returns how many went.
    ///
    /// Everything that acts on a room holds an `Arc` of it: the sessions that joined it, a
    /// send awaiting its commit, a gap repair, the list of rooms whose head is still to be
    /// announced, a bus event being handled. So a room held only by this map has no local
    /// member and nothing in flight, and its state is all in the store: reloading reads
    /// `last_seq` again, and the seq, ordering and repair state start right. Looking a room up
    /// takes the map's lock, so nothing can take a new reference while this runs. A room
    /// whose bus subscription is still active (an unsubscribe failed or is under way) stays.
    pub(crate) fn unload_idle(&self) -> usize {
        let mut rooms = self.rooms();
        let before = rooms.len();
        rooms.retain(|_, cell| {
            if Arc::strong_count(cell) > 1 {
                return true; // being loaded right now
            }
            cell.get().is_some_and(|room| {
                Arc::strong_count(room) > 1
                    || room.subscription.try_lock().map_or(true, |active| *active)
            })
        });
        before - rooms.len()
    }

    /// The room, loaded into memory from the store (created first when `create` is given and
    /// it does not exist).
    pub(crate) async fn load_room(&self, name: &str, create: Option<NewRoom>) -> Result<Arc<Room>> {
        let cell = Arc::clone(self.rooms().entry(name.to_owned()).or_default());
        let room = cell
            .get_or_try_init(|| async {
                let record = match self.store.room(name).await? {
                    Some(r) => r,
                    None => match create {
                        Some(new) => self.store.create_room(new).await?,
                        None => return Err(Error::UnknownRoom(name.to_owned())),
                    },
                };
                let last_seq = self.store.last_seq(name).await?;
                Ok::<_, Error>(Arc::new(Room::new(
                    record.name,
                    record.kind,
                    last_seq,
                    Arc::clone(&self.room_context),
                )))
            })
            .await?;
        Ok(Arc::clone(room))
    }

    /// A fresh session id.
    pub(crate) fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Relaxed) + 1
    }

    /// Registers a live session.
    pub(crate) fn add_session(&self, session: &Arc<SessionState>) {
        self.sessions().insert(session);
        Stats::bump(&self.stats.sessions_opened);
    }

    /// Forgets a session that ended.
    pub(crate) fn forget_session(&self, id: u64) {
        if self.sessions().remove(id) {
            Stats::bump(&self.stats.sessions_closed);
        }
    }

    /// Every live local session.
    pub(crate) fn all_sessions(&self) -> Vec<Arc<SessionState>> {
        self.sessions().all().collect()
    }

    /// Live local sessions of a user.
    /// The open sessions whose identity `which` picks.
    pub(crate) fn sessions_where(
        &self,
        which: impl Fn(&crate::auth::Identity) -> bool,
    ) -> Vec<Arc<SessionState>> {
        self.sessions()
            .all()
            .filter(|s| s.queue.close_reason().is_none() && which(&s.identity))
            .collect()
    }

    pub(crate) fn sessions_of(&self, user: &str) -> Vec<Arc<SessionState>> {
        let mut sessions = self.sessions().of(user);
        sessions.retain(|s| s.queue.close_reason().is_none());
        sessions
    }

    /// The next version of this node's presence events.
    pub(crate) fn next_presence_version(&self) -> u64 {
        self.presence_version.fetch_add(1, Relaxed) + 1
    }

    /// Tells the other nodes that `user`'s presence in `room` changed on this node.
    pub(crate) fn publish_presence(&self, room: &str, user: &str, online: bool) {
        self.bus.publish(BusEvent::Presence {
            room: room.to_owned(),
            user: user.to_owned(),
            online,
            version: self.next_presence_version(),
        });
    }
}
