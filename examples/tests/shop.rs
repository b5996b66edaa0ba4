//! The shop over real sockets: a SQLite store, the shop's HTTP API and chatcore's WebSocket
//! under `/chat`; the order policy, system posts on state changes, and the event-stream
//! counter across a restart of the whole service.
#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chatcore::protocol::{Codec, Command, Event};
use chatcore::{ErrorCode, Hub};
use chatcore_examples::shop::counter::{Count, MessageCounter};
use chatcore_examples::shop::{Orders, Shop, ShopPolicy, router};
use chatcore_store_sqlite::SqliteStore;
use chatcore_testkit::{Probe, eventually, http};
use chatcore_transport_ws::{Transport, WsConfig};

/// One run of the whole service.
struct Running {
    addr: SocketAddr,
    shop: Shop,
    counter: MessageCounter,
    chat: Transport,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

async fn start(dir: &Path) -> Running {
    let orders = Orders::new(["sam"]);
    let hub = Hub::builder()
        .store(SqliteStore::open(dir.join("chat.db")).expect("sqlite"))
        .policy(ShopPolicy::new(orders.clone()))
        .build()
        .await
        .expect("hub");
    let shop = Shop::new(orders, hub.clone());
    let counter = MessageCounter::start(&hub, dir.join("counts.json")).expect("counter");
    let chat = Transport::new(hub, WsConfig::default());
    let app = router(shop.clone(), chat.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
    });
    Running {
        addr,
        shop,
        counter,
        chat,
        stop,
        server,
    }
}

impl Running {
    async fn guest(&self, user: &str) -> Probe {
        let url = format!("ws://{}/chat/ws?user={user}", self.addr);
        let ws = chatcore_testkit::open(&url, Some("chatcore.v1.json"), &[])
            .await
            .expect("WebSocket at /chat/ws");
        Probe::from_ws(ws, Codec::Json).await
    }

    async fn set_status(&self, id: u64, status: &str) -> (u16, String) {
        let body = format!(r#"{{"status":"{status}"}}"#);
        let r = http(
            self.addr,
            "POST",
            &format!("/api/orders/{id}/status"),
            &[("content-type", "application/json")],
            Some(&body),
        )
        .await;
        (r.status, r.body)
    }

    async fn wait_counts(&self, want: &[(u64, u64)]) {
        let want: BTreeMap<u64, u64> = want.iter().copied().collect();
        eventually(|| {
            let got: BTreeMap<u64, u64> = self
                .counter
                .counts()
                .into_iter()
                .map(|(k, Count { messages, .. })| (k, messages))
                .collect();
            std::future::ready(got == want)
        })
        .await;
    }

    async fn stop(self) {
        self.counter.stop().await;
        let _ = self.stop.send(());
        self.server.await.expect("server");
        self.chat.shutdown().await.expect("chat shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_over_real_sockets_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = start(dir.path()).await;
    run.shop
        .open_order(1, "alice", "teapot")
        .await
        .expect("order 1");
    run.shop
        .open_order(2, "bob", "kettle")
        .await
        .expect("order 2");

    // The customer and the staff get in; another customer does not.
    let mut alice = run.guest("alice").await;
    let mut sam = run.guest("sam").await;
    let mut bob = run.guest("bob").await;
    alice.join("order-1").await;
    sam.join("order-1").await;
    let id = bob
        .request(Command::Join {
            room: "order-1".into(),
            resume_after: None,
        })
        .await;
    match bob.reply(id).await {
        Event::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert!(message.contains("another customer"), "{message}");
        }
        e => panic!("bob got into order-1: {e:?}"),
    }
    let id = bob
        .request(Command::Join {
            room: "order-9".into(),
            resume_after: None,
        })
        .await;
    assert!(matches!(
        bob.reply(id).await,
        Event::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));
    bob.join("order-2").await;

    // A state change through the shop's API posts once, even when the call is retried.
    let (status, body) = run.set_status(1, "shipped").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = run.set_status(1, "shipped").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""duplicate":true"#), "{body}");
    // It arrives as an order card: the shop's kind, the order as data, a sentence as the
    // fallback text.
    for member in [&mut alice, &mut sam] {
        let m = member.message_from(chatcore::names::SYSTEM_USER).await;
        assert_eq!(m.text, "Order 1 is now shipped.");
        assert_eq!(m.kind.as_str(), "shop.order");
        assert_eq!(
            serde_json::Value::Object(m.data.expect("a card has data")),
            serde_json::json!({
                "order": 1, "customer": "alice", "item": "teapot", "status": "shipped"
            })
        );
    }
    assert_eq!(run.set_status(7, "shipped").await.0, 404);
    assert_eq!(run.set_status(1, "<script>").await.0, 422);
    alice.say("order-1", "thanks!").await;
    sam.say("order-1", "enjoy").await;
    bob.say("order-2", "when?").await;
    // order-1: placed, shipped, two messages; order-2: placed, one message.
    run.wait_counts(&[(1, 4), (2, 2)]).await;
    drop((alice, sam, bob));
    run.stop().await;

    // The whole service restarts on the same files: nothing is counted twice, and new
    // messages are counted.
    let run = start(dir.path()).await;
    run.shop
        .open_order(1, "alice", "teapot")
        .await
        .expect("order 1 again");
    let mut alice = run.guest("alice").await;
    alice.join("order-1").await;
    alice.say("order-1", "arrived, thanks").await;
    // "placed" again is a duplicate nonce: not a new message.
    run.wait_counts(&[(1, 5), (2, 2)]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    run.wait_counts(&[(1, 5), (2, 2)]).await;
    drop(alice);
    run.stop().await;
}
