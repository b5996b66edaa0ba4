//! A process that dies right after its appends were acknowledged, with the messages still in
//! the message log: the next open finds every one of them.
//!
//! The test runs this test binary again as the child (`crash_child`, which does nothing
//! unless `CHATCORE_CRASH_DB` names its database): it appends, prints each ack, and aborts
//! (no destructor runs, nothing is applied at close), as a killed server would.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use chatcore::protocol::RoomKind;
use chatcore::store::{HistoryQuery, Store};
use chatcore::testing::fixtures::{create_room, new_message};
use chatcore_store_sqlite::{SqliteConfig, SqliteStore};

const MESSAGES: u64 = 200;

#[test]
fn crash_child() {
    let Ok(path) = std::env::var("CHATCORE_CRASH_DB") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open_with(SqliteConfig::new(&path)).unwrap();
        create_room(&store, "r", RoomKind::Public).await;
        // Applied to SQLite: the log is empty from here.
        store.history("r", HistoryQuery::latest(1)).await.unwrap();
        for i in 1..=MESSAGES {
            let text = format!("m{i}");
            let appended = store
                .append(new_message("r", "ann", &text, Some(&text)))
                .await
                .unwrap();
            println!("ACK {} {}", appended.message.seq, appended.message.text);
        }
        // With the store still open: nothing is applied or closed on the way out.
        std::process::abort();
    });
}

#[tokio::test]
async fn acknowledged_messages_in_the_log_survive_the_process_dying() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("CHATCORE_CRASH_DB", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        // The harness may print the test's name on the first ack's line.
        if let Some(ack) = line.split_once("ACK ").map(|(_, ack)| ack) {
            let (seq, text) = ack.split_once(' ').unwrap();
            acked.push((seq.parse::<u64>().unwrap(), text.to_owned()));
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child aborts: {status:?}");
    assert_eq!(
        acked.len() as u64,
        MESSAGES,
        "every append was acknowledged"
    );
    let config = SqliteConfig::new(&path);
    let log_len = std::fs::metadata(config.log_path()).unwrap().len();
    // The header is under 100 bytes; each record is more than 60.
    assert!(
        log_len > 100,
        "the child died with messages in the log ({log_len} bytes)"
    );
    let store = SqliteStore::open_with(config).unwrap();
    let page = store
        .history("r", HistoryQuery::latest(1000))
        .await
        .unwrap();
    let stored: Vec<(u64, String)> = page.messages.into_iter().map(|m| (m.seq, m.text)).collect();
    assert_eq!(stored, acked);
    let again = store
        .append(new_message("r", "ann", "m1", Some("m1")))
        .await
        .unwrap();
    assert!(again.duplicate && again.message.seq == 1, "{again:?}");
}
