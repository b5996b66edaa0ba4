//! The Redis bus against a real Redis: what the contract suite cannot see (counters, garbage
//! on a channel, connection errors) and Redis restarts on a private server, including the
//! gap report to the hub after re-subscribing.
//! Set `CHATCORE_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`) to run them.

mod common;

use std::time::Duration;

use chatcore::bus::{Bus, BusEvent, Channel};
use chatcore_bus_redis::{Error, RedisBus, RedisBusConfig};
use chatcore_testkit::PrivateRedis;
use chatcore_testkit::fixtures::{Inbox, bus_message as message, next_envelope as next, seq_of};
use common::{RedisFactory, redis_url};
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
    // Each node's own echoes arrive on its own connection, independently of the other's.
    wait_for("both nodes to count their own echoes", || async {
        a.stats().own == 3 && b.stats().own == 1
    })
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

/// An event on `channel`: a message numbered `seq`, or an invite for a user named after it.
fn probe(channel: Channel<'_>, seq: u64) -> BusEvent {
    match channel {
        Channel::Room(room) => message(room, seq),
        Channel::AllNodes => BusEvent::Invite {
            user: format!("user{seq}"),
            room: format!("dm:ann:user{seq}"),
        },
    }
}

/// Stops the private Redis, checks the bus degrades without blocking, restarts it and
/// checks that ping recovers, that the hub is told to repair gaps once the rooms are
/// subscribed again, that the dropped messages' head is published again, and that delivery
/// resumes, also for a room subscribed during the outage and for node-wide events.
async fn survives_restart(sharded: bool) {
    let Some(mut redis) = PrivateRedis::start_or_skip().await else {
        return;
    };
    let f = RedisFactory::new(redis.url(), sharded);
    let (a, a_inbox, _a_rx) = f.started_with_inbox("a").await;
    let (b, b_inbox, mut b_rx) = f.started_with_inbox("b").await;
    b.subscribe("r").await.expect("subscribe");
    a.publish(message("r", 1));
    assert_eq!(seq_of(&next(&mut b_rx).await), Some(1));
    assert_eq!(
        (a_inbox.gaps(), b_inbox.gaps()),
        (0, 0),
        "no gap reported while healthy"
    );

    redis.stop().await;
    wait_for("ping to fail and the state to show it", || async {
        a.ping().await.is_err() && b.ping().await.is_err() && !a.stats().connected
    })
    .await;
    let before = a.stats().dropped;
    for i in 0..100_000 {
        a.publish(message("r", 100 + i)); // never blocks
    }
    let queued = a.stats().queued;
    assert!(queued <= 65_536, "queue stays bounded: {queued}");
    b.subscribe("late")
        .await
        .expect("subscribing while down is recorded");
    wait_for("dropping while down", || async {
        a.stats().dropped >= before + 100_000 - 65_536
    })
    .await;

    redis.restart().await.expect("restart redis-server");
    wait_for("ping to recover", || async {
        a.ping().await.is_ok() && b.ping().await.is_ok()
    })
    .await;
    // b re-subscribed and told its hub to check the store; a (no rooms, only the node-wide
    // channel) reported too.
    wait_for("gap reports after re-subscribing", || async {
        b_inbox.gaps() >= 1 && a_inbox.gaps() >= 1
    })
    .await;
    assert!(b.stats().gaps_suspected >= 1, "{:?}", b.stats());
    // a announces the newest seq it could not publish again, without any new message (b
    // may or may not hear it: if it re-subscribed later, its own store check covers it).
    wait_for("the lost head announced again", || async {
        a.stats().heads_reannounced >= 1
    })
    .await;

    // Delivery resumes once b has re-subscribed, on the node-wide channel too: publish until
    // something arrives.
    for channel in [Channel::Room("r"), Channel::Room("late"), Channel::AllNodes] {
        let mut seq = 1_000_000;
        let env = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                seq += 1;
                a.publish(probe(channel, seq));
                if let Ok(Some(env)) =
                    tokio::time::timeout(Duration::from_millis(100), b_rx.recv()).await
                {
                    if env.event.channel() == channel {
                        return env;
                    }
                }
            }
        })
        .await
        .expect("delivery resumes after the restart");
        assert_eq!(env.origin, "a");
    }
    let (sa, sb) = (a.stats(), b.stats());
    assert!(sa.reconnects >= 2 && sb.reconnects >= 2, "{sa:?} {sb:?}");
    assert!(sa.connected && sb.connected);
    a.close().await.expect("close");
    b.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_redis_restart() {
    survives_restart(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_redis_restart_sharded() {
    survives_restart(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_while_redis_is_down_returns() {
    let Some(mut redis) = PrivateRedis::start_or_skip().await else {
        return;
    };
    let f = RedisFactory::new(redis.url(), false);
    let (a, _a_rx) = f.started("a").await;
    redis.stop().await;
    wait_for("ping to fail", || async { a.ping().await.is_err() }).await;
    a.publish(message("r", 1));
    tokio::time::timeout(Duration::from_secs(15), a.close())
        .await
        .expect("close returns while Redis is down")
        .expect("close");
}

/// A TCP proxy to a Redis that can freeze its open connections: they stay open and silent,
/// as in a network partition, while new connections work.
struct FreezingProxy {
    addr: std::net::SocketAddr,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl FreezingProxy {
    async fn start(target: std::net::SocketAddr) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let generation = std::sync::Arc::new(AtomicU64::new(0));
        let gen_ = std::sync::Arc::clone(&generation);
        tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let Ok(up) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let mine = gen_.load(Ordering::SeqCst);
                let (down_r, down_w) = down.into_split();
                let (up_r, up_w) = up.into_split();
                tokio::spawn(pump(down_r, up_w, std::sync::Arc::clone(&gen_), mine));
                tokio::spawn(pump(up_r, down_w, std::sync::Arc::clone(&gen_), mine));
            }
        });
        Self { addr, generation }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// From now on, connections opened so far forward nothing (and never close).
    fn freeze(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    mine: u64,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if generation.load(std::sync::atomic::Ordering::SeqCst) != mine {
            // Frozen: keep both sockets open and silent.
            let _keep = (from, to);
            std::future::pending::<()>().await;
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Connections that die silently (no close, no reset: a partition) are detected by the
/// liveness pings, replaced, re-subscribed, and the hub is told to repair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silently_dead_connections_are_replaced() {
    let Some(url) = redis_url() else { return };
    let target = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .and_then(|hostport| {
            std::net::ToSocketAddrs::to_socket_addrs(hostport)
                .ok()
                .and_then(|mut a| a.next())
        })
        .expect("CHATCORE_TEST_REDIS_URL as redis://HOST:PORT");
    let proxy = FreezingProxy::start(target).await;
    let f = RedisFactory::new(proxy.url(), false);
    let config = |node: &str| {
        f.config(node)
            .with_command_timeout(Duration::from_millis(500))
            .expect("timeout")
    };
    let a = RedisBus::connect(config("a")).await.expect("connect");
    let b = RedisBus::connect(config("b")).await.expect("connect");
    let (inbox, mut b_rx) = Inbox::new();
    b.start(inbox.clone()).await.expect("start");
    b.subscribe("r").await.expect("subscribe");
    a.publish(message("r", 1));
    assert_eq!(seq_of(&next(&mut b_rx).await), Some(1));

    proxy.freeze();
    wait_for(
        "the frozen connections to be replaced and the hub told",
        || async { inbox.gaps() >= 1 },
    )
    .await;
    let mut seq = 1;
    let env = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            seq += 1;
            a.publish(message("r", seq));
            if let Ok(Some(env)) =
                tokio::time::timeout(Duration::from_millis(100), b_rx.recv()).await
            {
                return env;
            }
        }
    })
    .await
    .expect("delivery resumes on new connections");
    assert_eq!(env.origin, "a");
    assert!(
        b.stats().reconnects >= 1 && a.stats().reconnects >= 1,
        "{:?} {:?}",
        a.stats(),
        b.stats()
    );
    a.close().await.expect("close");
    b.close().await.expect("close");
}

/// Polls `done` every 20 ms, failing after 30 s.
async fn wait_for<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while !done().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}
