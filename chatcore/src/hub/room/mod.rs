//! [`Room`]: local members, presence, and in-order delivery of committed messages (`order.rs`,
//! `fanout.rs`).
//!
//! The room owns ordering and fan-out. It pushes shared frames into its members' queues
//! (`super::queue`) and never calls back into sessions, commands or the registry.

mod catchup;
mod fanout;
mod lazy;
mod mutes;
mod online;
mod order;
mod presence;
mod repair;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::queue::{Offer, Queue};
use super::stats::Stats;
use crate::protocol::{Event, Frame, Message, RoomKind};
use crate::store::Store;
use mutes::Mutes;
use presence::Presence;

/// One room as loaded on this node.
///
/// Committed messages may arrive out of order (concurrent appends finish in any order, the bus
/// may reorder or lose); the room delivers them to local members strictly in seq order,
/// holding later ones until the gap is filled, and reads a gap from the store when it lasts
/// longer than the hub's `gap_timeout` (`repair.rs`).
pub(crate) struct Room {
    pub(crate) name: String,
    pub(crate) kind: RoomKind,
    /// A std mutex: held only for map updates and queue pushes, never across an await, and
    /// per room, so rooms never contend with each other.
    state: Mutex<RoomState>,
    /// Serializes bus subscribe/unsubscribe with the first join and the last leave. Holds
    /// whether the bus subscription is active. Never taken on the message path.
    pub(crate) subscription: tokio::sync::Mutex<bool>,
    /// Set while the room is in its hub's list of rooms with local commits since the last
    /// `Head` announcement, so it is listed once.
    dirty: AtomicBool,
    /// Who may not send (`mutes.rs`): loaded when the room is subscribed (the first local
    /// join), then kept by the events `accept` delivers. Its own std
    /// mutex, taken inside the state lock or alone, never across an await: a `send` checks
    /// it without waiting for a fan-out.
    mutes: Mutex<Mutes>,
    /// Appends to this room whose delivery waits on a task of its own (see
    /// `command/send.rs`): while there are any, a later one waits on a task too, queued
    /// behind them, instead of overtaking one the store has answered but whose task has not
    /// run yet (the room would hold the later message back for the gap, and its ack would go
    /// first).
    waiting: AtomicUsize,
    ctx: Arc<RoomContext>,
}

/// What every room of one hub shares.
pub(crate) struct RoomContext {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) stats: Arc<Stats>,
    /// How long a missing seq may stay missing before the store is read.
    pub(crate) gap_timeout: Duration,
    /// Frames a joining member may buffer (the queue's capacity).
    pub(crate) queue_capacity: usize,
    /// How long a member that fell behind may take nothing from its full queue before it is
    /// closed as a slow consumer.
    pub(crate) slow_consumer_after: Duration,
    /// Most users online for which joins and leaves are announced one by one.
    pub(crate) presence_limit: usize,
    /// Rooms with local commits since the last `Head` announcement: the announcer visits
    /// only these, not every loaded room. A std mutex: held for a push or a swap.
    committed: Mutex<Vec<Arc<Room>>>,
    /// The hub's runtime polls one task at a time (one worker, or a current-thread
    /// runtime): a big room's write pumps cannot run in parallel there (`fanout.rs`).
    one_worker: bool,
}

impl RoomContext {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        stats: Arc<Stats>,
        gap_timeout: Duration,
        queue_capacity: usize,
        slow_consumer_after: Duration,
        presence_limit: usize,
    ) -> Self {
        Self {
            store,
            stats,
            gap_timeout,
            queue_capacity,
            slow_consumer_after,
            presence_limit,
            committed: Mutex::new(Vec::new()),
            one_worker: tokio::runtime::Handle::try_current()
                .is_ok_and(|runtime| runtime.metrics().num_workers() == 1),
        }
    }

    /// The rooms with local commits since the last call, each listed once.
    pub(crate) fn take_committed(&self) -> Vec<Arc<Room>> {
        let rooms = std::mem::take(&mut *self.committed.lock().unwrap_or_else(|p| p.into_inner()));
        for room in &rooms {
            room.dirty.store(false, Relaxed);
        }
        rooms
    }
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

struct RoomState {
    members: HashMap<u64, LocalMember>,
    presence: Presence,
    /// Highest seq delivered to local members; every lower seq was delivered too.
    delivered: u64,
    /// Committed messages waiting for a lower seq.
    pending: BTreeMap<u64, Message>,
    /// Highest seq known to exist (delivered, pending, or announced by a `Head`).
    head: u64,
    /// A gap repair task is scheduled.
    repairing: bool,
    /// How many times a user was removed from the room (kick, ban, host removal) since it
    /// was loaded: a join that started before a removal re-checks its membership.
    removals: u64,
    /// When the room's last message was fanned out, noted only where it decides whether the
    /// next one is corked (a big room on a one-worker runtime, `fanout.rs`).
    last_message: Option<tokio::time::Instant>,
}

struct LocalMember {
    queue: Arc<Queue>,
    /// `Some` while the member's `joined` frame is being prepared: live frames wait here so
    /// they follow it.
    joining: Option<Vec<Arc<Frame>>>,
    /// `Some(seq)` while the member's queue could not take every message: it has been given
    /// every message up to `seq`, and the rest comes from the store as its queue drains
    /// (`catchup.rs`), not from the live fan-out.
    behind: Option<u64>,
}

/// The room's state at the moment a session registered.
pub(crate) struct Snapshot {
    /// Highest seq already delivered: history up to here comes from the store, everything
    /// later arrives live.
    pub(crate) last_seq: u64,
    /// `true` when the user was not online on this node before.
    pub(crate) came_online: bool,
}

impl Room {
    pub(crate) fn new(name: String, kind: RoomKind, last_seq: u64, ctx: Arc<RoomContext>) -> Self {
        Self {
            name,
            kind,
            state: Mutex::new(RoomState {
                members: HashMap::new(),
                presence: Presence::new(ctx.presence_limit),
                delivered: last_seq,
                pending: BTreeMap::new(),
                head: last_seq,
                repairing: false,
                removals: 0,
                last_message: None,
            }),
            dirty: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            mutes: Mutex::new(Mutes::default()),
            subscription: tokio::sync::Mutex::new(false),
            ctx,
        }
    }

    fn lock(&self) -> MutexGuard<'_, RoomState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many removals the room has seen (see [`note_removal`](Self::note_removal)).
    pub(crate) fn removals(&self) -> u64 {
        self.lock().removals
    }

    /// Counts a removal of a user from the room, before their sessions are looked for: a
    /// session that registers later sees the count changed.
    pub(crate) fn note_removal(&self) {
        self.lock().removals += 1;
    }

    /// Adds a session in the joining state and announces its user if newly online; `None`
    /// (nothing changed) when `removals` is given and the room has seen more since.
    pub(crate) fn register(&self, queue: Arc<Queue>, removals: Option<u64>) -> Option<Snapshot> {
        let mut st = self.lock();
        if removals.is_some_and(|seen| seen != st.removals) {
            return None;
        }
        let (came_online, changes) = st.presence.add_local(&queue.user);
        self.announce(&mut st, changes);
        st.members.insert(
            queue.id,
            LocalMember {
                queue,
                joining: Some(Vec::new()),
                behind: None,
            },
        );
        Some(Snapshot {
            last_seq: st.delivered,
            came_online,
        })
    }

    /// Queues the session's `joined` frame (and `count`, the `online_count` of a large room),
    /// then every live frame that arrived meanwhile, and makes the session a live member.
    /// `false` when it was removed in between.
    pub(crate) fn activate(
        self: &Arc<Self>,
        session_id: u64,
        joined: Event,
        count: Option<Event>,
    ) -> bool {
        let mut st = self.lock();
        let Some(member) = st.members.get_mut(&session_id) else {
            return false;
        };
        let buffered = member.joining.take().unwrap_or_default();
        member.queue.send(joined);
        if let Some(count) = count {
            member.queue.send(count);
        }
        let mut behind = member.behind;
        for frame in buffered {
            let seq = match frame.event() {
                Event::Message(m) => Some(m.seq),
                _ => None,
            };
            if seq.is_some_and(|s| behind.is_some_and(|b| s > b)) {
                continue; // comes from the store, after the one that did not fit
            }
            if member.queue.offer(frame, false) == Offer::Full {
                if let Some(seq) = seq {
                    behind = Some(seq - 1);
                }
            }
        }
        member.behind = behind;
        if behind.is_some() {
            self.spawn_catch_up(session_id);
        }
        true
    }

    /// Removes a session. Returns `Some(true)` when its user went offline on this node (and
    /// announces it), `None` when it was not a member.
    pub(crate) fn deregister(&self, session_id: u64) -> Option<bool> {
        let mut st = self.lock();
        let member = st.members.remove(&session_id)?;
        let (went_offline, changes) = st.presence.remove_local(&member.queue.user);
        self.announce(&mut st, changes);
        Some(went_offline)
    }

    /// Local sessions in the room.
    pub(crate) fn local_members(&self) -> usize {
        self.lock().members.len()
    }

    /// Whether the room's next message is corked (see `RoomState::message_corked`).
    pub(crate) fn corks(&self) -> bool {
        self.lock().message_corked(self.ctx.one_worker)
    }

    /// With no local member yet, skips ahead to the store's newest seq: nobody here is owed
    /// the messages in between (they are history).
    pub(crate) fn fast_forward(&self, last_seq: u64) {
        let mut st = self.lock();
        if st.members.is_empty() && last_seq > st.delivered {
            st.delivered = last_seq;
            st.head = st.head.max(last_seq);
            st.pending = st.pending.split_off(&(last_seq + 1));
        }
    }

    /// Sends an event to every live local member but one (typing indicators).
    pub(crate) fn broadcast_except(&self, event: Event, except: u64) {
        let frame = Frame::new(event);
        let st = self.lock();
        let corked = fanout::corks(st.members.len());
        for (id, m) in &st.members {
            if *id != except && m.joining.is_none() {
                m.queue.push_with(frame.clone(), corked);
            }
        }
    }

    /// Whether an append to this room still waits on its task to be delivered.
    pub(crate) fn appends_waiting(&self) -> bool {
        self.waiting.load(Relaxed) > 0
    }

    /// An append to this room waits on a task (until [`Room::append_done`]).
    pub(crate) fn append_waits(&self) {
        self.waiting.fetch_add(1, Relaxed);
    }

    /// A waiting append was delivered (or failed).
    pub(crate) fn append_done(&self) {
        self.waiting.fetch_sub(1, Relaxed);
    }

    /// `Some(until)` while `user` is muted here at `now` (ms since the Unix epoch; `until`
    /// `None`: until lifted).
    pub(crate) fn muted(&self, user: &str, now: i64) -> Option<Option<i64>> {
        self.mutes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .active(user, now)
    }

    /// Replaces the mutes with those stored (read after the room's newest seq).
    pub(crate) fn reload_mutes(&self, stored: Vec<crate::store::Restriction>) {
        *self.mutes.lock().unwrap_or_else(|p| p.into_inner()) = Mutes::new(stored);
    }

    /// Highest seq known to be committed (delivered here or waiting for an earlier one).
    pub(crate) fn head(&self) -> u64 {
        self.lock().head
    }
}
