//! Unit tests of the bus logic over the in-memory [`StubDriver`].

use std::sync::atomic::Ordering;
use std::time::Duration;

use chatcore::bus::{BusEvent, Envelope};
use chatcore::testing::fixtures::{Inbox, bus_message as message, next_envelope as next};
use tokio::sync::mpsc;

use super::{Engine, Settings};
use crate::driver::stub::{StubDriver, StubNet};
use crate::{Error, wire};

fn settings(node: &str) -> Settings {
    Settings {
        node_id: node.into(),
        room_prefix: "t:room:".into(),
        nodes_channel: "t:nodes".into(),
        publish_queue: 1024,
        max_batch: 64,
        flush_timeout: Duration::from_secs(5),
    }
}

async fn node(
    net: &StubNet,
    settings: Settings,
) -> (
    Engine<StubDriver>,
    StubDriver,
    mpsc::UnboundedReceiver<Envelope>,
) {
    let driver = net.driver(4096);
    let engine = Engine::new(driver.clone(), settings);
    let (inbox, rx) = Inbox::new();
    engine.start(inbox).await.expect("start");
    (engine, driver, rx)
}

fn seq(env: &Envelope) -> u64 {
    match &env.event {
        BusEvent::Message(m) => m.seq,
        other => panic!("not a message: {other:?}"),
    }
}

#[tokio::test]
async fn delivers_to_others_in_order_and_never_to_self() {
    let net = StubNet::default();
    let (a, _, mut a_rx) = node(&net, settings("a")).await;
    let (b, _, mut b_rx) = node(&net, settings("b")).await;
    a.subscribe("r").await.expect("subscribe");
    b.subscribe("r").await.expect("subscribe");
    for i in 1..=500 {
        a.publish(message("r", i));
    }
    for i in 1..=500 {
        let env = next(&mut b_rx).await;
        assert_eq!(env.origin, "a");
        assert_eq!(seq(&env), i, "in publish order");
    }
    b.publish(message("r", 9999));
    assert_eq!(
        seq(&next(&mut a_rx).await),
        9999,
        "a saw nothing of its own first"
    );
    let stats = a.stats();
    assert_eq!(stats.published, 500);
    assert_eq!(stats.own, 500);
    assert_eq!(stats.received, 1);
    assert_eq!(b.stats().received, 500);
}

#[tokio::test]
async fn only_subscribed_rooms_are_delivered_even_if_the_server_sends_more() {
    let net = StubNet::default();
    let (a, _, _a_rx) = node(&net, settings("a")).await;
    let (b, b_driver, mut b_rx) = node(&net, settings("b")).await;
    b.subscribe("r").await.expect("subscribe");
    b.subscribe("gone").await.expect("subscribe");
    b.unsubscribe("gone").await.expect("unsubscribe");
    // As if Redis still delivered a message sent before the UNSUBSCRIBE took effect.
    crate::driver::Driver::subscribe(&b_driver, "t:room:gone")
        .await
        .expect("raw subscribe");
    a.publish(message("gone", 1));
    a.publish(message("r", 2));
    assert_eq!(seq(&next(&mut b_rx).await), 2);
    assert!(b_rx.try_recv().is_err());
}

#[tokio::test]
async fn garbage_and_misrouted_payloads_are_counted_and_ignored() {
    let net = StubNet::default();
    let (a, _, _a_rx) = node(&net, settings("a")).await;
    let (b, _, mut b_rx) = node(&net, settings("b")).await;
    b.subscribe("r").await.expect("subscribe");
    net.inject("t:room:r", &b"\xde\xad\xbe\xef"[..]);
    net.inject("t:room:r", &b""[..]);
    let elsewhere = wire::encode("a", &message("other", 5)).expect("encode");
    net.inject("t:room:r", elsewhere);
    a.publish(message("r", 1));
    assert_eq!(seq(&next(&mut b_rx).await), 1);
    assert!(b_rx.try_recv().is_err());
    assert_eq!(b.stats().decode_errors, 3);
    assert_eq!(b.stats().received, 1);
}

fn invite(user: &str) -> BusEvent {
    BusEvent::Invite {
        user: user.into(),
        room: format!("dm:ann:{user}"),
    }
}

#[tokio::test]
async fn node_wide_events_reach_every_node_whatever_it_subscribed() {
    let net = StubNet::default();
    let (a, _, mut a_rx) = node(&net, settings("a")).await;
    let (b, _, mut b_rx) = node(&net, settings("b")).await;
    let (c, _, mut c_rx) = node(&net, settings("c")).await;
    b.subscribe("r").await.expect("subscribe");
    b.unsubscribe("r").await.expect("unsubscribe"); // b serves no room now
    c.subscribe("dm:ann:bob").await.expect("subscribe");
    // Misrouted: a room's event on the node-wide channel, an invite on a room's channel.
    net.inject(
        "t:nodes",
        wire::encode("x", &message("r", 1)).expect("encode"),
    );
    net.inject(
        "t:room:dm:ann:bob",
        wire::encode("x", &invite("bob")).expect("encode"),
    );
    a.publish(invite("bob"));
    for rx in [&mut b_rx, &mut c_rx] {
        let env = next(rx).await;
        assert_eq!((env.origin.as_str(), env.event), ("a", invite("bob")));
    }
    b.publish(invite("cy"));
    assert_eq!(
        next(&mut a_rx).await.event,
        invite("cy"),
        "a saw nothing of its own first"
    );
    assert_eq!(next(&mut c_rx).await.event, invite("cy"));
    assert!(c_rx.try_recv().is_err());
    assert_eq!(a.stats().own, 1);
    let stats = c.stats();
    assert_eq!((stats.received, stats.decode_errors), (2, 2), "{stats:?}");
    assert_eq!(b.stats().rooms, 0, "the node-wide channel is not a room");
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_and_counts_without_blocking() {
    let net = StubNet::default();
    let mut s = settings("a");
    s.publish_queue = 8;
    s.max_batch = 2;
    let (a, a_driver, _a_rx) = node(&net, s).await;
    a_driver.paused.send_replace(true); // Redis answers nothing
    for i in 0..100 {
        a.publish(message("r", i));
        tokio::task::yield_now().await;
    }
    let stats = a.stats();
    assert!(stats.dropped > 0, "{stats:?}");
    // In flight: at most MAX_IN_FLIGHT batches of max_batch; plus the queue.
    assert!(
        100 - stats.dropped <= (super::drain::MAX_IN_FLIGHT * 2 + 8) as u64,
        "{stats:?}"
    );
    a_driver.paused.send_replace(false);
    a.close().await.expect("close");
    let stats = a.stats();
    assert_eq!(stats.published + stats.dropped, 100, "{stats:?}");
}

#[tokio::test]
async fn disconnected_drops_fast_and_ping_fails() {
    let net = StubNet::default();
    let (a, a_driver, _a_rx) = node(&net, settings("a")).await;
    a.ping().await.expect("ping while connected");
    a_driver.connected.store(false, Ordering::SeqCst);
    assert!(matches!(a.ping().await, Err(Error::Disconnected)));
    assert!(!a.stats().connected);
    for i in 0..1000 {
        a.publish(message("r", i));
    }
    a.close().await.expect("close");
    let stats = a.stats();
    assert_eq!(stats.dropped, 1000);
    assert_eq!(stats.published, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn pipelines_batch_what_is_queued() {
    let net = StubNet::default();
    let (a, a_driver, _a_rx) = node(&net, settings("a")).await;
    let (b, _, mut b_rx) = node(&net, settings("b")).await;
    b.subscribe("r").await.expect("subscribe");
    for i in 0..1000 {
        a.publish(message("r", i)); // no yield: all queued before the drain task runs
    }
    for i in 0..1000 {
        assert_eq!(seq(&next(&mut b_rx).await), i);
    }
    let sizes = a_driver.batch_sizes();
    assert_eq!(sizes.iter().sum::<usize>(), 1000);
    assert!(sizes.iter().all(|n| *n <= 64), "{sizes:?}");
    assert!(sizes.len() <= 1000 / 64 + 1, "{sizes:?}");
}

#[tokio::test]
async fn close_flushes_then_refuses() {
    let net = StubNet::default();
    let (a, a_driver, _a_rx) = node(&net, settings("a")).await;
    let (b, _, mut b_rx) = node(&net, settings("b")).await;
    b.subscribe("r").await.expect("subscribe");
    for i in 0..300 {
        a.publish(message("r", i));
    }
    a.close().await.expect("close");
    assert_eq!(a.stats().published, 300);
    for i in 0..300 {
        assert_eq!(seq(&next(&mut b_rx).await), i);
    }
    a.publish(message("r", 1));
    assert_eq!(a.stats().dropped, 1);
    assert!(matches!(a.subscribe("x").await, Err(Error::Closed)));
    assert!(matches!(a.ping().await, Err(Error::Closed)));
    a.unsubscribe("r")
        .await
        .expect("unsubscribe after close is a no-op");
    a.close().await.expect("close is idempotent");
    assert_eq!(
        a_driver.closed.load(Ordering::SeqCst),
        1,
        "driver closed once"
    );
}

#[tokio::test]
async fn dropping_the_bus_flushes_and_disconnects() {
    let net = StubNet::default();
    let (a, a_driver, _a_rx) = node(&net, settings("a")).await;
    let (b, _, mut b_rx) = node(&net, settings("b")).await;
    b.subscribe("r").await.expect("subscribe");
    a.publish(message("r", 1));
    drop(a);
    assert_eq!(seq(&next(&mut b_rx).await), 1);
    tokio::time::timeout(Duration::from_secs(5), async {
        while a_driver.closed.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("driver closed after drop");
}

#[tokio::test(flavor = "current_thread")]
async fn a_lagging_reader_counts_losses() {
    let net = StubNet::default();
    let (a, _, _a_rx) = node(&net, settings("a")).await;
    let driver = net.driver(16); // b's client buffers 16 messages only
    let b = Engine::new(driver, settings("b"));
    let (inbox, mut b_rx) = Inbox::new();
    b.start(inbox).await.expect("start");
    b.subscribe("r").await.expect("subscribe");
    for i in 0..100 {
        a.publish(message("r", i));
    }
    a.close().await.expect("close"); // batches of 64 land in b's 16-slot buffer at once
    // Every message is either delivered or counted lost: read until the two add up, so no
    // quiet period has to be guessed.
    let mut delivered = 0;
    tokio::time::timeout(Duration::from_secs(5), async {
        while b.stats().lagged + delivered < 100 {
            if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(5), b_rx.recv()).await {
                delivered += 1;
            }
        }
    })
    .await
    .expect("every message delivered or counted lost");
    assert!(b_rx.try_recv().is_err(), "nothing beyond the 100 sent");
    let stats = b.stats();
    assert!(stats.lagged > 0, "{stats:?}");
    assert_eq!(stats.lagged + delivered, 100, "{stats:?}");
    assert_eq!(stats.received, delivered);
}

#[tokio::test]
async fn start_twice_is_an_error() {
    let net = StubNet::default();
    let (a, _, _rx) = node(&net, settings("a")).await;
    let (inbox, _rx2) = Inbox::new();
    assert!(matches!(a.start(inbox).await, Err(Error::Config(_))));
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test]
async fn resubscribing_and_lagging_report_a_suspected_gap() {
    let net = StubNet::default();
    let (a, _, _a_rx) = node(&net, settings("a")).await;
    let driver = net.driver(16);
    let b = Engine::new(driver.clone(), settings("b"));
    let (gaps, _b_rx) = Inbox::new();
    b.start(gaps.clone()).await.expect("start");
    b.subscribe("r").await.expect("subscribe");

    driver.resubscribed();
    wait_until("a gap report after re-subscribing", || gaps.gaps() == 1).await;

    for i in 0..100 {
        a.publish(message("r", i));
    }
    a.close().await.expect("close"); // overflows b's 16-slot buffer
    wait_until("a gap report after lagging", || gaps.gaps() >= 2).await;
    let stats = b.stats();
    assert!(stats.lagged > 0, "{stats:?}");
    assert_eq!(stats.gaps_suspected, gaps.gaps(), "{stats:?}");
}

#[tokio::test]
async fn dropped_heads_are_announced_again_once_connected() {
    let net = StubNet::default();
    let (a, a_driver, _a_rx) = node(&net, settings("a")).await;
    let (b, _, mut b_rx) = node(&net, settings("b")).await;
    b.subscribe("r").await.expect("subscribe");
    b.subscribe("quiet").await.expect("subscribe");
    a_driver.connected.store(false, Ordering::SeqCst);
    for i in 1..=10 {
        a.publish(message("r", i));
    }
    a.publish(BusEvent::Head {
        room: "r".into(),
        seq: 7, // older than the newest dropped message: not what is announced
    });
    a.publish(BusEvent::Typing {
        room: "quiet".into(),
        user: "ann".into(),
        on: true, // ephemeral: never announced
    });
    wait_until("the batches to fail", || a.stats().dropped == 12).await;
    a_driver.connected.store(true, Ordering::SeqCst);
    let env = next(&mut b_rx).await;
    assert_eq!(env.origin, "a");
    assert_eq!(
        env.event,
        BusEvent::Head {
            room: "r".into(),
            seq: 10
        }
    );
    assert_eq!(a.stats().heads_reannounced, 1);
    // Announced once: nothing else follows.
    assert!(
        tokio::time::timeout(Duration::from_millis(600), b_rx.recv())
            .await
            .is_err()
    );
}
