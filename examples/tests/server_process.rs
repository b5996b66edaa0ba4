//! The real `chat-server` binary as a user runs it: it answers its HTTP surface and upgrades
//! `/ws`, refuses bad set-ups with a one-line error, and loses no acknowledged message when
//! the process is killed (SIGKILL) while clients send.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chatcore_testkit::{ChatServerProcess, HttpResponse, Ws, get, http, open};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const BIN: &str = env!("CARGO_BIN_EXE_chat-server");

/// Starts `chat-server --listen 127.0.0.1:0 --log warn ARGS…`, with no secret, guest or bus
/// setting from the environment, and reads the URL it prints.
async fn start(args: &[&str]) -> ChatServerProcess {
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

async fn connect(addr: SocketAddr, user: &str) -> Ws {
    open(&format!("ws://{addr}/ws?user={user}"), None, &[])
        .await
        .expect("websocket upgrade")
}

/// Reads frames until one with `type` = `kind` (and request id `id`, if given) arrives.
async fn expect_frame(ws: &mut Ws, kind: &str, id: Option<u64>) -> Value {
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

    let mut ws = connect(server.addr, "ann").await;
    expect_frame(&mut ws, "welcome", None).await;
    let join = json!({"type": "join", "id": 1, "room": "lobby"});
    ws.send(WsMessage::text(join.to_string())).await.unwrap();
    expect_frame(&mut ws, "joined", Some(1)).await;
    let send = json!({"type": "send", "id": 2, "room": "lobby", "text": "hello"});
    ws.send(WsMessage::text(send.to_string())).await.unwrap();
    let ack = expect_frame(&mut ws, "ack", Some(2)).await;
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

/// What one sender knows after the crash: the nonces it sent and the seq acked for each.
#[derive(Default)]
struct SenderLog {
    sent: Vec<String>,
    acked: BTreeMap<String, u64>,
}

/// Sends `who-N` messages with nonces, a few in flight at a time, recording every ack, until
/// the connection dies.
async fn send_until_killed(addr: SocketAddr, who: String, log: Arc<Mutex<SenderLog>>) {
    let mut ws = connect(addr, &who).await;
    let join = json!({"type": "join", "id": 0, "room": "crash"});
    if ws.send(WsMessage::text(join.to_string())).await.is_err() {
        return;
    }
    let (mut sink, mut stream) = ws.split();
    let reader_log = log.clone();
    let reader_who = who.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let WsMessage::Text(text) = msg else { continue };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if v["type"] == "ack" {
                let nonce = format!("{reader_who}-{}", v["id"]);
                let seq = v["seq"].as_u64().unwrap();
                reader_log.lock().await.acked.insert(nonce, seq);
            }
        }
    });
    for i in 1u64.. {
        let nonce = format!("{who}-{i}");
        let send = json!({"type": "send", "id": i, "room": "crash", "text": nonce, "nonce": nonce});
        log.lock().await.sent.push(nonce);
        if sink.send(WsMessage::text(send.to_string())).await.is_err() {
            break;
        }
        // Well under the per-connection rate limit, so only the kill stops the flow.
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let _ = reader.await;
}

async fn all_messages(addr: SocketAddr, room: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let path = format!("/api/rooms/{room}/messages?after={after}&limit=200");
        let HttpResponse { status, body, .. } = get(addr, &path).await;
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).expect("JSON");
        let messages = page["messages"].as_array().expect("messages").clone();
        let Some(last) = messages.last() else { break };
        after = last["seq"].as_u64().expect("seq");
        out.extend(messages);
        if page["has_more"] != true {
            break;
        }
    }
    out
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("chat.db").display())
}

#[tokio::test]
async fn sigkill_while_clients_send_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = sqlite_url(dir.path());
    let mut server = start(&["--store", &store]).await;
    let addr = server.addr;

    let senders: Vec<_> = ["ann", "bob", "cy"]
        .iter()
        .map(|who| {
            let log = Arc::new(Mutex::new(SenderLog::default()));
            let task = tokio::spawn({
                let log = log.clone();
                let who = (*who).to_owned();
                send_until_killed(addr, who, log)
            });
            (log, task)
        })
        .collect();

    // Let acks pile up, then pull the plug mid-stream.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut acked = 0;
        for (log, _) in &senders {
            acked += log.lock().await.acked.len();
        }
        if acked >= 150 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "only {acked} acks");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().await;
    for (_, task) in &senders {
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while !task.is_finished() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }

    let mut server = start(&["--store", &store]).await;
    let stored = all_messages(server.addr, "crash").await;
    let seqs: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "seq is gapless from 1 after the crash");
    let by_nonce: BTreeMap<String, u64> = stored
        .iter()
        .map(|m| {
            (
                m["nonce"].as_str().unwrap().to_owned(),
                m["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_nonce.len(), stored.len(), "no message stored twice");

    let mut acked_total = 0;
    let mut unacked = Vec::new();
    for (log, _) in &senders {
        let log = log.lock().await;
        for (nonce, seq) in &log.acked {
            acked_total += 1;
            assert_eq!(by_nonce.get(nonce), Some(seq), "acked {nonce} kept its seq");
        }
        unacked.extend(
            log.sent
                .iter()
                .filter(|n| !log.acked.contains_key(*n))
                .cloned(),
        );
    }
    assert!(acked_total >= 150);

    // Each sender retries its unacknowledged sends with their nonces (dedupe is per sender):
    // each is stored at most once.
    let mut id = 0;
    for who in ["ann", "bob", "cy"] {
        let mine: Vec<&String> = unacked
            .iter()
            .filter(|n| n.starts_with(&format!("{who}-")))
            .collect();
        let mut ws = connect(server.addr, who).await;
        let join = json!({"type": "join", "id": 0, "room": "crash"});
        ws.send(WsMessage::text(join.to_string())).await.unwrap();
        expect_frame(&mut ws, "joined", Some(0)).await;
        for nonce in mine {
            id += 1;
            let send =
                json!({"type": "send", "id": id, "room": "crash", "text": nonce, "nonce": nonce});
            ws.send(WsMessage::text(send.to_string())).await.unwrap();
            let ack = expect_frame(&mut ws, "ack", Some(id)).await;
            let was_stored = by_nonce.contains_key(nonce.as_str());
            assert_eq!(ack["duplicate"] == true, was_stored, "{nonce}: {ack}");
        }
    }
    let after = all_messages(server.addr, "crash").await;
    let nonces: HashSet<&str> = after.iter().map(|m| m["nonce"].as_str().unwrap()).collect();
    assert_eq!(nonces.len(), after.len(), "retries stored nothing twice");
    let sent_total: usize = {
        let mut n = 0;
        for (log, _) in &senders {
            n += log.lock().await.sent.len();
        }
        n
    };
    assert_eq!(after.len(), sent_total, "every send is stored exactly once");
    server.kill().await;
}
