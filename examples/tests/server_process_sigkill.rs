//! The real `chat-server` binary as a user runs it, killed: it loses no acknowledged message
//! when the process is killed (SIGKILL) while clients send.

#![allow(clippy::unwrap_used)]

mod server_process_common;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chatcore_testkit::{HttpResponse, get};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use server_process_common::*;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as WsMessage;

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
