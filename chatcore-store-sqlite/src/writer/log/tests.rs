//! The log's file: records read back as written, a crash's leftovers replayed at the next
//! open, a torn tail and a foreign log handled.

use chatcore::Error;
use chatcore::protocol::RoomKind;
use chatcore::store::{HistoryQuery, NewMessage, Store};
use chatcore::testing::fixtures::{create_room, new_message};
use rusqlite::Connection;

use super::*;
use crate::{SqliteConfig, SqliteStore};

/// A closed database with room "r" holding one applied message (seq 1), and messages left
/// in its log unapplied, as a killed process leaves them.
struct Crashed {
    _dir: tempfile::TempDir,
    config: SqliteConfig,
    database_id: String,
}

impl Crashed {
    /// `messages` (seqs from `first`) written to the log the way the writer does, under the
    /// database's own id, or under `foreign_id` for a log of another database.
    async fn new(first: u64, messages: Vec<NewMessage>, foreign_id: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = SqliteConfig::new(dir.path().join("t.db"));
        let store = SqliteStore::open_with(config.clone()).expect("open");
        create_room(&store, "r", RoomKind::Public).await;
        store
            .append(new_message("r", "ann", "applied", Some("n-1")))
            .await
            .expect("append");
        store.close().await.expect("close");
        drop(store);
        let conn = Connection::open(&config.path).expect("raw");
        let database_id: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'database_id'",
                [],
                |r| r.get(0),
            )
            .expect("database id");
        let room: i64 = conn
            .query_row("SELECT id FROM rooms WHERE name = 'r'", [], |r| r.get(0))
            .expect("room id");
        let log_id = foreign_id.unwrap_or(&database_id);
        let mut log = MessageLog::create(&config.log_path(), log_id, false).expect("log");
        for (i, m) in messages.into_iter().enumerate() {
            log.push(m, room, first + i as u64);
        }
        log.write().expect("write");
        Self {
            _dir: dir,
            config,
            database_id,
        }
    }
}

async fn history(store: &SqliteStore) -> Vec<(u64, String)> {
    store
        .history("r", HistoryQuery::latest(100))
        .await
        .expect("history")
        .messages
        .into_iter()
        .map(|m| (m.seq, m.text))
        .collect()
}

#[tokio::test]
async fn messages_left_in_the_log_are_replayed_at_the_next_open() {
    let mut rich = new_message("r", "bob", "with @ann", Some("n-2"));
    rich.mentions = vec!["ann".into()];
    rich.reply_to = Some(1);
    let crashed = Crashed::new(
        2,
        vec![rich.clone(), new_message("r", "ann", "third", None)],
        None,
    )
    .await;
    let (config, id) = (crashed.config.clone(), crashed.database_id.clone());
    let store = SqliteStore::open_with(config.clone()).expect("reopen");
    let log_len = std::fs::metadata(config.log_path()).expect("log").len();
    assert_eq!(log_len, header(&id).len() as u64, "the log starts over");
    assert_eq!(
        history(&store).await,
        [
            (1, "applied".into()),
            (2, "with @ann".into()),
            (3, "third".into())
        ]
    );
    let page = store
        .history("r", HistoryQuery::latest(100))
        .await
        .expect("history");
    let replayed = page.messages.get(1).expect("seq 2");
    assert_eq!(
        (replayed.id.as_str(), &replayed.mentions, replayed.reply_to),
        (rich.id.as_str(), &rich.mentions, Some(1))
    );
    // The replayed nonce is known, and numbering goes on after the replayed seqs.
    let again = store
        .append(new_message("r", "bob", "retry", Some("n-2")))
        .await
        .expect("retry");
    assert!(again.duplicate && again.message.seq == 2, "{again:?}");
    let next = store
        .append(new_message("r", "ann", "fourth", None))
        .await
        .expect("append");
    assert_eq!(next.message.seq, 4);
}

/// A record cut short (a crash in the middle of its `write`: never acknowledged) ends the
/// replay; the whole ones before it are kept.
#[tokio::test]
async fn a_torn_record_ends_the_replay() {
    let crashed = Crashed::new(
        2,
        vec![
            new_message("r", "ann", "whole", None),
            new_message("r", "ann", "torn", None),
        ],
        None,
    )
    .await;
    let config = crashed.config.clone();
    let path = config.log_path();
    let len = std::fs::metadata(&path).expect("log").len();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(len - 3))
        .expect("tear the last record");
    let store = SqliteStore::open_with(config).expect("reopen");
    assert_eq!(
        history(&store).await,
        [(1, "applied".into()), (2, "whole".into())]
    );
}

/// Replaying messages the database already has (a log not cut back after its apply)
/// changes nothing.
#[tokio::test]
async fn replaying_what_the_database_has_changes_nothing() {
    let crashed = Crashed::new(
        1,
        vec![new_message("r", "ann", "applied again", Some("n-1"))],
        None,
    )
    .await;
    let config = crashed.config.clone();
    let store = SqliteStore::open_with(config).expect("reopen");
    assert_eq!(history(&store).await, [(1, "applied".into())]);
}

/// A log whose header names another database is refused, and left as it was: it may hold
/// acknowledged messages of that database.
#[tokio::test]
async fn a_log_of_another_database_is_refused() {
    let crashed = Crashed::new(
        2,
        vec![new_message("r", "ann", "elsewhere", None)],
        Some("some-other-database"),
    )
    .await;
    let config = crashed.config.clone();
    let before = std::fs::read(config.log_path()).expect("log");
    let refused = SqliteStore::open_with(config.clone()).expect_err("a foreign log");
    assert!(
        matches!(&refused, Error::Config(m) if m.contains("not this database's message log")),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(config.log_path()).expect("log"), before);
    std::fs::remove_file(config.log_path()).expect("move it away");
    let store = SqliteStore::open_with(config).expect("open without it");
    assert_eq!(history(&store).await, [(1, "applied".into())]);
}

/// Turning the log off replays what it holds and removes the file.
#[tokio::test]
async fn a_store_opened_without_the_log_replays_it_and_removes_it() {
    let crashed = Crashed::new(2, vec![new_message("r", "ann", "kept", None)], None).await;
    let config = crashed.config.clone();
    let store = SqliteStore::open_with(config.clone().with_message_log(false)).expect("reopen");
    assert_eq!(
        history(&store).await,
        [(1, "applied".into()), (2, "kept".into())]
    );
    assert!(!config.log_path().exists());
}

#[test]
fn records_read_back_as_written_and_garbage_reads_as_nothing() {
    let record = Record {
        room_id: 7,
        seq: u64::MAX,
        id: "01J",
        sender: "ann",
        kind: "text",
        ts: -5,
        nonce: Some("n"),
        reply_to: Some(3),
        body: "héllo",
        data: Some("{\"k\":1}"),
        target: None,
        moderation: None,
        mentions: Some("[\"bob\"]"),
    };
    let mut bytes = Vec::new();
    encode(&record, &mut bytes);
    encode(&record, &mut bytes);
    let read = decode(&bytes);
    assert_eq!(read.len(), 2);
    let first = read.first().expect("one record");
    assert_eq!(
        (
            first.room_id,
            first.seq,
            first.body.as_str(),
            first.data.as_deref()
        ),
        (7, u64::MAX, "héllo", Some("{\"k\":1}"))
    );
    // A flipped byte in the second record's payload: only the first survives.
    let last = bytes.len() - 1;
    if let Some(b) = bytes.get_mut(last) {
        *b ^= 0xff;
    }
    assert_eq!(decode(&bytes).len(), 1);
    // A length past the end, a huge length, random bytes, nothing: no record, no panic.
    assert!(decode(&[0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 2]).is_empty());
    assert!(decode(&[9; 4096]).is_empty());
    assert!(decode(&[]).is_empty());
}

/// An apply is due at 1,024 pending messages, or once the oldest has waited 100 ms.
#[test]
fn an_apply_is_due_by_count_or_by_age() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = MessageLog::create(&dir.path().join("t.db-msglog"), "db", false).expect("log");
    assert!(!log.due(), "empty");
    for seq in 1..APPLY_MESSAGES as u64 {
        log.push(new_message("r", "ann", "x", None), 1, seq);
    }
    assert!(!log.due(), "one short of the count, and young");
    log.push(new_message("r", "ann", "x", None), 1, APPLY_MESSAGES as u64);
    assert!(log.due(), "the count");
    log.applied();
    log.push(new_message("r", "ann", "x", None), 1, 1);
    assert!(!log.due(), "one young message");
    std::thread::sleep(APPLY_AGE);
    assert!(log.due(), "the oldest has waited {APPLY_AGE:?}");
}

/// A pending message's `(nonce, sender)` is found; another sender's, another nonce, and
/// any once the log is applied are not.
#[test]
fn pending_nonces_are_found_by_nonce_and_sender() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = MessageLog::create(&dir.path().join("t.db-msglog"), "db", false).expect("log");
    log.push(new_message("r", "ann", "x", Some("n-1")), 1, 1);
    log.push(new_message("r", "bob", "y", None), 1, 2);
    assert!(log.has_nonce("n-1", "ann"));
    assert!(!log.has_nonce("n-1", "bob"), "another sender's");
    assert!(!log.has_nonce("n-2", "ann"), "another nonce");
    assert!(!log.has_nonce("", "bob"), "a message without one");
    log.applied();
    assert!(!log.has_nonce("n-1", "ann"), "applied: SQLite has it now");
}
