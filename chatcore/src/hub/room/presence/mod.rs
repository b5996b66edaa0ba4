//! [`Presence`]: who is online in one room, here and on the other nodes, and how much of it
//! the room's members are told.
//!
//! A value type the room owns under its lock. It never sends anything: each change returns
//! what to announce ([`Changes`]) and the room announces it.
//!
//! Every user online in the room has a count of the *sources* that report them: this node
//! (any number of local sessions count once) and each other node whose roster lists them.
//! A user becomes visible when the count leaves zero and invisible when it returns to zero,
//! so each change costs O(users it touches), never a walk over the whole room: a join storm
//! of n users costs O(n), not O(n²).
//!
//! **Large rooms.** Announcing every join to every member makes filling a room of n members
//! cost O(n²) frames. Past `limit` users online the room turns *large*: per-user
//! `user_joined`/`user_left` stop, and the count is announced instead, coalesced
//! ([`Presence::take_count`], at most once per [`COUNT_PERIOD`]: a storm of joins into a room
//! of 5,000 is a handful of frames per member, not one per sweep). When it shrinks to half the
//! limit or fewer it turns small again and the whole list is announced once (an unsolicited
//! `presence`), after which per-user announcements resume. The gap between the two
//! thresholds keeps a room near the limit from flapping.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Users online in a room: local sessions counted per user, the users each other node
/// reported (with the lease and version of that node's last report), and how many sources
/// report each online user.
#[derive(Debug)]
pub(crate) struct Presence {
    /// Local sessions per online user.
    local: HashMap<Arc<str>, usize>,
    /// Users online on other nodes, per node, from the bus.
    remote: HashMap<String, RemoteNode>,
    /// Every online user with the number of sources reporting them (this node counts once).
    online: HashMap<Arc<str>, u32>,
    /// Most users online for which each join and leave is announced.
    limit: usize,
    /// Past `limit`: only the count is announced.
    large: bool,
    /// The count changed since [`Presence::take_count`] last reported it (large rooms).
    count_changed: bool,
    /// When [`Presence::take_count`] last reported a count.
    count_announced: Option<Instant>,
}

/// How often at most a large room's count is announced.
pub(crate) const COUNT_PERIOD: Duration = Duration::from_secs(1);

/// What another node told us about its users in this room.
#[derive(Debug)]
struct RemoteNode {
    users: HashSet<Arc<str>>,
    /// Newest presence version applied from that node.
    version: u64,
    /// When its lease runs out unless renewed.
    expires: Instant,
}

/// What to tell the room's members: `joined` as `user_joined`, `left` as `user_left`, and
/// `roster` (the whole list, sorted) when the room just turned small again.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub(crate) joined: Vec<String>,
    pub(crate) left: Vec<String>,
    pub(crate) roster: Option<Vec<String>>,
}

impl Presence {
    /// Empty presence that announces each user up to `limit` users online (at least 2).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            local: HashMap::new(),
            remote: HashMap::new(),
            online: HashMap::new(),
            limit: limit.max(2),
            large: false,
            count_changed: false,
            count_announced: None,
        }
    }

    /// One more local session of `user`. Returns whether the user came online on this node,
    /// and what to announce.
    pub(crate) fn add_local(&mut self, user: &Arc<str>) -> (bool, Changes) {
        let count = self.local.entry(Arc::clone(user)).or_insert(0);
        *count += 1;
        let came_online = *count == 1;
        let mut changes = Changes::default();
        if came_online {
            self.raise(user, &mut changes);
        }
        (came_online, self.settle(changes))
    }

    /// One local session of `user` fewer. Returns whether the user went offline on this node,
    /// and what to announce.
    pub(crate) fn remove_local(&mut self, user: &str) -> (bool, Changes) {
        let mut changes = Changes::default();
        let went_offline = match self.local.get_mut(user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                self.local.remove(user);
                self.lower(user, &mut changes);
                true
            }
            None => true,
        };
        (went_offline, self.settle(changes))
    }

    /// `true` when another node reports `user` online.
    pub(crate) fn remote_online(&self, user: &str) -> bool {
        self.remote.values().any(|n| n.users.contains(user))
    }

    /// Users online on this node, sorted (what this node's roster announces).
    pub(crate) fn local_users(&self) -> Vec<String> {
        sorted(self.local.keys())
    }

    /// Every user online here or on another node, sorted.
    pub(crate) fn online(&self) -> Vec<String> {
        sorted(self.online.keys())
    }

    /// How many users are online here or on another node.
    pub(crate) fn count(&self) -> usize {
        self.online.len()
    }

    /// `true` while only the count is announced.
    pub(crate) fn is_large(&self) -> bool {
        self.large
    }

    /// In a large room, the count if it changed since it was last reported and that was at
    /// least [`COUNT_PERIOD`] before `now` (a change seen sooner waits for a later call).
    pub(crate) fn take_count(&mut self, now: Instant) -> Option<usize> {
        let due = self
            .count_announced
            .is_none_or(|at| now.saturating_duration_since(at) >= COUNT_PERIOD);
        if !(self.large && self.count_changed && due) {
            return None;
        }
        self.count_changed = false;
        self.count_announced = Some(now);
        Some(self.online.len())
    }

    /// A user's presence changed on another node. Versions older than the last one applied
    /// from that node are ignored (but still renew its lease).
    pub(crate) fn remote_presence(
        &mut self,
        node: &str,
        user: &str,
        online: bool,
        version: u64,
        lease: Duration,
    ) -> Changes {
        let Some(entry) = self.renew(node, version, lease) else {
            return Changes::default();
        };
        let shared: Arc<str> = Arc::from(user);
        let changed = if online {
            entry.users.insert(Arc::clone(&shared))
        } else {
            entry.users.remove(user)
        };
        let mut changes = Changes::default();
        match (changed, online) {
            (true, true) => self.raise(&shared, &mut changes),
            (true, false) => self.lower(user, &mut changes),
            (false, _) => {}
        }
        self.settle(changes)
    }

    /// Another node's complete list of users in this room (a lease renewal).
    pub(crate) fn remote_roster(
        &mut self,
        node: &str,
        users: Vec<String>,
        version: u64,
        lease: Duration,
    ) -> Changes {
        let Some(entry) = self.renew(node, version, lease) else {
            return Changes::default();
        };
        let new: HashSet<Arc<str>> = users.into_iter().map(Arc::from).collect();
        let old = std::mem::replace(&mut entry.users, new.clone());
        let mut changes = Changes::default();
        for user in old.difference(&new) {
            self.lower(user, &mut changes);
        }
        for user in new.difference(&old) {
            self.raise(user, &mut changes);
        }
        self.settle(changes)
    }

    /// Renews `node`'s lease; returns its entry when `version` is newer than the last applied.
    fn renew(&mut self, node: &str, version: u64, lease: Duration) -> Option<&mut RemoteNode> {
        let entry = self
            .remote
            .entry(node.to_owned())
            .or_insert_with(|| RemoteNode {
                users: HashSet::new(),
                version: 0,
                expires: Instant::now(),
            });
        entry.expires = Instant::now() + lease;
        if version <= entry.version {
            return None;
        }
        entry.version = version;
        Some(entry)
    }

    /// Drops the users of nodes whose lease ran out before `now` (a node that died).
    pub(crate) fn expire(&mut self, now: Instant) -> Changes {
        if self.remote.values().all(|n| n.expires > now) {
            return Changes::default();
        }
        let expired: Vec<String> = self
            .remote
            .iter()
            .filter(|(_, n)| n.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let mut changes = Changes::default();
        for id in expired {
            if let Some(node) = self.remote.remove(&id) {
                for user in &node.users {
                    self.lower(user, &mut changes);
                }
            }
        }
        self.settle(changes)
    }

    /// One more source reports `user` online.
    fn raise(&mut self, user: &Arc<str>, changes: &mut Changes) {
        let sources = self.online.entry(Arc::clone(user)).or_insert(0);
        *sources += 1;
        if *sources == 1 {
            changes.joined.push(user.to_string());
        }
    }

    /// One source fewer reports `user` online.
    fn lower(&mut self, user: &str, changes: &mut Changes) {
        if let Some(sources) = self.online.get_mut(user) {
            *sources -= 1;
            if *sources == 0 {
                self.online.remove(user);
                changes.left.push(user.to_owned());
            }
        }
    }

    /// Turns the raw changes into what members are told, switching between small and large.
    fn settle(&mut self, changes: Changes) -> Changes {
        let n = self.online.len();
        let changed = !changes.joined.is_empty() || !changes.left.is_empty();
        if !self.large && n > self.limit {
            self.large = true;
            self.count_changed = true;
            return Changes::default();
        }
        if self.large && n <= self.limit / 2 {
            self.large = false;
            self.count_changed = false;
            return Changes {
                roster: Some(self.online()),
                ..Changes::default()
            };
        }
        if self.large {
            self.count_changed |= changed;
            return Changes::default();
        }
        changes
    }
}

fn sorted<'a>(users: impl Iterator<Item = &'a Arc<str>>) -> Vec<String> {
    let mut list: Vec<String> = users.map(|u| u.to_string()).collect();
    list.sort_unstable();
    list
}

#[cfg(test)]
mod tests;
