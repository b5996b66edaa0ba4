//! [`TestServer`]: a hub served over WebSocket and HTTP on `127.0.0.1:0`, the way
//! `chat-server` serves it.

use std::net::SocketAddr;

use chatcore::protocol::Message;
use chatcore::store::HistoryQuery;
use chatcore::{Hub, HubBuilder};
use chatcore_transport_ws::{Transport, WsConfig, serve_router};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::wait::{eventually, within};

/// A transport config with a generous rate limit, so tests that chat fast are not throttled.
pub fn ws_config() -> WsConfig {
    WsConfig::default()
        .with_rate_limit(100_000, 100_000, 1_000)
        .expect("config")
}

/// A server running [`serve`](chatcore_transport_ws::serve) on an ephemeral loopback port. Dropping it asks the server to
/// stop; [`TestServer::shutdown`] also waits for it.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The hub it serves, for seeding rooms and reading state from the test.
    pub hub: Hub,
    /// Resolves the shutdown future handed to [`serve`](chatcore_transport_ws::serve); taken by the first stop.
    stop: Option<oneshot::Sender<()>>,
    /// The [`serve`](chatcore_transport_ws::serve) task, awaited by [`TestServer::shutdown`].
    task: Option<JoinHandle<chatcore_transport_ws::Result<()>>>,
}

impl TestServer {
    /// An in-memory hub that lets guests in, served with [`ws_config`].
    pub async fn start() -> Self {
        Self::with(Hub::builder(), ws_config()).await
    }

    /// Builds the hub of `builder` and serves it with `config`.
    pub async fn with(builder: HubBuilder, config: WsConfig) -> Self {
        Self::serve(builder.build().await.expect("hub"), config).await
    }

    /// Serves an already built `hub` with `config`.
    pub async fn serve(hub: Hub, config: WsConfig) -> Self {
        Self::serve_transport(Transport::new(hub, config)).await
    }

    /// Serves `transport` (one made with [`Transport::with_accounts`], say), as [`serve`](chatcore_transport_ws::serve)
    /// would.
    pub async fn serve_transport(transport: Transport) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let hub = transport.hub().clone();
        let router = transport.router();
        let task = tokio::spawn(serve_router(listener, transport, router, shutdown));
        Self {
            addr,
            hub,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://ADDR` followed by `path` (`""` for the bare origin).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `ws://ADDR/ws` followed by `query` (`"?user=ann"`).
    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/ws{query}", self.addr)
    }

    /// Resolves the shutdown future and waits, within the bound, for `serve` to return its
    /// result.
    pub async fn shutdown(&mut self) -> chatcore_transport_ws::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("server running");
        within(task).await.expect("serve task")
    }

    /// Shuts down and asserts that `serve` returned cleanly.
    pub async fn stop(mut self) {
        self.shutdown().await.expect("clean shutdown");
    }

    /// Waits until `user` is online in `room`.
    pub async fn wait_online(&self, room: &str, user: &str) {
        eventually(|| async {
            self.hub
                .online(room, None)
                .await
                .is_ok_and(|users| users.iter().any(|u| u == user))
        })
        .await;
    }

    /// Every stored message of `room`, oldest first.
    pub async fn stored(&self, room: &str) -> Vec<Message> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let query = HistoryQuery {
                before: None,
                after: Some(after),
                limit: 200,
            };
            let page = self.hub.history(room, None, query).await.expect("history");
            let Some(last) = page.messages.last() else {
                return all;
            };
            after = last.seq;
            all.extend(page.messages);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
