//! The Redis bus against a real Redis, what the contract suite cannot see about nodes on a
//! healthy Redis: events between nodes and their counters, removals and disconnects,
//! unsubscribing, garbage on a channel, and connection errors.
//! Set `CHATCORE_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`) to run them.

mod common;

use chatcore::bus::{Bus, BusEvent};
use chatcore_bus_redis::{Error, RedisBus, RedisBusConfig};
use chatcore_testkit::fixtures::{bus_message as message, next_envelope as next, seq_of};
use common::{RedisFactory, redis_url, wait_for};
use fred::interfaces::{ClientLike, PubsubInterface};

/// Publishes a raw payload on a room's channel, as a misbehaving client of the Redis would.
async fn publish_raw(url: &str, channel: &str, payload: &[u8]) {
    let client =
        fred::types::Builder::from_config(fred::types::config::Config::from_url(url).expect("url"))
            .build()
            .expect("client");
    client.init().await.expect("connect");
    let _: i64 = client
        .publish(channel, payload.to_vec())
        .await
        .expect("publish");
    let _ = client.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_exchange_events_and_count_them() {
    let Some(url) = redis_url() else { return };
    let f = RedisFactory::new(url, false);
    let (a, mut a_rx) = f.started("a").await;
    let (b, mut b_rx) = f.started("b").await;
    a.subscribe("r").await.expect("subscribe");
    b.subscribe("r").await.expect("subscribe");
    let typing = BusEvent::Typing {
        room: "r".into(),
        user: "ann".into(),
        on: true,
    };
    let presence = BusEvent::Presence {
        room: "r".into(),
        user: "ann".into(),
        online: true,
        version: 7,
    };
    a.publish(message("r", 1));
    a.publish(typing.clone());
    a.publish(presence.clone());
    assert_eq!(next(&mut b_rx).await.event, message("r", 1));
    assert_eq!(next(&mut b_rx).await.event, typing);
    let env = next(&mut b_rx).await;
    assert_eq!((env.origin.as_str(), env.event), ("a", presence));
    // b's reply is the first thing a receives: its own three events were not delivered.
    b.publish(message("r", 2));
    let env = next(&mut a_rx).await;
    assert_eq!((env.origin.as_str(), seq_of(&env)), ("b", Some(2)));
    // Each node's own echoes arrive on its own connection, independently of the other's,
    // and may come before the reply to the `PUBLISH` that counts an event published.
    wait_for(
        "both nodes to count their publishes and own echoes",
        || async {
            let (sa, sb) = (a.stats(), b.stats());
            (sa.own, sa.published, sb.own, sb.published) == (3, 3, 1, 1)
        },
    )
    .await;
    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!((sa.published, sa.own, sa.received), (3, 3, 1), "{sa:?}");
    assert_eq!((sb.published, sb.own, sb.received), (1, 1, 3), "{sb:?}");
    assert!(sa.connected && sa.rooms == 1 && sa.dropped == 0, "{sa:?}");
    a.close().await.expect("close");
    b.close().await.expect("close");
}

/// The host's fleet-wide operations travel on the node-wide channel: a node that serves no
/// room at all still hears a removal and a disconnect (`Hub::remove_member`,
/// `Hub::disconnect_user` on another node).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removals_and_disconnects_reach_every_node() {
    let Some(url) = redis_url() else { return };
    let f = RedisFactory::new(url, false);
    let (a, _a_rx) = f.started("a").await;
    let (b, mut b_rx) = f.started("b").await;
    let removed = BusEvent::Removed {
        room: "vip".into(),
        user: "ann".into(),
    };
    let disconnect = BusEvent::Disconnect { user: "ann".into() };
    a.publish(removed.clone());
    a.publish(disconnect.clone());
    assert_eq!(next(&mut b_rx).await.event, removed);
    assert_eq!(next(&mut b_rx).await.event, disconnect);
    a.close().await.expect("close");
    b.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_stops_delivery_proved_by_order() {
    let Some(url) = redis_url() else { return };
    let f = RedisFactory::new(url, false);
    let (a, _a_rx) = f.started("a").await;
    let (b, mut b_rx) = f.started("b").await;
    b.subscribe("gone").await.expect("subscribe");
    b.subscribe("kept").await.expect("subscribe");
    b.unsubscribe("gone").await.expect("unsubscribe");
    // One connection's publishes reach a subscriber in order: when the second arrives,
    // the first would have arrived before it.
    a.publish(message("gone", 1));
    a.publish(message("kept", 2));
    let env = next(&mut b_rx).await;
    assert_eq!(
        seq_of(&env),
        Some(2),
        "the unsubscribed room was delivered: {env:?}"
    );
    assert!(b_rx.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_a_room_channel_is_counted_and_ignored() {
    let Some(url) = redis_url() else { return };
    let f = RedisFactory::new(url.clone(), false);
    let (a, _a_rx) = f.started("a").await;
    let (b, mut b_rx) = f.started("b").await;
    b.subscribe("r").await.expect("subscribe");
    let channel = format!("{}room:r", f.prefix);
    publish_raw(&url, &channel, b"not msgpack \xff\xfe").await;
    publish_raw(&url, &channel, b"").await;
    publish_raw(&url, &channel, &[0x81, 0xa6, b'o']).await; // truncated map
    a.publish(message("r", 1));
    assert_eq!(seq_of(&next(&mut b_rx).await), Some(1));
    assert!(b_rx.try_recv().is_err());
    let stats = b.stats();
    assert_eq!((stats.decode_errors, stats.received), (3, 1), "{stats:?}");
}

#[tokio::test]
async fn connect_failure_is_one_clear_line() {
    if redis_url().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port(); // nothing listens there once the listener is dropped
    let url = format!("redis://:hunter2@127.0.0.1:{port}");
    let err = RedisBus::connect(RedisBusConfig::new(url))
        .await
        .expect_err("nothing listens there");
    let text = err.to_string();
    println!("{text}");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(!text.contains('\n') && !text.contains("hunter2"), "{text}");
    assert!(
        text.starts_with(&format!(
            "cannot reach Redis at redis://:***@127.0.0.1:{port}: "
        )),
        "{text}"
    );
    assert!(
        text.ends_with("is it running? check the bus URL (--bus)"),
        "{text}"
    );

    let err = RedisBus::connect(RedisBusConfig::new("http://nonsense"))
        .await
        .expect_err("bad scheme");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}
