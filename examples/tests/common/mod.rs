//! Shared fixtures of the integration tests: a chat server on `127.0.0.1:0`, a tiny HTTP
//! client, and the rule for tests that need something installed.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different part of this module

use std::net::SocketAddr;
use std::time::Duration;

use chatcore::Hub;
use chatcore_transport_ws::WsConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A chat server running in this process, stopped (gracefully) on drop or by [`stop`].
///
/// [`stop`]: TestServer::stop
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The hub it serves, for seeding rooms from the test.
    pub hub: Hub,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<chatcore_transport_ws::Result<()>>>,
}

impl TestServer {
    /// Serves `hub` with `chatcore_transport_ws::serve`, as `chat-server` does.
    pub async fn start(hub: Hub) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel::<()>();
        let config = WsConfig::default().with_shutdown_grace(Duration::from_secs(2));
        let served = hub.clone();
        let task = tokio::spawn(chatcore_transport_ws::serve(
            listener,
            served,
            config,
            async move {
                let _ = rx.await;
            },
        ));
        Self {
            addr,
            hub,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// A server over an in-memory hub that lets guests in.
    pub async fn memory() -> Self {
        Self::start(Hub::builder().build().await.expect("hub")).await
    }

    /// `http://ADDR/` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shuts the server down and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let done = tokio::time::timeout(Duration::from_secs(20), task).await;
            let result = done.expect("server stops in time").expect("no panic");
            result.expect("clean shutdown");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A plain HTTP/1.1 GET; returns the status and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// `true` when `CHATCORE_REQUIRE_SERVICES=1`: a missing dependency fails the test instead of
/// skipping it (CI sets it).
pub fn services_required() -> bool {
    std::env::var("CHATCORE_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// `chat-server ARGS…` as a child process: no inherited identity or bus settings from the
/// environment, stdout piped (the tests read the addresses it prints), killed on drop.
pub fn chat_server(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(args)
        .env_remove("CHATCORE_JWT_SECRET")
        .env_remove("CHATCORE_ALLOW_GUESTS")
        .env_remove("CHATCORE_BUS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn chat-server")
}
