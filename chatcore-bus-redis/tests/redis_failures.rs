//! The Redis bus against a real Redis that fails: Redis restarts on a private server
//! (including the gap report to the hub after re-subscribing), closing while Redis is down,
//! and silently dead connections behind a freezing proxy.
//! Set `CHATCORE_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`) to run them.

mod common;

use std::time::Duration;

use chatcore::bus::{Bus, BusEvent, Channel};
use chatcore_bus_redis::RedisBus;
use chatcore_testkit::PrivateRedis;
use chatcore_testkit::fixtures::{Inbox, bus_message as message, next_envelope as next, seq_of};
use common::{RedisFactory, redis_url, wait_for};

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
