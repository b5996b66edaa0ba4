//! The real `chat-server` binary as a user runs it: it answers its HTTP surface and upgrades
//! `/ws`, issues tokens that open the socket, explains its flags, and refuses bad set-ups
//! with a one-line error.

#![allow(clippy::unwrap_used)]

mod server_process_common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};

use chatcore_testkit::{HttpResponse, Ws, get, http};
use futures::SinkExt;
use serde_json::{Value, json};
use server_process_common::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn answers_health_rooms_metrics_and_upgrades_ws() {
    let mut server = start(&["--store", "memory://"]).await;
    let HttpResponse { status, body, .. } = get(server.addr, "/health").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    let HttpResponse { status, body, .. } = get(server.addr, "/ready").await;
    assert_eq!(status, 200, "{body}");
    let HttpResponse {
        status, body: page, ..
    } = get(server.addr, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<html"), "the browser client is served at /");

    let (_ws, ack) = hello_in_lobby(server.addr).await;
    assert_eq!(ack["seq"], 1);

    let HttpResponse { status, body, .. } = get(server.addr, "/api/rooms").await;
    assert_eq!(status, 200, "{body}");
    let rooms: Value = serde_json::from_str(&body).expect("JSON");
    let lobby = rooms["rooms"]
        .as_array()
        .expect("rooms array")
        .iter()
        .find(|r| r["name"] == "lobby")
        .unwrap_or_else(|| panic!("lobby listed: {body}"));
    assert_eq!(lobby["online"], 1, "{lobby}");

    let HttpResponse { status, body, .. } =
        get(server.addr, "/api/rooms/lobby/messages?limit=10").await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["messages"][0]["text"], "hello");

    let HttpResponse {
        status,
        body: metrics,
        ..
    } = get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "chatcore_ws_connections_open 1",
        "chatcore_messages_in_total 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "/metrics shows {line:?}:\n{metrics}"
        );
    }
    server.kill().await;
}

/// With a SQLite store, `/metrics` also shows the store's own counters: the message taken
/// from the message log, and the log emptied once a read needed it.
#[tokio::test]
async fn a_sqlite_servers_metrics_show_its_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = format!("sqlite://{}", dir.path().join("chat.db").display());
    let mut server = start(&["--store", &store]).await;
    let _ws = hello_in_lobby(server.addr).await;
    let HttpResponse { status, body, .. } =
        get(server.addr, "/api/rooms/lobby/messages?limit=10").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("hello"), "{body}");
    let HttpResponse {
        status,
        body: metrics,
        ..
    } = get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("/metrics shows {name}:\n{metrics}"))
    };
    assert_eq!(value("chatcore_sqlite_messages_total"), 1);
    assert_eq!(value("chatcore_sqlite_logged_messages_total"), 1);
    assert_eq!(value("chatcore_sqlite_unapplied_messages"), 0);
    // One message: its nonce read at most once (before the nonce filter is loaded).
    assert!(value("chatcore_sqlite_nonce_lookups_total") <= 1);
    assert!(value("chatcore_sqlite_commits_total") >= 1);
    assert!(
        metrics
            .lines()
            .any(|l| l == "# TYPE chatcore_sqlite_unapplied_messages gauge"),
        "{metrics}"
    );
    server.kill().await;
}

/// Ann joins "lobby" and sends "hello": her socket (still open) and the ack.
async fn hello_in_lobby(addr: SocketAddr) -> (Ws, Value) {
    let mut ws = connect(addr, "ann").await;
    expect_frame(&mut ws, "welcome", None).await;
    let join = json!({"type": "join", "id": 1, "room": "lobby"});
    ws.send(WsMessage::text(join.to_string())).await.unwrap();
    expect_frame(&mut ws, "joined", Some(1)).await;
    let send = json!({"type": "send", "id": 2, "room": "lobby", "text": "hello"});
    ws.send(WsMessage::text(send.to_string())).await.unwrap();
    let ack = expect_frame(&mut ws, "ack", Some(2)).await;
    (ws, ack)
}

/// A POST of a JSON body; returns the status and the body.
async fn http_post_json(addr: SocketAddr, path: &str, body: &Value) -> (u16, String) {
    let r = http(addr, "POST", path, &[], Some(&body.to_string())).await;
    (r.status, r.body)
}

#[tokio::test]
async fn the_default_server_issues_tokens_that_open_the_socket() {
    let mut server = start(&["--store", "memory://"]).await;
    let (status, body) = http_post_json(server.addr, "/api/token", &json!({"user": "dora"})).await;
    assert_eq!(status, 200, "{body}");
    let token: Value = serde_json::from_str(body.trim()).expect("JSON");
    let token = token["token"].as_str().expect("token");
    let url = format!("ws://{}/ws?token={token}", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    let welcome = expect_frame(&mut ws, "welcome", None).await;
    assert_eq!(welcome["user"], "dora", "{welcome}");
    let forged = format!("ws://{}/ws?token={token}x", server.addr);
    assert!(
        tokio_tungstenite::connect_async(forged).await.is_err(),
        "a forged token is refused at the handshake"
    );
    server.kill().await;
}

fn run_to_exit(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("CHATCORE_JWT_SECRET")
        .env_remove("CHATCORE_ALLOW_GUESTS")
        .env_remove("CHATCORE_LISTEN")
        .env_remove("CHATCORE_STORE")
        .env_remove("CHATCORE_BUS")
        .stdin(Stdio::null())
        .output()
        .expect("run chat-server");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_explains_every_flag() {
    let (code, out, _) = run_to_exit(&["--help"]);
    assert_eq!(code, Some(0));
    for flag in [
        "--listen",
        "--store",
        "--bus",
        "--jwt-secret",
        "--allow-guests",
        "--log",
    ] {
        assert!(out.contains(flag), "--help lacks {flag}:\n{out}");
    }
}

#[test]
fn bad_setups_fail_with_one_line_that_says_what_to_do() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--listen", "0.0.0.0:0", "--store", "memory://"],
            "--jwt-secret",
        ),
        (
            &["--listen", "127.0.0.1:0", "--store", "mysql://x/y"],
            "sqlite://",
        ),
        (
            &[
                "--listen",
                "127.0.0.1:0",
                "--store",
                "memory://",
                "--jwt-secret",
                "short",
            ],
            "32",
        ),
        (
            &["--listen", "127.0.0.1:0", "--bus", "carrier-pigeon"],
            "local",
        ),
        (&["--listen", "not-an-address"], "--listen"),
    ];
    for (args, hint) in cases {
        let (code, _, err) = run_to_exit(args);
        assert_eq!(
            code,
            Some(if args[1] == "not-an-address" { 2 } else { 1 }),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(hint),
            "{args:?}: error should mention {hint}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn an_unwritable_sqlite_path_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}",
        dir.path().join("missing/dir/chat.db").display()
    );
    let (code, _, err) = run_to_exit(&["--listen", "127.0.0.1:0", "--store", &url]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("chat-server: "), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}
