//! [`Room`]: local members, presence, and in-order delivery of committed messages.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::outbox::{CloseReason, SessionShared};
use super::stats::Stats;
use crate::protocol::{Event, Frame, Message, RoomKind};
use crate::store::{HistoryQuery, MAX_PAGE, Store};

/// One room as loaded on this node.
///
/// Committed messages may arrive out of order (concurrent appends finish in any order, the bus
/// may reorder or lose); the room delivers them to local members strictly in seq order,
/// holding later ones until the gap is filled, and reads a gap from the store when it lasts
/// longer than the hub's `gap_timeout`.
pub(crate) struct Room {
    pub(crate) name: String,
    pub(crate) kind: RoomKind,
    /// A std mutex: held only for map updates and queue pushes, never across an await, and
    /// per room, so rooms never contend with each other.
    state: Mutex<RoomState>,
    /// Serializes bus subscribe/unsubscribe with the first join and the last leave. Holds
    /// whether the bus subscription is active. Never taken on the message path.
    pub(crate) subscription: tokio::sync::Mutex<bool>,
    /// Set when a local commit happened since the last `Head` announcement.
    pub(crate) dirty: std::sync::atomic::AtomicBool,
    store: Arc<dyn Store>,
    stats: Arc<Stats>,
    gap_timeout: Duration,
    queue_capacity: usize,
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct RoomState {
    members: HashMap<u64, LocalMember>,
    /// Local sessions per online user.
    online: BTreeMap<String, usize>,
    /// Users online on other nodes, per node, from the bus.
    remote: HashMap<String, RemoteNode>,
    /// Highest seq delivered to local members; every lower seq was delivered too.
    delivered: u64,
    /// Committed messages waiting for a lower seq.
    pending: BTreeMap<u64, Message>,
    /// Highest seq known to exist (delivered, pending, or announced by a `Head`).
    head: u64,
    /// A gap repair task is scheduled.
    repairing: bool,
}

impl RoomState {
    /// The seqs known to exist but not delivered: `(after, before)`, both exclusive.
    fn missing(&self) -> Option<(u64, u64)> {
        let before = match self.pending.first_key_value() {
            Some((first, _)) => *first,
            None => self.head + 1,
        };
        (before > self.delivered + 1).then_some((self.delivered, before))
    }

    /// Marks a repair as scheduled when something is missing and none is; `true` if the
    /// caller must spawn it.
    fn start_repair(&mut self) -> bool {
        let start = self.missing().is_some() && !self.repairing;
        if start {
            self.repairing = true;
        }
        start
    }
}

/// What another node told us about its users in this room.
struct RemoteNode {
    users: BTreeSet<String>,
    /// Newest presence version applied from that node.
    version: u64,
    /// When its lease runs out unless renewed.
    expires: Instant,
}

impl RoomState {
    fn remote_online(&self, user: &str) -> bool {
        self.remote.values().any(|n| n.users.contains(user))
    }

    /// Every user online here or on another node.
    fn online_set(&self) -> BTreeSet<String> {
        let mut users: BTreeSet<String> = self.online.keys().cloned().collect();
        for node in self.remote.values() {
            users.extend(node.users.iter().cloned());
        }
        users
    }
}

struct LocalMember {
    session: Arc<SessionShared>,
    /// `Some` while the member's `joined` frame is being prepared: live frames wait here so
    /// they follow it.
    joining: Option<Vec<Arc<Frame>>>,
}

/// The room's state at the moment a session registered.
pub(crate) struct Snapshot {
    /// Highest seq already delivered: history up to here comes from the store, everything
    /// later arrives live.
    pub(crate) last_seq: u64,
    /// `true` when the user was not online here before.
    pub(crate) came_online: bool,
}

impl Room {
    pub(crate) fn new(
        name: String,
        kind: RoomKind,
        last_seq: u64,
        store: Arc<dyn Store>,
        stats: Arc<Stats>,
        gap_timeout: Duration,
        queue_capacity: usize,
    ) -> Self {
        Self {
            name,
            kind,
            state: Mutex::new(RoomState {
                delivered: last_seq,
                head: last_seq,
                ..RoomState::default()
            }),
            dirty: std::sync::atomic::AtomicBool::new(false),
            subscription: tokio::sync::Mutex::new(false),
            store,
            stats,
            gap_timeout,
            queue_capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, RoomState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a session in the joining state and announces its user if newly online.
    pub(crate) fn register(&self, session: Arc<SessionShared>) -> Snapshot {
        let mut st = self.lock();
        let user = session.user.to_string();
        let count = st.online.entry(user.clone()).or_insert(0);
        *count += 1;
        let came_online = *count == 1;
        let announce = came_online && !st.remote_online(&user);
        let id = session.id;
        if announce {
            let frame = Frame::new(Event::UserJoined {
                room: self.name.clone(),
                user,
            });
            fan_out(&mut st, &frame, self.queue_capacity);
        }
        st.members.insert(
            id,
            LocalMember {
                session,
                joining: Some(Vec::new()),
            },
        );
        Snapshot {
            last_seq: st.delivered,
            came_online,
        }
    }

    /// Queues the session's `joined` frame, then every live frame that arrived meanwhile, and
    /// makes the session a live member. `false` when it was removed in between.
    pub(crate) fn activate(&self, session_id: u64, joined: Event) -> bool {
        let mut st = self.lock();
        let Some(member) = st.members.get_mut(&session_id) else {
            return false;
        };
        let buffered = member.joining.take().unwrap_or_default();
        member.session.send(joined);
        for frame in buffered {
            member.session.push(frame);
        }
        true
    }

    /// Removes a session. Returns `Some(true)` when its user went offline here (and
    /// announces it), `None` when it was not a member.
    pub(crate) fn deregister(&self, session_id: u64) -> Option<bool> {
        let mut st = self.lock();
        let member = st.members.remove(&session_id)?;
        let user = member.session.user.to_string();
        let went_offline = match st.online.get_mut(&user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                st.online.remove(&user);
                true
            }
        };
        if went_offline && !st.remote_online(&user) {
            let frame = Frame::new(Event::UserLeft {
                room: self.name.clone(),
                user,
            });
            fan_out(&mut st, &frame, self.queue_capacity);
        }
        Some(went_offline)
    }

    /// Local sessions in the room.
    pub(crate) fn local_members(&self) -> usize {
        self.lock().members.len()
    }

    /// Users online here or on other nodes, sorted.
    pub(crate) fn online(&self) -> Vec<String> {
        self.lock().online_set().into_iter().collect()
    }

    /// `true` when another node reports `user` online in this room.
    pub(crate) fn online_elsewhere(&self, user: &str) -> bool {
        self.lock().remote_online(user)
    }

    /// Users online on this node, sorted (what this node's roster announces).
    pub(crate) fn local_users(&self) -> Vec<String> {
        self.lock().online.keys().cloned().collect()
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

    /// Sends an event to every local member but one (typing indicators).
    pub(crate) fn broadcast_except(&self, event: Event, except: u64) {
        let frame = Frame::new(event);
        let st = self.lock();
        for (id, m) in &st.members {
            if *id != except && m.joining.is_none() {
                m.session.push(frame.clone());
            }
        }
    }

    /// A user's presence changed on another node. Older versions than the last one applied
    /// from that node are ignored (but still renew its lease).
    pub(crate) fn remote_presence(
        &self,
        node: &str,
        user: &str,
        online: bool,
        version: u64,
        lease: Duration,
    ) {
        self.update_remote(node, version, lease, |users| {
            if online {
                users.insert(user.to_owned());
            } else {
                users.remove(user);
            }
        });
    }

    /// Another node's complete list of users in this room (a lease renewal).
    pub(crate) fn remote_roster(
        &self,
        node: &str,
        users: Vec<String>,
        version: u64,
        lease: Duration,
    ) {
        self.update_remote(node, version, lease, |current| {
            *current = users.into_iter().collect();
        });
    }

    fn update_remote(
        &self,
        node: &str,
        version: u64,
        lease: Duration,
        apply: impl FnOnce(&mut BTreeSet<String>),
    ) {
        let mut st = self.lock();
        let before = st.online_set();
        let entry = st
            .remote
            .entry(node.to_owned())
            .or_insert_with(|| RemoteNode {
                users: BTreeSet::new(),
                version: 0,
                expires: Instant::now(),
            });
        entry.expires = Instant::now() + lease;
        if version <= entry.version {
            return;
        }
        entry.version = version;
        apply(&mut entry.users);
        self.announce_changes(&mut st, &before);
    }

    /// Drops the users of nodes whose lease ran out (a node that died), telling local members.
    pub(crate) fn expire_remote(&self, now: Instant) {
        let mut st = self.lock();
        if st.remote.values().all(|n| n.expires > now) {
            return;
        }
        let before = st.online_set();
        st.remote.retain(|_, n| n.expires > now);
        self.announce_changes(&mut st, &before);
    }

    /// Sends `user_joined`/`user_left` for every difference between `before` and now.
    fn announce_changes(&self, st: &mut RoomState, before: &BTreeSet<String>) {
        let after = st.online_set();
        for user in after.difference(before) {
            let event = Event::UserJoined {
                room: self.name.clone(),
                user: user.clone(),
            };
            fan_out(st, &Frame::new(event), self.queue_capacity);
        }
        for user in before.difference(&after) {
            let event = Event::UserLeft {
                room: self.name.clone(),
                user: user.clone(),
            };
            fan_out(st, &Frame::new(event), self.queue_capacity);
        }
    }

    /// A message was committed (here or on another node): deliver it in seq order.
    pub(crate) fn on_committed(self: &Arc<Self>, message: Message) {
        let repair = {
            let mut st = self.lock();
            self.accept(&mut st, message);
            st.start_repair()
        };
        if repair {
            self.spawn_repair();
        }
    }

    /// Another node announced its newest seq: anything up to it not seen here is missing.
    pub(crate) fn on_head(self: &Arc<Self>, seq: u64) {
        let repair = {
            let mut st = self.lock();
            st.head = st.head.max(seq);
            st.start_repair()
        };
        if repair {
            self.spawn_repair();
        }
    }

    /// Highest seq known to be committed (delivered here or waiting for an earlier one).
    pub(crate) fn head(&self) -> u64 {
        self.lock().head
    }

    /// Puts one message in order and delivers every message that became contiguous.
    fn accept(&self, st: &mut RoomState, message: Message) {
        if message.seq <= st.delivered {
            return; // already delivered: a duplicate from the bus or a repair
        }
        st.head = st.head.max(message.seq);
        st.pending.insert(message.seq, message);
        let started = Instant::now();
        let mut fanned = 0;
        while let Some(entry) = st.pending.first_entry() {
            if *entry.key() != st.delivered + 1 {
                break;
            }
            let message = entry.remove();
            st.delivered = message.seq;
            let frame = Frame::new(Event::Message(message));
            fan_out(st, &frame, self.queue_capacity);
            fanned += 1;
        }
        if fanned > 0 {
            self.stats
                .fanout_nanos
                .fetch_add(started.elapsed().as_nanos() as u64, Relaxed);
            self.stats.fanouts.fetch_add(fanned, Relaxed);
        }
    }

    fn spawn_repair(self: &Arc<Self>) {
        let room = Arc::clone(self);
        tokio::spawn(async move { room.repair().await });
    }

    /// Waits `gap_timeout`, then reads whatever is still missing from the store, until the
    /// gap is closed.
    async fn repair(self: Arc<Self>) {
        loop {
            tokio::time::sleep(self.gap_timeout).await;
            let (after, before) = {
                let mut st = self.lock();
                match st.missing() {
                    Some(range) => range,
                    None => {
                        st.repairing = false;
                        return;
                    }
                }
            };
            let query = HistoryQuery {
                after: Some(after),
                before: Some(before),
                limit: MAX_PAGE,
            };
            match self.store.history(&self.name, query).await {
                Ok(page) => {
                    let mut st = self.lock();
                    for message in page.messages {
                        Stats::bump(&self.stats.gaps_repaired);
                        self.accept(&mut st, message);
                    }
                }
                Err(e) => {
                    tracing::warn!(room = %self.name, error = %e, "gap repair read failed; retrying")
                }
            }
        }
    }
}

/// Queues one shared frame to every local member. Joining members buffer it, bounded like
/// the queue itself.
fn fan_out(st: &mut RoomState, frame: &Arc<Frame>, capacity: usize) {
    for member in st.members.values_mut() {
        match &mut member.joining {
            None => {
                member.session.push(Arc::clone(frame));
            }
            Some(buffer) if buffer.len() < capacity => buffer.push(Arc::clone(frame)),
            Some(_) => {
                member.session.close(CloseReason::SlowConsumer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn room() -> Room {
        Room::new(
            "r".into(),
            RoomKind::Public,
            0,
            Arc::new(MemoryStore::new()),
            Arc::default(),
            Duration::from_millis(50),
            16,
        )
    }

    const LEASE: Duration = Duration::from_secs(60);

    #[test]
    fn a_late_diff_cannot_undo_a_newer_roster() {
        let r = room();
        r.remote_roster("b", vec!["bob".into(), "cat".into()], 5, LEASE);
        assert_eq!(r.online(), ["bob", "cat"]);
        r.remote_presence("b", "bob", false, 4, LEASE);
        assert_eq!(
            r.online(),
            ["bob", "cat"],
            "version 4 is older than the roster"
        );
        r.remote_presence("b", "bob", false, 6, LEASE);
        assert_eq!(r.online(), ["cat"]);
        r.remote_roster("b", vec!["bob".into()], 5, LEASE);
        assert_eq!(r.online(), ["cat"], "a stale roster is ignored too");
    }

    #[test]
    fn nodes_are_tracked_separately_and_expire() {
        let r = room();
        r.remote_roster("b", vec!["bob".into()], 1, LEASE);
        r.remote_roster("c", vec!["bob".into(), "cat".into()], 1, Duration::ZERO);
        assert_eq!(r.online(), ["bob", "cat"]);
        r.expire_remote(Instant::now() + Duration::from_millis(1));
        assert_eq!(
            r.online(),
            ["bob"],
            "node c's lease ran out; bob is still on b"
        );
        r.expire_remote(Instant::now() + LEASE * 2);
        assert!(r.online().is_empty());
    }
}
