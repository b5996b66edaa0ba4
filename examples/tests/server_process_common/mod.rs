//! Helpers shared by the `server_process_*` tests only: the built `chat-server`, started as a
//! user runs it, and a WebSocket to it read frame by frame.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use chatcore_testkit::{ChatServerProcess, Ws, open};
use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_chat-server");

/// Starts `chat-server --listen 127.0.0.1:0 --log warn ARGS…`, with no secret, guest or bus
/// setting from the environment, and reads the URL it prints.
pub(crate) async fn start(args: &[&str]) -> ChatServerProcess {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["--listen", "127.0.0.1:0", "--log", "warn"])
        .args(args)
        .env_remove("CHATCORE_JWT_SECRET")
        .env_remove("CHATCORE_ALLOW_GUESTS")
        .env_remove("CHATCORE_BUS")
        .stderr(Stdio::inherit());
    ChatServerProcess::spawn(command)
        .await
        .expect("chat-server prints its URL in time")
}

pub(crate) async fn connect(addr: SocketAddr, user: &str) -> Ws {
    open(&format!("ws://{addr}/ws?user={user}"), None, &[])
        .await
        .expect("websocket upgrade")
}

/// Reads frames until one with `type` = `kind` (and request id `id`, if given) arrives.
pub(crate) async fn expect_frame(ws: &mut Ws, kind: &str, id: Option<u64>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let msg = ws.next().await.expect("open").expect("frame");
            let WsMessage::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(&text).expect("JSON frame");
            if v["type"] == kind && id.is_none_or(|id| v["id"] == id) {
                return v;
            }
            assert_ne!(v["type"], "error", "unexpected error: {v}");
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} frame in time"))
}
