//! The [`Bus`] contract. Every case takes a [`BusFactory`] and panics on a violation.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::BusFactory;
use super::fixtures::{Inbox, bus_message as message, next_envelope as next};
use crate::bus::{Bus, BusEvent, Channel, Envelope};

async fn started(
    f: &impl BusFactory,
    id: &str,
) -> (Arc<dyn Bus>, mpsc::UnboundedReceiver<Envelope>) {
    let bus = f.node(id).await;
    let (inbox, rx) = Inbox::new();
    bus.start(inbox).await.expect("start");
    assert_eq!(bus.node_id(), id);
    (bus, rx)
}

/// A sentinel published last; once it arrives, everything published before it by the same
/// node has arrived too (or was not going to).
async fn drain_until_sentinel(
    publisher: &Arc<dyn Bus>,
    room: &str,
    rx: &mut mpsc::UnboundedReceiver<Envelope>,
) -> Vec<Envelope> {
    publisher.publish(message(room, u64::MAX));
    let mut seen = Vec::new();
    loop {
        let env = next(rx).await;
        if matches!(&env.event, BusEvent::Message(m) if m.seq == u64::MAX) {
            return seen;
        }
        seen.push(env);
    }
}

/// An event reaches every other subscribed node, tagged with its origin, and never its own.
pub async fn delivers_to_other_nodes_not_self(f: &impl BusFactory) {
    let (a, mut a_rx) = started(f, "node-a").await;
    let (b, mut b_rx) = started(f, "node-b").await;
    let (c, mut c_rx) = started(f, "node-c").await;
    for bus in [&a, &b, &c] {
        bus.subscribe("r").await.expect("subscribe");
    }
    a.publish(message("r", 1));
    for rx in [&mut b_rx, &mut c_rx] {
        let env = next(rx).await;
        assert_eq!(env.origin, "node-a");
        assert_eq!(env.event, message("r", 1));
    }
    // a's own event never came back to a: b's sentinel is the first thing a sees.
    let seen = drain_until_sentinel(&b, "r", &mut a_rx).await;
    assert!(
        seen.is_empty(),
        "a node must not receive its own events: {seen:?}"
    );
}

/// Messages, typing, presence and roster events arrive intact and in publish order.
pub async fn delivers_every_event_kind(f: &impl BusFactory) {
    let (a, _a_rx) = started(f, "node-a").await;
    let (b, mut b_rx) = started(f, "node-b").await;
    b.subscribe("r").await.expect("subscribe");
    let events = [
        message("r", 7),
        BusEvent::Typing {
            room: "r".into(),
            user: "ann".into(),
            on: true,
        },
        BusEvent::Presence {
            room: "r".into(),
            user: "ann".into(),
            online: false,
            version: 3,
        },
        BusEvent::Roster {
            room: "r".into(),
            users: vec!["ann".into(), "bob".into()],
            version: 4,
            lease_ms: 9_000,
        },
    ];
    for e in &events {
        a.publish(e.clone());
    }
    for e in events {
        assert_eq!(next(&mut b_rx).await.event, e);
    }
}

/// A node receives only the rooms it subscribed to.
pub async fn only_subscribed_rooms_are_delivered(f: &impl BusFactory) {
    let (a, _a_rx) = started(f, "node-a").await;
    let (b, mut b_rx) = started(f, "node-b").await;
    b.subscribe("mine").await.expect("subscribe");
    b.subscribe("weird room/with:chars*?")
        .await
        .expect("subscribe");
    a.publish(message("not-mine", 1));
    a.publish(message("weird room/with:chars*?", 2));
    let seen = drain_until_sentinel(&a, "mine", &mut b_rx).await;
    let channels: Vec<_> = seen.iter().map(|e| e.event.channel()).collect();
    assert_eq!(channels, [Channel::Room("weird room/with:chars*?")]);
}

/// A node-wide event reaches every other started node, even one that subscribed to no room,
/// and never comes back to its publisher.
pub async fn node_wide_events_reach_every_node(f: &impl BusFactory) {
    let (a, mut a_rx) = started(f, "node-a").await;
    let (b, mut b_rx) = started(f, "node-b").await;
    let (_c, mut c_rx) = started(f, "node-c").await;
    let invite = |user: &str| BusEvent::Invite {
        user: user.to_owned(),
        room: format!("dm:{user}:zed"),
    };
    a.publish(invite("bob"));
    for rx in [&mut b_rx, &mut c_rx] {
        let env = next(rx).await;
        assert_eq!(env.origin, "node-a");
        assert_eq!(env.event, invite("bob"));
    }
    // b's reply is the first thing a hears: its own invite was not delivered back to it.
    b.publish(invite("ann"));
    let env = next(&mut a_rx).await;
    assert_eq!((env.origin.as_str(), env.event), ("node-b", invite("ann")));
    assert_eq!(next(&mut c_rx).await.event, invite("ann"));
    // A deleted room reaches every node, whatever it subscribed.
    let deleted = BusEvent::RoomDeleted {
        room: "gone".into(),
        by: "ann".into(),
    };
    a.publish(deleted.clone());
    for rx in [&mut b_rx, &mut c_rx] {
        assert_eq!(next(rx).await.event, deleted);
    }
}

/// After unsubscribe, a room's events stop; other rooms continue.
pub async fn unsubscribe_stops_delivery(f: &impl BusFactory) {
    let (a, _a_rx) = started(f, "node-a").await;
    let (b, mut b_rx) = started(f, "node-b").await;
    b.subscribe("r").await.expect("subscribe");
    b.subscribe("keep").await.expect("subscribe");
    a.publish(message("r", 1));
    assert_eq!(next(&mut b_rx).await.event, message("r", 1));
    b.unsubscribe("r").await.expect("unsubscribe");
    b.unsubscribe("r").await.expect("unsubscribe is idempotent");
    a.publish(message("r", 2));
    let seen = drain_until_sentinel(&a, "keep", &mut b_rx).await;
    assert!(seen.is_empty(), "unsubscribed room delivered: {seen:?}");
    b.subscribe("r").await.expect("subscribe again");
    a.publish(message("r", 3));
    assert_eq!(next(&mut b_rx).await.event, message("r", 3));
}

/// A started bus answers ping; close is idempotent.
pub async fn ping_succeeds_when_connected(f: &impl BusFactory) {
    let (a, _rx) = started(f, "node-a").await;
    a.ping().await.expect("ping");
    a.close().await.expect("close");
    a.close().await.expect("close again");
}
