//! [`Presence`]: who is online in one room, here and on the other nodes.
//!
//! A value type the room owns under its lock. It never sends anything: each change returns
//! the users who came online or went offline, and the room announces them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Users online in a room: local sessions counted per user, and the users each other node
/// reported, with the lease and version of that node's last report.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    /// Local sessions per online user.
    local: BTreeMap<String, usize>,
    /// Users online on other nodes, per node, from the bus.
    remote: HashMap<String, RemoteNode>,
}

/// What another node told us about its users in this room.
#[derive(Debug)]
struct RemoteNode {
    users: BTreeSet<String>,
    /// Newest presence version applied from that node.
    version: u64,
    /// When its lease runs out unless renewed.
    expires: Instant,
}

/// The users whose visible presence changed: announce `joined` as `user_joined`, `left` as
/// `user_left`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub(crate) joined: Vec<String>,
    pub(crate) left: Vec<String>,
}

impl Presence {
    /// One more local session of `user`. Returns whether the user came online on this node,
    /// and whether that is visible (they were not already online on another node).
    pub(crate) fn add_local(&mut self, user: &str) -> (bool, bool) {
        let count = self.local.entry(user.to_owned()).or_insert(0);
        *count += 1;
        let came_online = *count == 1;
        (came_online, came_online && !self.remote_online(user))
    }

    /// One local session of `user` fewer. Returns whether the user went offline on this node,
    /// and whether that is visible (they are not online on another node either).
    pub(crate) fn remove_local(&mut self, user: &str) -> (bool, bool) {
        let went_offline = match self.local.get_mut(user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                self.local.remove(user);
                true
            }
        };
        (went_offline, went_offline && !self.remote_online(user))
    }

    /// `true` when another node reports `user` online.
    pub(crate) fn remote_online(&self, user: &str) -> bool {
        self.remote.values().any(|n| n.users.contains(user))
    }

    /// Users online on this node, sorted (what this node's roster announces).
    pub(crate) fn local_users(&self) -> Vec<String> {
        self.local.keys().cloned().collect()
    }

    /// Every user online here or on another node, sorted.
    pub(crate) fn online(&self) -> BTreeSet<String> {
        let mut users: BTreeSet<String> = self.local.keys().cloned().collect();
        for node in self.remote.values() {
            users.extend(node.users.iter().cloned());
        }
        users
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
        self.update_remote(node, version, lease, |users| {
            if online {
                users.insert(user.to_owned());
            } else {
                users.remove(user);
            }
        })
    }

    /// Another node's complete list of users in this room (a lease renewal).
    pub(crate) fn remote_roster(
        &mut self,
        node: &str,
        users: Vec<String>,
        version: u64,
        lease: Duration,
    ) -> Changes {
        self.update_remote(node, version, lease, |current| {
            *current = users.into_iter().collect();
        })
    }

    fn update_remote(
        &mut self,
        node: &str,
        version: u64,
        lease: Duration,
        apply: impl FnOnce(&mut BTreeSet<String>),
    ) -> Changes {
        let before = self.online();
        let entry = self
            .remote
            .entry(node.to_owned())
            .or_insert_with(|| RemoteNode {
                users: BTreeSet::new(),
                version: 0,
                expires: Instant::now(),
            });
        entry.expires = Instant::now() + lease;
        if version <= entry.version {
            return Changes::default();
        }
        entry.version = version;
        apply(&mut entry.users);
        self.changes_since(&before)
    }

    /// Drops the users of nodes whose lease ran out before `now` (a node that died).
    pub(crate) fn expire(&mut self, now: Instant) -> Changes {
        if self.remote.values().all(|n| n.expires > now) {
            return Changes::default();
        }
        let before = self.online();
        self.remote.retain(|_, n| n.expires > now);
        self.changes_since(&before)
    }

    fn changes_since(&self, before: &BTreeSet<String>) -> Changes {
        let after = self.online();
        Changes {
            joined: after.difference(before).cloned().collect(),
            left: before.difference(&after).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(60);

    fn online(p: &Presence) -> Vec<String> {
        p.online().into_iter().collect()
    }

    #[test]
    fn a_late_diff_cannot_undo_a_newer_roster() {
        let mut p = Presence::default();
        p.remote_roster("b", vec!["bob".into(), "cat".into()], 5, LEASE);
        assert_eq!(online(&p), ["bob", "cat"]);
        let stale = p.remote_presence("b", "bob", false, 4, LEASE);
        assert_eq!(
            stale,
            Changes::default(),
            "version 4 is older than the roster"
        );
        assert_eq!(online(&p), ["bob", "cat"]);
        let left = p.remote_presence("b", "bob", false, 6, LEASE);
        assert_eq!(left.left, ["bob"]);
        assert_eq!(online(&p), ["cat"]);
        p.remote_roster("b", vec!["bob".into()], 5, LEASE);
        assert_eq!(online(&p), ["cat"], "a stale roster is ignored too");
    }

    #[test]
    fn nodes_are_tracked_separately_and_expire() {
        let mut p = Presence::default();
        p.remote_roster("b", vec!["bob".into()], 1, LEASE);
        p.remote_roster("c", vec!["bob".into(), "cat".into()], 1, Duration::ZERO);
        assert_eq!(online(&p), ["bob", "cat"]);
        let gone = p.expire(Instant::now() + Duration::from_millis(1));
        assert_eq!(
            gone.left,
            ["cat"],
            "node c's lease ran out; bob is still on b"
        );
        assert_eq!(online(&p), ["bob"]);
        p.expire(Instant::now() + LEASE * 2);
        assert!(p.online().is_empty());
    }

    #[test]
    fn a_user_online_elsewhere_comes_and_goes_silently() {
        let mut p = Presence::default();
        p.remote_roster("b", vec!["bob".into()], 1, LEASE);
        assert_eq!(p.add_local("bob"), (true, false));
        assert_eq!(p.add_local("bob"), (false, false), "a second local session");
        assert_eq!(p.remove_local("bob"), (false, false));
        assert_eq!(
            p.remove_local("bob"),
            (true, false),
            "still online on node b"
        );
        assert_eq!(p.add_local("ann"), (true, true));
        assert_eq!(p.remove_local("ann"), (true, true));
    }
}
