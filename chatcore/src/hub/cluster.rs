//! The cluster side: what comes in from the bus, and what this node tells the others on a
//! timer (head announcements, presence leases).

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::command::{
    attach, deleted_here, disconnect_here, leave_here, moved_here, notify_here, revoke_here,
};
use super::core::Core;
use super::stats::Stats;
use crate::bus::{BusEvent, BusHandler, Envelope};
use crate::names;
use crate::protocol::Event;

/// Delivers bus events to the hub without keeping it alive.
pub(crate) struct HubBusHandler(pub(crate) Weak<Core>);

impl BusHandler for HubBusHandler {
    fn on_event(&self, envelope: Envelope) {
        if let Some(core) = self.0.upgrade() {
            on_bus_event(&core, envelope);
        }
    }

    fn on_gap_suspected(&self) {
        if let Some(core) = self.0.upgrade() {
            tokio::spawn(async move { resync(&core).await });
        }
    }
}

/// Starts the timers: head announcements every `gap_timeout`, presence leases every
/// `presence_heartbeat`. They stop when the hub is dropped.
pub(crate) fn spawn_timers(core: &Arc<Core>) {
    spawn_announcer(core);
    spawn_presence(core);
}

fn on_bus_event(core: &Arc<Core>, envelope: Envelope) {
    Stats::bump(&core.stats.bus_received);
    match envelope.event {
        BusEvent::Invite { user, room } => {
            let core = Arc::clone(core);
            tokio::spawn(async move { on_invite(&core, &user, &room).await });
            return;
        }
        BusEvent::Removed { room, user } => {
            let core = Arc::clone(core);
            tokio::spawn(async move {
                if let Err(e) = leave_here(&core, &room, &user).await {
                    tracing::warn!(room, user, error = %e, "removed member not taken out here");
                }
            });
            return;
        }
        BusEvent::Disconnect { user } => {
            disconnect_here(core, &user);
            return;
        }
        BusEvent::RoomDeleted { room, by } => {
            let core = Arc::clone(core);
            tokio::spawn(async move { deleted_here(&core, &room, &by, None).await });
            return;
        }
        BusEvent::Revoke { account, which } => {
            revoke_here(core, &account, &which);
            return;
        }
        BusEvent::Mention {
            user,
            room,
            seq,
            sender,
            text,
        } => {
            let event = Event::Mention {
                room,
                seq,
                sender,
                text,
            };
            notify_here(core, &user, event);
            return;
        }
        BusEvent::Invitation { user, room, by } => {
            notify_here(core, &user, Event::Invited { room, by });
            return;
        }
        BusEvent::Read { room, user, seq } => {
            moved_here(core, &room, &user, seq, None);
            return;
        }
        _ => {}
    }
    let Some(room) = envelope.event.room().and_then(|name| core.loaded(name)) else {
        return;
    };
    match envelope.event {
        BusEvent::Message(message) => room.on_committed(message),
        BusEvent::Typing {
            room: name,
            user,
            on,
        } => room.broadcast_except(
            Event::Typing {
                room: name,
                user,
                on,
            },
            0,
        ),
        BusEvent::Head { seq, .. } => room.on_head(seq),
        BusEvent::Presence {
            user,
            online,
            version,
            ..
        } => {
            let lease = core.limits.presence_lease;
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
        // Handled above: node-wide events, about rooms this node may not have loaded.
        BusEvent::Invite { .. }
        | BusEvent::Removed { .. }
        | BusEvent::RoomDeleted { .. }
        | BusEvent::Disconnect { .. }
        | BusEvent::Revoke { .. }
        | BusEvent::Mention { .. }
        | BusEvent::Invitation { .. }
        | BusEvent::Read { .. } => {}
    }
}

/// Another node delivered a direct message to `user` in `room`: joins `user`'s sessions
/// here to it (the `joined` frame carries the message), unless already joined.
async fn on_invite(core: &Core, user: &str, room: &str) {
    let is_party = names::dm_members(room).is_some_and(|(a, b)| a == user || b == user);
    let sessions = core.sessions_of(user);
    if !is_party || sessions.is_empty() {
        return;
    }
    let room = match core.load_room(room, None).await {
        Ok(room) => room,
        Err(e) => {
            tracing::warn!(room, error = %e, "cannot open the direct room of an invite");
            return;
        }
    };
    for session in sessions {
        if !session.joined().contains_key(&room.name) {
            if let Err(e) = attach(core, &session, &room, None, None).await {
                tracing::debug!(room = %room.name, error = %e, "invite not joined");
            }
        }
    }
}

/// Checks every room with local members against the store (after a bus outage), and tells
/// the other nodes the store's head: what this node published while its link was down never
/// reached them, and nodes that stayed connected get no gap warning of their own.
async fn resync(core: &Core) {
    for room in core.loaded_rooms() {
        if room.local_members() == 0 {
            continue;
        }
        match core.store.last_seq(&room.name).await {
            Ok(seq) => {
                room.on_head(seq);
                core.bus.publish(BusEvent::Head {
                    room: room.name.clone(),
                    seq,
                });
            }
            Err(e) => tracing::warn!(room = %room.name, error = %e, "resync failed"),
        }
    }
}

/// Announces the newest seq of every room with local commits since the last call, so nodes
/// that lost the tail of a burst on the bus repair it (see [`BusEvent::Head`]).
fn announce_heads(core: &Core) {
    for room in core.room_context.take_committed() {
        core.bus.publish(BusEvent::Head {
            room: room.name.clone(),
            seq: room.head(),
        });
    }
}

/// Renews this node's presence lease in every room with local members, and repeats the
/// room's head there: the one `Head` sent after a burst can be lost on the bus like the
/// burst's last message, and then nobody would learn of that message until the next one.
fn publish_rosters(core: &Core) {
    let lease_ms = core.limits.presence_lease.as_millis() as u64;
    for room in core.loaded_rooms() {
        if room.local_members() > 0 {
            core.bus.publish(BusEvent::Roster {
                room: room.name.clone(),
                users: room.local_users(),
                version: core.next_presence_version(),
                lease_ms,
            });
            core.bus.publish(BusEvent::Head {
                room: room.name.clone(),
                seq: room.head(),
            });
        }
    }
}

/// Renews presence leases every `presence_heartbeat`, on a timer of its own so the period
/// is exact (renewals that rode on the sweep's tick slipped to the next whole tick: every
/// 4 s, not 3); every [`sweep_period`] drops expired remote presence, announces the counts
/// of large rooms and unloads rooms nothing uses; until the hub is dropped.
fn spawn_presence(core: &Arc<Core>) {
    let weak = Arc::downgrade(core);
    let heartbeat = core.limits.presence_heartbeat;
    let sweep = sweep_period(core.limits.presence_lease);
    tokio::spawn(async move {
        let mut renew = tokio::time::interval(heartbeat);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut expire = tokio::time::interval(sweep);
        expire.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = renew.tick() => {
                    let Some(core) = weak.upgrade() else { return };
                    publish_rosters(&core);
                }
                _ = expire.tick() => {
                    let Some(core) = weak.upgrade() else { return };
                    let now = std::time::Instant::now();
                    for room in core.loaded_rooms() {
                        room.presence_tick(now);
                    }
                    core.unload_idle();
                }
            }
        }
    });
}

/// How often expired leases are looked for: a fortieth of the lease, at most 250 ms, so a
/// dead node's users leave within the lease plus at most 250 ms (`Limits::presence_lease`).
pub(crate) fn sweep_period(lease: Duration) -> Duration {
    (lease / 40).clamp(Duration::from_millis(5), Duration::from_millis(250))
}

/// Runs [`announce_heads`] every `gap_timeout` until the hub is dropped.
fn spawn_announcer(core: &Arc<Core>) {
    let weak = Arc::downgrade(core);
    let period = core.limits.gap_timeout.max(Duration::from_millis(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(core) = weak.upgrade() else { return };
            announce_heads(&core);
        }
    });
}
