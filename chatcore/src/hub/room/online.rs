//! What a room tells and answers about who is online: the queries on its presence, the
//! changes other nodes report, the presence tick, and the `user_joined`, `user_left`,
//! `presence` and `online_count` frames that announce them to the room's members.

use std::time::{Duration, Instant};

use super::presence::Changes;
use super::{Room, RoomState};
use crate::protocol::{Event, Frame};

impl Room {
    /// Users online here or on other nodes, sorted.
    pub(crate) fn online(&self) -> Vec<String> {
        self.lock().presence.online()
    }

    /// How many users are online here or on other nodes.
    pub(crate) fn online_count(&self) -> usize {
        self.lock().presence.count()
    }

    /// What a joining session is told about presence: the sorted list, or in a large room
    /// an empty list and the count (members of a large room ask `who` for the list).
    pub(crate) fn presence_for_join(&self) -> (Vec<String>, Option<usize>) {
        let st = self.lock();
        if st.presence.is_large() {
            (Vec::new(), Some(st.presence.count()))
        } else {
            (st.presence.online(), None)
        }
    }

    /// `true` when another node reports `user` online in this room.
    pub(crate) fn online_elsewhere(&self, user: &str) -> bool {
        self.lock().presence.remote_online(user)
    }

    /// Users online on this node, sorted (what this node's roster announces).
    pub(crate) fn local_users(&self) -> Vec<String> {
        self.lock().presence.local_users()
    }

    /// A user's presence changed on another node.
    pub(crate) fn remote_presence(
        &self,
        node: &str,
        user: &str,
        online: bool,
        version: u64,
        lease: Duration,
    ) {
        let mut st = self.lock();
        let changes = st
            .presence
            .remote_presence(node, user, online, version, lease);
        self.announce(&mut st, changes);
    }

    /// Another node's complete list of users in this room (a lease renewal).
    pub(crate) fn remote_roster(
        &self,
        node: &str,
        users: Vec<String>,
        version: u64,
        lease: Duration,
    ) {
        let mut st = self.lock();
        let changes = st.presence.remote_roster(node, users, version, lease);
        self.announce(&mut st, changes);
    }

    /// The presence tick: drops the users of nodes whose lease ran out (a node that died) and,
    /// in a large room whose count changed, announces the count (coalesced: at most once per
    /// [`COUNT_PERIOD`](super::presence::COUNT_PERIOD)).
    pub(crate) fn presence_tick(&self, now: Instant) {
        let mut st = self.lock();
        let changes = st.presence.expire(now);
        self.announce(&mut st, changes);
        if let Some(online) = st.presence.take_count(now) {
            let event = Event::OnlineCount {
                room: self.name.clone(),
                online: online as u64,
            };
            self.fan_out(&mut st, &Frame::new(event));
        }
    }

    /// Sends `user_joined`/`user_left` for each presence change, or the whole list.
    pub(super) fn announce(&self, st: &mut RoomState, changes: Changes) {
        if let Some(online) = changes.roster {
            let event = Event::Presence {
                id: None,
                room: self.name.clone(),
                online,
            };
            self.fan_out(st, &Frame::new(event));
        }
        for user in changes.joined {
            let event = Event::UserJoined {
                room: self.name.clone(),
                user,
            };
            self.fan_out(st, &Frame::new(event));
        }
        for user in changes.left {
            let event = Event::UserLeft {
                room: self.name.clone(),
                user,
            };
            self.fan_out(st, &Frame::new(event));
        }
    }
}
