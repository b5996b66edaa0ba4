//! Shared fixture of the integration tests: the Redis under test, node factories with a random
//! prefix per test, an inbox handler, and a private `redis-server` for restart tests.

#![allow(dead_code, unreachable_pub)] // each test file uses a part

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::bus::{Bus, BusEvent, BusHandler, Envelope};
use chatcore::protocol::{Message, MessageKind};
use chatcore::testing::{BusFactory, service_url};
use chatcore_bus_redis::{RedisBus, RedisBusConfig};
use tokio::sync::mpsc;

/// How long a delivery may take in a test (a bound against hangs, not a performance goal).
pub const DELIVERY: Duration = Duration::from_secs(10);

/// The Redis under test, or `None` (test skipped) when `CHATCORE_TEST_REDIS_URL` is unset.
pub fn redis_url() -> Option<String> {
    service_url("CHATCORE_TEST_REDIS_URL")
}

/// A prefix no other test uses, so tests sharing one Redis never see each other.
pub fn unique_prefix() -> String {
    format!("test-{}:", ulid::Ulid::generate())
}

/// Nodes on one Redis under one random prefix.
#[derive(Debug, Clone)]
pub struct RedisFactory {
    pub url: String,
    pub prefix: String,
    pub sharded: bool,
}

impl RedisFactory {
    pub fn new(url: String, sharded: bool) -> Self {
        Self {
            url,
            prefix: unique_prefix(),
            sharded,
        }
    }

    pub fn config(&self, node_id: &str) -> RedisBusConfig {
        RedisBusConfig::new(self.url.clone())
            .with_node_id(node_id)
            .expect("node id")
            .with_prefix(self.prefix.clone())
            .with_sharded(self.sharded)
            .with_reconnect_backoff(Duration::from_millis(50), Duration::from_millis(500))
            .expect("backoff")
    }

    pub async fn bus(&self, node_id: &str) -> RedisBus {
        RedisBus::connect(self.config(node_id))
            .await
            .expect("connect to the Redis under test")
    }

    /// A started node and what it receives.
    pub async fn started(&self, node_id: &str) -> (RedisBus, mpsc::UnboundedReceiver<Envelope>) {
        let (bus, _inbox, rx) = self.started_with_inbox(node_id).await;
        (bus, rx)
    }

    /// A started node, its handler (to read [`Inbox::gaps`]) and what it receives.
    pub async fn started_with_inbox(
        &self,
        node_id: &str,
    ) -> (RedisBus, Arc<Inbox>, mpsc::UnboundedReceiver<Envelope>) {
        let bus = self.bus(node_id).await;
        let (inbox, rx) = Inbox::new();
        bus.start(inbox.clone()).await.expect("start");
        (bus, inbox, rx)
    }
}

#[async_trait::async_trait]
impl BusFactory for RedisFactory {
    async fn node(&self, node_id: &str) -> Arc<dyn Bus> {
        Arc::new(self.bus(node_id).await)
    }
}

/// A handler that forwards every envelope to a channel and counts gap reports.
pub struct Inbox {
    tx: Mutex<mpsc::UnboundedSender<Envelope>>,
    gaps: AtomicU64,
}

impl Inbox {
    pub fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<Envelope>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let inbox = Self {
            tx: Mutex::new(tx),
            gaps: AtomicU64::new(0),
        };
        (Arc::new(inbox), rx)
    }

    /// How many times the bus called `on_gap_suspected`.
    pub fn gaps(&self) -> u64 {
        self.gaps.load(Ordering::SeqCst)
    }
}

impl BusHandler for Inbox {
    fn on_event(&self, envelope: Envelope) {
        let _ = self
            .tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(envelope);
    }

    fn on_gap_suspected(&self) {
        self.gaps.fetch_add(1, Ordering::SeqCst);
    }
}

pub async fn next(rx: &mut mpsc::UnboundedReceiver<Envelope>) -> Envelope {
    tokio::time::timeout(DELIVERY, rx.recv())
        .await
        .expect("an event within the delivery bound")
        .expect("bus still running")
}

pub fn message(room: &str, seq: u64) -> BusEvent {
    BusEvent::Message(Message {
        room: room.to_owned(),
        seq,
        id: format!("id-{seq}"),
        sender: "ann".into(),
        kind: MessageKind::Text,
        text: format!("message {seq}"),
        ts: 1,
        nonce: None,
        reply_to: None,
    })
}

pub fn seq_of(env: &Envelope) -> Option<u64> {
    match &env.event {
        BusEvent::Message(m) => Some(m.seq),
        _ => None,
    }
}

/// A `redis-server` of our own on a free loopback port, so a test can stop and restart it
/// without disturbing the shared one. Killed on drop.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<tokio::process::Child>,
}

impl PrivateRedis {
    /// Starts one, or `None` (skipped) when tests against real services are off or
    /// `redis-server` is not installed; with `CHATCORE_REQUIRE_SERVICES=1` a missing
    /// `redis-server` fails the test.
    pub async fn start() -> Option<Self> {
        redis_url()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { port, child: None };
        match redis.spawn() {
            Ok(()) => {}
            Err(e) if std::env::var("CHATCORE_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
                panic!("cannot run redis-server for the restart test: {e}")
            }
            Err(e) => {
                eprintln!("skipped: cannot run redis-server ({e})");
                return None;
            }
        }
        redis.wait_until_up().await;
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = tokio::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--dir", &std::env::temp_dir().to_string_lossy()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    async fn wait_until_up(&self) {
        let addr = ("127.0.0.1", self.port);
        tokio::time::timeout(DELIVERY, async {
            while tokio::net::TcpStream::connect(addr).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("redis-server listening");
    }

    /// Kills the server (like a crash) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port (empty: nothing was saved).
    pub async fn restart(&mut self) {
        self.spawn().expect("restart redis-server");
        self.wait_until_up().await;
    }
}
