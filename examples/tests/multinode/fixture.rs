//! The fixture every multi-node test shares: services, `chat-server` nodes, clients and
//! what they saw.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::protocol::Message;
use chatcore::testing::service_url;
use chatcore_client::{Client, ClientConfig, ClientEvent, Events, HistoryQuery, RestClient};
use chatcore_store_postgres::{PostgresConfig, PostgresStore};
use chatcore_testkit::{ChatServerProcess, try_get, unique_name};
use tokio::process::Command;
use tokio::time::Instant;

/// How long anything that should just work may take (a bound against hangs).
pub(crate) const PATIENCE: f64 = 20.0;

/// The documented bound for a dead node's users to leave presence: the core's roster
/// lease (7 s) plus its expiry sweep (250 ms); the promise is 10 s.
pub(crate) const PRESENCE_BOUND: Duration = Duration::from_millis(7_250);

/// What observing the leave may add to [`PRESENCE_BOUND`] on a busy machine: the notice
/// travelling to the client, and this test's 25 ms polling of `who`.
pub(crate) const OBSERVATION_SLACK: Duration = Duration::from_millis(500);

/// Polls `$cond` (which may `.await`) every 25 ms until it holds; panics after `$secs`.
macro_rules! wait_until {
    ($secs:expr, $what:expr, $cond:expr) => {{
        let deadline = Instant::now() + Duration::from_secs_f64($secs);
        loop {
            if $cond {
                break;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {} s waiting for {}", $secs, $what);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }};
}

// ---------------------------------------------------------------------------------
// Fixture: services, nodes, clients.
// ---------------------------------------------------------------------------------

/// One test's share of the services: its own schema and channel prefix.
pub(crate) struct Cluster {
    pub(crate) pg_url: String,
    pub(crate) schema: String,
    pub(crate) redis_url: String,
    pub(crate) prefix: String,
    pub(crate) nodes: Vec<Node>,
}

/// A `chat-server` process; killed when dropped.
pub(crate) struct Node {
    pub(crate) id: String,
    pub(crate) addr: SocketAddr,
    pub(crate) process: ChatServerProcess,
    /// Its stderr (the server's log), kept when the test fails.
    pub(crate) log: std::path::PathBuf,
}

impl Node {
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Cluster {
    /// The services, or `None` (skipped) when the environment does not name them.
    pub(crate) fn services() -> Option<(String, String)> {
        let redis = service_url("CHATCORE_TEST_REDIS_URL");
        let pg = service_url("CHATCORE_TEST_POSTGRES_URL");
        Some((redis?, pg?))
    }

    /// `nodes` servers on `redis_url` (the shared Redis unless the test has its own).
    pub(crate) async fn start(tag: &str, nodes: usize, redis_url: String, pg_url: String) -> Self {
        let schema = unique_name(&format!("mn_{tag}"));
        let mut cluster = Self {
            pg_url,
            prefix: format!("{schema}:"),
            schema,
            redis_url,
            nodes: Vec::new(),
        };
        for i in 1..=nodes {
            let node = cluster.spawn(&format!("n{i}")).await;
            cluster.nodes.push(node);
        }
        cluster
    }

    pub(crate) fn store_url(&self) -> String {
        let sep = if self.pg_url.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.pg_url, self.schema)
    }

    /// Starts a node and waits until `/ready` answers 200.
    pub(crate) async fn spawn(&self, id: &str) -> Node {
        let log_path =
            std::env::temp_dir().join(format!("chatcore-multinode-{}-{id}.log", self.schema));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_chat-server"));
        command
            .env_clear()
            .env("CHATCORE_LISTEN", "127.0.0.1:0")
            .env("CHATCORE_STORE", self.store_url())
            .env("CHATCORE_BUS", &self.redis_url)
            .env("CHATCORE_BUS_PREFIX", &self.prefix)
            .env("CHATCORE_NODE_ID", id)
            .env("CHATCORE_LOG", "info")
            // Every client here comes from 127.0.0.1 and some send far faster than a person:
            // these tests are about the fleet, not the per-user and per-IP limits (tested in
            // chatcore-transport-ws/tests/abuse.rs).
            .env("CHATCORE_USER_MESSAGE_RATE", "off")
            .env("CHATCORE_IP_MESSAGE_RATE", "off")
            .env("CHATCORE_USER_JOIN_RATE", "off")
            .env("CHATCORE_IP_JOIN_RATE", "off")
            .env("CHATCORE_ROOM_JOIN_RATE", "off")
            .env("RUST_BACKTRACE", "1")
            .stderr(log);
        let process = ChatServerProcess::spawn(command)
            .await
            .unwrap_or_else(|e| panic!("chat-server {id}: {e}; see {}", log_path.display()));
        let addr = process.addr;
        let node = Node {
            id: id.to_owned(),
            addr,
            process,
            log: log_path,
        };
        wait_until!(PATIENCE, format!("{id} to be ready"), ready(addr).await);
        node
    }

    pub(crate) fn node(&self, id: &str) -> &Node {
        self.nodes.iter().find(|n| n.id == id).expect("node")
    }

    /// Stops the nodes, drops the schema and removes the logs (the test passed).
    pub(crate) async fn finish(mut self) {
        for node in &mut self.nodes {
            node.process.kill().await;
            let _ = std::fs::remove_file(&node.log);
        }
        let config = PostgresConfig::new(self.pg_url.clone())
            .with_schema(self.schema.clone())
            .expect("schema name");
        if let Err(e) = PostgresStore::drop_schema(&config).await {
            eprintln!("could not drop schema {}: {e}", self.schema);
        }
    }
}

/// Whether `/ready` answers 200 (`false` while the node cannot be reached).
pub(crate) async fn ready(addr: SocketAddr) -> bool {
    try_get(addr, "/ready").await.is_ok_and(|r| r.status == 200)
}

/// Everything a client's event stream yielded, collected by a task.
#[derive(Clone, Default)]
pub(crate) struct Inbox(Arc<Mutex<Vec<ClientEvent>>>);

impl Inbox {
    pub(crate) fn collect(mut events: Events) -> Self {
        let inbox = Self::default();
        let sink = inbox.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                sink.lock().push(event);
            }
        });
        inbox
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ClientEvent>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn any(&self, pred: impl Fn(&ClientEvent) -> bool) -> bool {
        self.lock().iter().any(pred)
    }

    pub(crate) fn count(&self, pred: impl Fn(&ClientEvent) -> bool) -> usize {
        self.lock().iter().filter(|e| pred(e)).count()
    }

    /// Messages of `room`, in the order they were yielded.
    pub(crate) fn messages(&self, room: &str) -> Vec<Message> {
        self.lock()
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message(m) if m.room == room => Some(m.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A guest client of `url` that reconnects quickly, and its collected events.
pub(crate) async fn client(url: &str, user: &str) -> (Client, Inbox) {
    let config = ClientConfig::new(url)
        .expect("url")
        .with_guest(user)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(500))
        .expect("backoff");
    let (client, events) = Client::connect(config).await.expect("connect");
    (client, Inbox::collect(events))
}

pub(crate) fn user_joined(room: &str, user: &str) -> impl Fn(&ClientEvent) -> bool {
    let (room, user) = (room.to_owned(), user.to_owned());
    move |e| matches!(e, ClientEvent::UserJoined { room: r, user: u } if *r == room && *u == user)
}

pub(crate) fn user_left(room: &str, user: &str) -> impl Fn(&ClientEvent) -> bool {
    let (room, user) = (room.to_owned(), user.to_owned());
    move |e| matches!(e, ClientEvent::UserLeft { room: r, user: u } if *r == room && *u == user)
}

/// The whole history of `room` from a node's REST API, oldest first.
pub(crate) async fn rest_history(node: &Node, room: &str) -> Vec<Message> {
    let rest = RestClient::new(&node.url()).expect("rest client");
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |m: &Message| m.seq);
        let page = rest
            .history(room, HistoryQuery::after(after).with_limit(100))
            .await
            .expect("history");
        all.extend(page.messages);
        if !page.has_more {
            return all;
        }
    }
}

/// Waits (up to [`PATIENCE`]) until `done`; the assertion after it says what is wrong.
pub(crate) async fn settle(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs_f64(PATIENCE);
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `(seq, id)` of messages, for comparing what different parties saw.
pub(crate) fn ids(messages: &[Message]) -> Vec<(u64, String)> {
    messages.iter().map(|m| (m.seq, m.id.clone())).collect()
}

/// Asserts `seen` is exactly `expected` (sorted by seq): every one once, in order.
pub(crate) fn assert_exactly_once_in_order(
    who: &str,
    seen: &[Message],
    expected: &BTreeMap<u64, String>,
) {
    let seen = ids(seen);
    let want: Vec<(u64, String)> = expected.iter().map(|(s, i)| (*s, i.clone())).collect();
    if seen != want {
        let dupes = seen.len() - seen.iter().collect::<HashSet<_>>().len();
        let missing: Vec<u64> = expected
            .keys()
            .filter(|s| !seen.iter().any(|(x, _)| x == *s))
            .copied()
            .collect();
        let first = seen.iter().zip(&want).position(|(a, b)| a != b);
        let seqs: Vec<u64> = seen.iter().map(|(s, _)| *s).collect();
        panic!(
            "{who}: {} messages seen, {} expected; {dupes} duplicates; missing seqs \
             {missing:?}; first difference at index {first:?}; seen seqs {seqs:?}",
            seen.len(),
            want.len()
        );
    }
}

/// The value of an unlabelled metric in a Prometheus text body (0 when absent).
pub(crate) fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}
