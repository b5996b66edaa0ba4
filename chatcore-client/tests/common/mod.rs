//! Shared fixtures: a real server on `127.0.0.1:0`, a TCP proxy that can cut connections or
//! swallow what the server sends, client configs for tests, and bounded waits. Nothing
//! sleeps to assert: every wait polls a condition within [`BOUND`].

#![allow(dead_code, unreachable_pub)] // each test binary uses a subset

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chatcore::auth::JwtAuthenticator;
use chatcore::{Hub, HubBuilder};
use chatcore_client::{ClientConfig, ClientEvent, ConnectionState, Events, Message};
use chatcore_transport_ws::{WsConfig, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// Upper bound of every wait.
pub const BOUND: Duration = Duration::from_secs(20);
/// JWT secret of servers that use tokens.
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

/// A transport config with a generous rate limit, so fast tests are not throttled.
pub fn ws_config() -> WsConfig {
    WsConfig::default()
        .with_rate_limit(100_000, 100_000, 1_000)
        .expect("config")
}

/// A JWT authenticator with the test secret.
pub fn jwt(guests: bool) -> JwtAuthenticator {
    JwtAuthenticator::new(SECRET)
        .expect("secret")
        .with_guests(guests)
}

/// A valid token for `user`.
pub fn token(user: &str) -> String {
    jwt(false)
        .sign(user, Duration::from_secs(600))
        .expect("sign")
}

/// A server running [`serve`] on an ephemeral loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub hub: Hub,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<chatcore_transport_ws::Result<()>>>,
}

impl TestServer {
    /// Guests allowed, memory store.
    pub async fn start() -> Self {
        Self::with(Hub::builder()).await
    }

    pub async fn with(builder: HubBuilder) -> Self {
        let hub = builder.build().await.expect("hub");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(listener, hub.clone(), ws_config(), shutdown));
        Self {
            addr,
            hub,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Resolves the shutdown future and waits for `serve` to return.
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let served = within(task).await.expect("serve task");
            served.expect("serve");
        }
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
            let query = chatcore::store::HistoryQuery {
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

/// A client config for `url` as guest `user`: fast reconnects, no client-side rate limit.
pub fn config(url: &str, user: &str) -> ClientConfig {
    ClientConfig::new(url)
        .expect("url")
        .with_guest(user)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(100))
        .and_then(|c| c.with_request_timeout(BOUND))
        .and_then(|c| c.with_rate_limit(None))
        .expect("config")
}

/// Awaits `f` within [`BOUND`].
pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(BOUND, f)
        .await
        .expect("did not finish within the bound")
}

/// Polls `check` until it holds, within [`BOUND`].
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    within(async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// The next event matching `pick`, skipping others, within [`BOUND`].
pub async fn next_matching<T>(
    events: &mut Events,
    mut pick: impl FnMut(ClientEvent) -> Option<T>,
) -> T {
    within(async {
        loop {
            let event = events.recv().await.expect("the event stream ended");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

/// The next message event.
pub async fn next_message(events: &mut Events) -> Message {
    next_matching(events, |e| match e {
        ClientEvent::Message(m) => Some(m),
        _ => None,
    })
    .await
}

/// The next connection state change.
pub async fn next_state(events: &mut Events) -> ConnectionState {
    next_matching(events, |e| match e {
        ClientEvent::State(s) => Some(s),
        _ => None,
    })
    .await
}

/// A TCP proxy in front of a server, to break connections the way networks do.
pub struct Proxy {
    pub addr: SocketAddr,
    /// Bumped by [`Proxy::cut`]: every connection open at that moment is dropped.
    generation: watch::Sender<u64>,
    /// While set, bytes from the server are read and thrown away (acks get lost).
    swallow: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let (generation, _) = watch::channel(0u64);
        let swallow = Arc::new(AtomicBool::new(false));
        let gen_tx = generation.clone();
        let swallow_flag = Arc::clone(&swallow);
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = TcpStream::connect(target).await else {
                    continue;
                };
                let cut = gen_tx.subscribe();
                tokio::spawn(pump(inbound, outbound, cut, Arc::clone(&swallow_flag)));
            }
        });
        Self {
            addr,
            generation,
            swallow,
            task,
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every connection open now, without close frames (both ends see the TCP
    /// connection end). New connections go through.
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Starts or stops throwing away what the server sends.
    pub fn swallow(&self, on: bool) {
        self.swallow.store(on, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

async fn pump(
    inbound: TcpStream,
    outbound: TcpStream,
    mut cut: watch::Receiver<u64>,
    swallow: Arc<AtomicBool>,
) {
    let (mut client_rd, mut client_wr) = inbound.into_split();
    let (mut server_rd, mut server_wr) = outbound.into_split();
    let up = tokio::io::copy(&mut client_rd, &mut server_wr);
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match server_rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if swallow.load(Ordering::SeqCst) {
                continue;
            }
            if client_wr.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = cut.changed() => {}
        _ = up => {}
        () = down => {}
    }
}
