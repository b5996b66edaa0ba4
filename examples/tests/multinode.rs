//! Several real `chat-server` processes on one PostgreSQL and one Redis, talked to by
//! `chatcore-client` clients: chat, DMs, presence and typing across nodes; one order and
//! exactly-once delivery under concurrent senders on every node; a Redis restart while
//! messages flow; a node killed with SIGKILL.
//!
//! Needs `CHATCORE_TEST_REDIS_URL` and `CHATCORE_TEST_POSTGRES_URL` (skipped without them,
//! failing with `CHATCORE_REQUIRE_SERVICES=1`), and the `postgres` and `redis` features, which
//! `scripts/test.sh` turns on. Each test has its own PostgreSQL schema and Redis channel
//! prefix; the Redis restart test runs a `redis-server` of its own. Server logs go to
//! `$TMPDIR/chatcore-multinode-*.log` and are removed when the test passes.

#[cfg(not(all(feature = "postgres", feature = "redis")))]
#[test]
fn multinode_tests_need_the_postgres_and_redis_features() {
    let why = "the multi-node tests need `--features postgres,redis` (scripts/test.sh turns \
               them on)";
    if std::env::var("CHATCORE_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("{why}, but CHATCORE_REQUIRE_SERVICES=1");
    }
    eprintln!("skipped: {why}");
}

#[cfg(all(feature = "postgres", feature = "redis"))]
mod multinode {
    use std::collections::{BTreeMap, HashSet};
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chatcore::protocol::Codec;
    use chatcore::protocol::Message;
    use chatcore::testing::service_url;
    use chatcore_client::{
        Client, ClientConfig, ClientEvent, ConnectionState, Events, HistoryQuery, RestClient,
    };
    use chatcore_store_postgres::{PostgresConfig, PostgresStore};
    use chatcore_testkit::{
        ChatServerProcess, HttpResponse, PrivateRedis, Probe, get, open, try_get, unique_name,
    };
    use tokio::net::{TcpListener, TcpStream};
    use tokio::process::Command;
    use tokio::time::Instant;

    /// How long anything that should just work may take (a bound against hangs).
    const PATIENCE: f64 = 20.0;

    /// The documented bound for a dead node's users to leave presence: the core's roster
    /// lease (7 s) plus its expiry sweep (250 ms); the promise is 10 s.
    const PRESENCE_BOUND: Duration = Duration::from_millis(7_250);

    /// What observing the leave may add to [`PRESENCE_BOUND`] on a busy machine: the notice
    /// travelling to the client, and this test's 25 ms polling of `who`.
    const OBSERVATION_SLACK: Duration = Duration::from_millis(500);

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
    struct Cluster {
        pg_url: String,
        schema: String,
        redis_url: String,
        prefix: String,
        nodes: Vec<Node>,
    }

    /// A `chat-server` process; killed when dropped.
    struct Node {
        id: String,
        addr: SocketAddr,
        process: ChatServerProcess,
        /// Its stderr (the server's log), kept when the test fails.
        log: std::path::PathBuf,
    }

    impl Node {
        fn url(&self) -> String {
            format!("http://{}", self.addr)
        }
    }

    impl Cluster {
        /// The services, or `None` (skipped) when the environment does not name them.
        fn services() -> Option<(String, String)> {
            let redis = service_url("CHATCORE_TEST_REDIS_URL");
            let pg = service_url("CHATCORE_TEST_POSTGRES_URL");
            Some((redis?, pg?))
        }

        /// `nodes` servers on `redis_url` (the shared Redis unless the test has its own).
        async fn start(tag: &str, nodes: usize, redis_url: String, pg_url: String) -> Self {
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

        fn store_url(&self) -> String {
            let sep = if self.pg_url.contains('?') { '&' } else { '?' };
            format!("{}{sep}schema={}", self.pg_url, self.schema)
        }

        /// Starts a node and waits until `/ready` answers 200.
        async fn spawn(&self, id: &str) -> Node {
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

        fn node(&self, id: &str) -> &Node {
            self.nodes.iter().find(|n| n.id == id).expect("node")
        }

        /// Stops the nodes, drops the schema and removes the logs (the test passed).
        async fn finish(mut self) {
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
    async fn ready(addr: SocketAddr) -> bool {
        try_get(addr, "/ready").await.is_ok_and(|r| r.status == 200)
    }

    /// Everything a client's event stream yielded, collected by a task.
    #[derive(Clone, Default)]
    struct Inbox(Arc<Mutex<Vec<ClientEvent>>>);

    impl Inbox {
        fn collect(mut events: Events) -> Self {
            let inbox = Self::default();
            let sink = inbox.clone();
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    sink.lock().push(event);
                }
            });
            inbox
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ClientEvent>> {
            self.0.lock().unwrap_or_else(|p| p.into_inner())
        }

        fn any(&self, pred: impl Fn(&ClientEvent) -> bool) -> bool {
            self.lock().iter().any(pred)
        }

        fn count(&self, pred: impl Fn(&ClientEvent) -> bool) -> usize {
            self.lock().iter().filter(|e| pred(e)).count()
        }

        /// Messages of `room`, in the order they were yielded.
        fn messages(&self, room: &str) -> Vec<Message> {
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
    async fn client(url: &str, user: &str) -> (Client, Inbox) {
        let config = ClientConfig::new(url)
            .expect("url")
            .with_guest(user)
            .with_backoff(Duration::from_millis(50), Duration::from_millis(500))
            .expect("backoff");
        let (client, events) = Client::connect(config).await.expect("connect");
        (client, Inbox::collect(events))
    }

    fn user_joined(room: &str, user: &str) -> impl Fn(&ClientEvent) -> bool {
        let (room, user) = (room.to_owned(), user.to_owned());
        move |e| matches!(e, ClientEvent::UserJoined { room: r, user: u } if *r == room && *u == user)
    }

    fn user_left(room: &str, user: &str) -> impl Fn(&ClientEvent) -> bool {
        let (room, user) = (room.to_owned(), user.to_owned());
        move |e| matches!(e, ClientEvent::UserLeft { room: r, user: u } if *r == room && *u == user)
    }

    /// The whole history of `room` from a node's REST API, oldest first.
    async fn rest_history(node: &Node, room: &str) -> Vec<Message> {
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
    async fn settle(done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs_f64(PATIENCE);
        while !done() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// `(seq, id)` of messages, for comparing what different parties saw.
    fn ids(messages: &[Message]) -> Vec<(u64, String)> {
        messages.iter().map(|m| (m.seq, m.id.clone())).collect()
    }

    /// Asserts `seen` is exactly `expected` (sorted by seq): every one once, in order.
    fn assert_exactly_once_in_order(who: &str, seen: &[Message], expected: &BTreeMap<u64, String>) {
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

    // ---------------------------------------------------------------------------------
    // Tests.
    // ---------------------------------------------------------------------------------

    /// Clients of two nodes chat in a room and in a DM, see each other's presence and
    /// typing, and read the same history from either node.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn chat_dm_presence_typing_and_history_across_nodes() {
        let Some((redis, pg)) = Cluster::services() else {
            return;
        };
        let cluster = Cluster::start("chat", 2, redis, pg).await;
        let (n1, n2) = (cluster.node("n1"), cluster.node("n2"));
        let (ann, ann_in) = client(&n1.url(), "ann").await;
        let (bob, bob_in) = client(&n2.url(), "bob").await;

        ann.join("lobby").await.expect("join");
        bob.join("lobby").await.expect("join");
        // Presence: each sees the other online (bob's node learns of ann from her node's
        // roster within its 3 s period, ann's from bob's join).
        wait_until!(PATIENCE, "ann to see bob online", {
            ann.who("lobby")
                .await
                .expect("who")
                .contains(&"bob".to_owned())
        });
        wait_until!(PATIENCE, "bob to see ann online", {
            bob.who("lobby").await.expect("who") == ["ann", "bob"]
        });
        assert!(
            ann_in.any(user_joined("lobby", "bob")),
            "ann got bob's join notice"
        );

        // Chat both ways.
        let hi = ann.send("lobby", "hi bob").await.expect("send");
        let yo = bob.send("lobby", "yo ann").await.expect("send");
        assert_eq!((hi.seq, yo.seq), (1, 2));
        for (who, inbox) in [("ann", &ann_in), ("bob", &bob_in)] {
            wait_until!(PATIENCE, format!("{who} to have both messages"), {
                inbox.messages("lobby").len() == 2
            });
            let texts: Vec<String> = inbox
                .messages("lobby")
                .into_iter()
                .map(|m| m.text)
                .collect();
            assert_eq!(texts, ["hi bob", "yo ann"], "{who}");
        }

        // Typing crosses nodes.
        ann.typing("lobby", true).expect("typing");
        wait_until!(PATIENCE, "bob to see ann typing", {
            bob_in.any(|e| {
                matches!(e, ClientEvent::Typing { room, user, on: true } if room == "lobby" && user == "ann")
            })
        });

        // A DM from ann (n1) to bob (n2): n1 invites over the bus and n2 joins bob's session
        // to the conversation by itself, first message included; then both directions are
        // live.
        let first = ann.dm("bob", "psst").await.expect("dm");
        let dm_room = first.room.clone();
        wait_until!(PATIENCE, "bob, on another node, to be joined to the DM", {
            bob_in.any(|e| {
                matches!(e, ClientEvent::Joined(j)
                    if j.room == dm_room && j.history.iter().any(|m| m.text == "psst"))
            }) || bob_in.messages(&dm_room).iter().any(|m| m.text == "psst")
        });
        let second = ann.dm("bob", "still there?").await.expect("dm");
        let reply = bob.dm("ann", "yes").await.expect("dm");
        assert_eq!(
            (second.room.as_str(), reply.room.as_str()),
            (dm_room.as_str(), dm_room.as_str())
        );
        wait_until!(PATIENCE, "bob to get the live DM", {
            bob_in
                .messages(&dm_room)
                .iter()
                .any(|m| m.text == "still there?")
        });
        wait_until!(PATIENCE, "ann to get bob's reply", {
            ann_in.messages(&dm_room).iter().any(|m| m.text == "yes")
        });
        let ann_dm: Vec<String> = ann_in
            .messages(&dm_room)
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(ann_dm, ["psst", "still there?", "yes"]);

        // History is the same from either node, over REST and over the socket.
        let h1 = rest_history(n1, "lobby").await;
        let h2 = rest_history(n2, "lobby").await;
        assert_eq!(ids(&h1), ids(&h2));
        assert_eq!(ids(&h1), ids(&bob_in.messages("lobby")));
        let page = bob
            .history(dm_room.clone(), HistoryQuery::latest())
            .await
            .expect("history");
        let via_ann = ann
            .history(dm_room, HistoryQuery::latest())
            .await
            .expect("history");
        assert_eq!(ids(&page.messages), ids(&via_ann.messages));
        assert_eq!(page.messages.len(), 3);

        // Leaving is seen across nodes.
        bob.leave("lobby").await.expect("leave");
        wait_until!(
            PATIENCE,
            "ann to see bob leave",
            ann_in.any(user_left("lobby", "bob"))
        );
        // The bus metrics are exported.
        let HttpResponse {
            status,
            body: metrics,
            ..
        } = get(n1.addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            metrics.contains("chatcore_redis_published_total"),
            "{metrics}"
        );
        assert!(metrics.contains("chatcore_redis_connected 1"), "{metrics}");
        cluster.finish().await;
    }

    /// Two senders on each of three nodes send at once: every client sees every message
    /// exactly once, in one order (seq), the same order the store holds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_senders_on_every_node_see_one_order() {
        let Some((redis, pg)) = Cluster::services() else {
            return;
        };
        const PER_SENDER: usize = 40;
        let cluster = Cluster::start("order", 3, redis, pg).await;
        let mut clients = Vec::new();
        for (i, node) in cluster.nodes.iter().enumerate() {
            for j in 0..2 {
                let user = format!("u{i}{j}");
                let (c, inbox) = client(&node.url(), &user).await;
                c.join("busy").await.expect("join");
                clients.push((user, c, inbox));
            }
        }
        let senders: Vec<_> = clients
            .iter()
            .map(|(user, c, _)| {
                let (user, c) = (user.clone(), c.clone());
                tokio::spawn(async move {
                    let mut acks = Vec::new();
                    for k in 0..PER_SENDER {
                        let ack = c.send("busy", format!("{user} #{k}")).await.expect("send");
                        acks.push((ack.seq, ack.msg_id));
                    }
                    acks
                })
            })
            .collect();
        let mut expected = BTreeMap::new();
        for sender in senders {
            for (seq, id) in sender.await.expect("sender") {
                assert!(expected.insert(seq, id).is_none(), "seq {seq} acked twice");
            }
        }
        let total = PER_SENDER * clients.len();
        assert_eq!(expected.len(), total);
        assert_eq!(
            expected.keys().copied().collect::<Vec<_>>(),
            (1..=total as u64).collect::<Vec<_>>()
        );
        for (user, _, inbox) in &clients {
            settle(|| inbox.messages("busy").len() >= total).await;
            assert_exactly_once_in_order(user, &inbox.messages("busy"), &expected);
        }
        let stored = rest_history(cluster.node("n3"), "busy").await;
        assert_eq!(ids(&stored), expected.into_iter().collect::<Vec<_>>());
        cluster.finish().await;
    }

    /// Messages flow from both nodes while Redis is killed and restarted: sends go on being
    /// acked while it is down, and afterwards every client has every acknowledged message
    /// exactly once, in order; two of them read raw WebSocket frames, so nothing on the
    /// client side can hide a duplicate or a gap. Meanwhile `/ready` says the bus is down,
    /// and the metrics show the reconnect, the suspected gap and the repair.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_restart_while_messages_flow_loses_nothing() {
        let Some((_, pg)) = Cluster::services() else {
            return;
        };
        let mut redis = PrivateRedis::start().await.expect("a private redis-server");
        let cluster = Cluster::start("restart", 2, redis.url(), pg).await;
        let (n1, n2) = (cluster.node("n1"), cluster.node("n2"));
        // Senders on chatcore-client; receivers on raw WebSocket frames, so no client-side
        // de-duplication or gap filling can hide what the server sent.
        let mut clients = Vec::new();
        for (node, user) in [(n1, "ann"), (n2, "bob")] {
            let (c, inbox) = client(&node.url(), user).await;
            c.join("flow").await.expect("join");
            clients.push((user, c, inbox));
        }
        let mut receivers = Vec::new();
        for (node, user) in [(n1, "amy"), (n2, "ben")] {
            let url = format!("ws://{}/ws?user={user}", node.addr);
            let ws = open(&url, None, &[]).await.expect("websocket");
            let mut probe = Probe::from_ws(ws, Codec::Json).await;
            probe.join("flow").await;
            receivers.push((user, probe));
        }
        // ann (n1) and bob (n2) send every 20 ms until told to stop, noting when each ack came.
        let stop = Arc::new(tokio::sync::Notify::new());
        let senders: Vec<_> = clients
            .iter()
            .map(|(user, c, _)| {
                let (user, c) = (*user, c.clone());
                let stop = Arc::clone(&stop);
                tokio::spawn(async move {
                    let mut acks = Vec::new();
                    let stopped = stop.notified();
                    tokio::pin!(stopped);
                    for k in 0.. {
                        tokio::select! {
                            () = &mut stopped => break,
                            () = tokio::time::sleep(Duration::from_millis(20)) => {}
                        }
                        let ack = c.send("flow", format!("{user} #{k}")).await.expect("send");
                        acks.push((ack.seq, ack.msg_id, Instant::now()));
                    }
                    acks
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;

        redis.stop().await;
        let down = Instant::now();
        wait_until!(PATIENCE, "/ready to report the bus down", {
            try_get(n1.addr, "/ready")
                .await
                .is_ok_and(|r| r.status == 503 && r.body.contains("bus"))
        });
        tokio::time::sleep(Duration::from_millis(500)).await; // messages flow without Redis
        let up = Instant::now();
        redis.restart().await.expect("restart redis-server");
        wait_until!(PATIENCE, "both nodes ready again", {
            ready(n1.addr).await && ready(n2.addr).await
        });
        tokio::time::sleep(Duration::from_millis(300)).await; // and with Redis again
        stop.notify_waiters();

        let mut expected = BTreeMap::new();
        for (sender, (user, _, _)) in senders.into_iter().zip(&clients) {
            let acks = sender.await.expect("sender");
            // The store, not the bus, acknowledges: sends go on being acked while Redis is down.
            let during = acks
                .iter()
                .filter(|(_, _, at)| (down..up).contains(at))
                .count();
            assert!(during > 0, "{user}: no ack while Redis was down");
            for (seq, id, _) in acks {
                expected.insert(seq, id);
            }
        }
        let total = expected.len();
        assert!(total > 20, "messages flowed: {total}");
        assert_eq!(
            expected.keys().copied().collect::<Vec<_>>(),
            (1..=total as u64).collect::<Vec<_>>()
        );
        // Every raw frame: each message once, in order, and nothing after the last (a ping
        // round trip); the server never closed these connections.
        for (user, probe) in &mut receivers {
            let seen = probe.messages("flow", total).await;
            assert_exactly_once_in_order(user, &seen, &expected);
        }
        for (user, _, inbox) in &clients {
            settle(|| inbox.messages("flow").len() >= total).await;
            assert_exactly_once_in_order(user, &inbox.messages("flow"), &expected);
        }
        // Each node lost the other's messages on the bus while it was down and learned of
        // it: the Redis client reconnected and suspected a gap, and whatever one node's bus
        // dropped the other read from the store.
        let mut dropped = Vec::new();
        let mut repaired = Vec::new();
        for node in [n1, n2] {
            let metrics = get(node.addr, "/metrics").await.body;
            let value = |name: &str| metric(&metrics, name);
            println!(
                "{}: reconnects {}, gaps suspected {}, dropped {}, gaps repaired {}, heads \
                 re-announced {}",
                node.id,
                value("chatcore_redis_reconnects_total"),
                value("chatcore_redis_gaps_suspected_total"),
                value("chatcore_redis_dropped_total"),
                value("chatcore_gaps_repaired_total"),
                value("chatcore_redis_heads_reannounced_total"),
            );
            assert!(
                value("chatcore_redis_reconnects_total") >= 1.0,
                "{}",
                node.id
            );
            assert!(
                value("chatcore_redis_gaps_suspected_total") >= 1.0,
                "{}",
                node.id
            );
            dropped.push(value("chatcore_redis_dropped_total"));
            repaired.push(value("chatcore_gaps_repaired_total"));
        }
        for (i, j) in [(0, 1), (1, 0)] {
            if dropped[i] > 0.0 {
                assert!(
                    repaired[j] > 0.0,
                    "node {} dropped {} events, node {} repaired nothing",
                    i + 1,
                    dropped[i],
                    j + 1
                );
            }
        }
        cluster.finish().await;
        redis.stop().await;
    }

    /// The value of an unlabelled metric in a Prometheus text body (0 when absent).
    fn metric(body: &str, name: &str) -> f64 {
        body.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// A load balancer in miniature: each connection goes to the first backend that accepts
    /// it, so when a node dies its clients reconnect to the next one.
    async fn failover_proxy(backends: Vec<SocketAddr>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let backends = backends.clone();
                tokio::spawn(async move {
                    for backend in backends {
                        if let Ok(mut up) = TcpStream::connect(backend).await {
                            let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// SIGKILL one of three nodes: its users leave presence on the others within the bound,
    /// with leave notices; a client that was on it reconnects (through the proxy) to another
    /// node and resumes without gap or duplicate while others keep sending.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn killed_node_users_leave_and_clients_resume_on_another_node() {
        let Some((redis, pg)) = Cluster::services() else {
            return;
        };
        let mut cluster = Cluster::start("kill", 3, redis, pg).await;
        let [n1, n2, n3] = ["n1", "n2", "n3"].map(|id| cluster.node(id).addr);
        let proxy = failover_proxy(vec![n3, n1]).await;
        let (ann, ann_in) = client(&format!("http://{n1}"), "ann").await;
        let (bob, bob_in) = client(&format!("http://{n2}"), "bob").await;
        let (carol, _carol_in) = client(&format!("http://{n3}"), "carol").await; // gone with n3
        let (dave, dave_in) = client(&format!("http://{proxy}"), "dave").await; // n3, then n1
        for c in [&ann, &bob, &carol, &dave] {
            c.join("room").await.expect("join");
        }
        for (who, c) in [("ann", &ann), ("bob", &bob)] {
            wait_until!(PATIENCE, format!("{who} to see all four online"), {
                c.who("room").await.expect("who") == ["ann", "bob", "carol", "dave"]
            });
        }
        let mut expected = BTreeMap::new();
        for k in 0..5 {
            let ack = ann
                .send("room", format!("before #{k}"))
                .await
                .expect("send");
            expected.insert(ack.seq, ack.msg_id);
        }
        wait_until!(
            PATIENCE,
            "dave to have the first messages",
            dave_in.messages("room").len() == 5
        );

        // Kill n3 while bob keeps sending.
        let victim = cluster.nodes.iter_mut().find(|n| n.id == "n3").expect("n3");
        let killed = Instant::now();
        victim.process.kill().await;
        let sender = {
            let bob = bob.clone();
            tokio::spawn(async move {
                let mut acks = Vec::new();
                for k in 0..30 {
                    let ack = bob
                        .send("room", format!("during #{k}"))
                        .await
                        .expect("send");
                    acks.push((ack.seq, ack.msg_id));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                acks
            })
        };

        // carol is gone from presence on n1 and n2 within the bound, with a leave notice.
        // (dave is back, through n1, long before.)
        let bound = (PRESENCE_BOUND + OBSERVATION_SLACK).as_secs_f64();
        for (who, c, inbox) in [("ann", &ann, &ann_in), ("bob", &bob, &bob_in)] {
            wait_until!(
                bound - killed.elapsed().as_secs_f64().min(bound),
                format!("{who} to see carol leave"),
                {
                    let online = c.who("room").await.expect("who");
                    !online.contains(&"carol".to_owned()) && inbox.any(user_left("room", "carol"))
                }
            );
        }
        let took = killed.elapsed();
        assert!(
            took <= PRESENCE_BOUND + OBSERVATION_SLACK,
            "presence took {took:?}"
        );
        println!("carol left presence {took:?} after the kill");

        for (seq, id) in sender.await.expect("sender") {
            expected.insert(seq, id);
        }
        let after = ann.send("room", "after").await.expect("send");
        expected.insert(after.seq, after.msg_id);
        let total = expected.len();
        assert_eq!(total, 36);
        wait_until!(
            PATIENCE,
            "dave to resume",
            matches!(dave.state(), ConnectionState::Connected(_))
        );
        for (who, inbox) in [("ann", &ann_in), ("bob", &bob_in), ("dave", &dave_in)] {
            settle(|| inbox.messages("room").len() >= total).await;
            assert_exactly_once_in_order(who, &inbox.messages("room"), &expected);
        }
        assert!(
            dave_in.count(|e| matches!(e, ClientEvent::State(ConnectionState::Connected(_)))) >= 1,
            "dave reconnected"
        );
        assert!(
            ann.who("room")
                .await
                .expect("who")
                .contains(&"dave".to_owned())
        );
        cluster.finish().await;
    }

    // ---------------------------------------------------------------------------------
    // Redis outages under load (issue 17): raw receivers, no de-duplicating client.
    // ---------------------------------------------------------------------------------

    /// What a raw WebSocket receiver saw: every message with the moment it arrived, and how
    /// the connection ended if the server ended it.
    #[derive(Default)]
    struct Seen {
        messages: Vec<(Message, Instant)>,
        ended: Option<String>,
    }

    /// A receiver that reads raw frames (no client library that could hide a duplicate or a
    /// gap) from `addr`, joined to `room`, until `stop` is set.
    async fn raw_receiver(
        addr: SocketAddr,
        user: String,
        room: &'static str,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<Seen> {
        use chatcore::protocol::{Codec, Command, Event, Request};
        use futures::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message as Ws;

        let url = format!("ws://{addr}/ws?user={user}");
        let mut ws = chatcore_testkit::open(&url, None, &[]).await.expect("ws");
        let join = Request::new(
            1,
            Command::Join {
                room: room.into(),
                resume_after: None,
            },
        );
        let json = String::from_utf8(Codec::Json.encode(&join)).expect("utf-8");
        ws.send(Ws::text(json)).await.expect("join");
        let decode = |t: &str| Codec::Json.decode_event(t.as_bytes()).expect("event");
        // Welcome, then joined (before any message: the room is new).
        loop {
            let Some(Ok(Ws::Text(t))) = ws.next().await else {
                panic!("{user}: no joined")
            };
            if let Event::Joined { history, .. } = decode(&t) {
                assert!(history.is_empty(), "{user}: the room is new");
                break;
            }
        }
        tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut stop = stop;
            loop {
                let item = tokio::select! {
                    _ = stop.changed() => return seen,
                    item = ws.next() => item,
                };
                match item {
                    Some(Ok(Ws::Text(t))) => match decode(&t) {
                        Event::Message(m) => seen.messages.push((m, Instant::now())),
                        Event::Joined { .. } => panic!("{user}: joined twice"),
                        _ => {}
                    },
                    Some(Ok(Ws::Close(frame))) => {
                        seen.ended = Some(format!("close {frame:?}"));
                        return seen;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        seen.ended = Some(format!("error {e}"));
                        return seen;
                    }
                    None => {
                        seen.ended = Some("end of stream".into());
                        return seen;
                    }
                }
            }
        })
    }

    /// Redis stopped for 1 s, then for 5 s, while 120 msgs/s flow from two senders on each
    /// of three nodes: every raw receiver ends with every message exactly once, in order, the
    /// server closes no session, and every receiver has everything sent before Redis answered
    /// again within 2 s of it answering (the measured figures go to RELIABILITY.md).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_outages_under_load_end_live_within_2_s_with_no_session_closed() {
        let Some((_, pg)) = Cluster::services() else {
            return;
        };
        const ROOM: &str = "outage";
        // Two senders per node at 20 msgs/s each (a client may send 30 frames/s sustained).
        const PER_SENDER: Duration = Duration::from_millis(50);
        const LIVE_BOUND: Duration = Duration::from_secs(2);
        let mut redis = PrivateRedis::start().await.expect("a private redis-server");
        let cluster = Cluster::start("outage", 3, redis.url(), pg).await;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut receivers = Vec::new();
        for node in &cluster.nodes {
            for k in 0..2 {
                let user = format!("r{}{k}", node.id);
                let task = raw_receiver(node.addr, user.clone(), ROOM, stop_rx.clone()).await;
                receivers.push((user, task));
            }
        }
        let sending = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let mut senders = Vec::new();
        for (node, k) in cluster.nodes.iter().flat_map(|n| [(n, 0), (n, 1)]) {
            let user = format!("s{}{k}", node.id);
            let (c, _inbox) = client(&node.url(), &user).await;
            c.join(ROOM).await.expect("join");
            let sending = Arc::clone(&sending);
            senders.push(tokio::spawn(async move {
                // One send per tick, each awaiting its own ack, so a slow commit does not
                // lower the rate.
                let mut sends = tokio::task::JoinSet::new();
                let mut tick = tokio::time::interval(PER_SENDER);
                let mut k = 0;
                while sending.load(std::sync::atomic::Ordering::Relaxed) {
                    tick.tick().await;
                    let (c, text) = (c.clone(), format!("{user} #{k}"));
                    sends.spawn(async move {
                        let ack = c.send(ROOM, text).await.expect("send");
                        (ack.seq, ack.msg_id, Instant::now())
                    });
                    k += 1;
                }
                sends.join_all().await
            }));
        }
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut back = Vec::new();
        for outage in [Duration::from_secs(1), Duration::from_secs(5)] {
            redis.stop().await;
            tokio::time::sleep(outage).await;
            redis.restart().await.expect("restart redis-server");
            back.push((outage, Instant::now()));
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
        sending.store(false, std::sync::atomic::Ordering::Relaxed);
        let mut expected = BTreeMap::new();
        let mut acked_at = BTreeMap::new();
        for sender in senders {
            for (seq, id, at) in sender.await.expect("sender") {
                expected.insert(seq, id);
                acked_at.insert(seq, at);
            }
        }
        let total = expected.len();
        assert_eq!(
            expected.keys().copied().collect::<Vec<_>>(),
            (1..=total as u64).collect::<Vec<_>>()
        );
        let rate = total as f64 / started.elapsed().as_secs_f64();
        assert!(rate > 100.0, "{rate:.0} msgs/s flowed");
        // Let the receivers finish, then look.
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop_tx.send_replace(true);
        let mut worst = vec![Duration::ZERO; back.len()];
        for (user, task) in receivers {
            let seen = task.await.expect("receiver");
            assert_eq!(seen.ended, None, "{user}: the server ended the session");
            let messages: Vec<Message> = seen.messages.iter().map(|(m, _)| m.clone()).collect();
            assert_exactly_once_in_order(&user, &messages, &expected);
            for (i, (_, answered)) in back.iter().enumerate() {
                // Everything acknowledged before Redis answered again was here by when?
                let caught_up = seen
                    .messages
                    .iter()
                    .filter(|(m, _)| acked_at[&m.seq] <= *answered)
                    .map(|(_, at)| at.saturating_duration_since(*answered))
                    .max()
                    .unwrap_or_default();
                worst[i] = worst[i].max(caught_up);
            }
        }
        for ((outage, _), took) in back.iter().zip(&worst) {
            println!(
                "Redis down {outage:?}: every receiver had every earlier message {took:?} \
                 after Redis answered ({total} messages in all, {rate:.0} msgs/s)"
            );
            assert!(
                *took <= LIVE_BOUND,
                "down {outage:?}: live again after {took:?}"
            );
        }
        for node in &cluster.nodes {
            let metrics = get(node.addr, "/metrics").await.body;
            assert!(
                metrics.contains("chatcore_slow_consumers_total 0"),
                "{}: {metrics}",
                node.id
            );
        }
        cluster.finish().await;
        redis.stop().await;
    }
}
