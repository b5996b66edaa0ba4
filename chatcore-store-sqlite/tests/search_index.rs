//! The search index file: it trails the appends, survives restarts, and is rebuilt whenever
//! it does not match the messages (deleted, copied from another database, or ahead of the
//! messages after a power cut took back their last commits).

use std::path::{Path, PathBuf};

use chatcore::protocol::RoomKind;
use chatcore::store::{SearchQuery, Store};
use chatcore::{Error, Result};
use chatcore_store_sqlite::{SqliteConfig, SqliteStore};
use chatcore_testkit::fixtures::{create_room, new_message};

fn config(path: &Path) -> SqliteConfig {
    SqliteConfig::new(path).with_readers(1).expect("readers")
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open_with(config(path)).expect("open")
}

fn index_path(path: &Path) -> PathBuf {
    config(path).index_path()
}

async fn room(store: &SqliteStore, name: &str) {
    create_room(store, name, RoomKind::Public).await;
}

async fn say(store: &SqliteStore, room: &str, text: &str) -> u64 {
    store
        .append(new_message(room, "ann", text, None))
        .await
        .expect("append")
        .message
        .seq
}

/// The (room, seq) of every message holding `word`, newest first.
async fn hits(store: &SqliteStore, word: &str) -> Vec<(String, u64)> {
    store
        .search(SearchQuery {
            room: None,
            text: word.into(),
            limit: 100,
        })
        .await
        .expect("search")
        .into_iter()
        .map(|m| (m.room, m.seq))
        .collect()
}

/// Copies a closed database (its file and any WAL) to `to`.
fn copy_database(from: &Path, to: &Path) {
    for suffix in ["", "-wal"] {
        let mut src = from.as_os_str().to_owned();
        src.push(suffix);
        let mut dst = to.as_os_str().to_owned();
        dst.push(suffix);
        match std::fs::copy(&src, &dst) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = std::fs::remove_file(&dst);
            }
            Err(e) => panic!("copy {}: {e}", Path::new(&src).display()),
        }
    }
}

#[tokio::test]
async fn the_index_is_a_file_beside_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chat.db");
    let store = open(&db);
    room(&store, "r").await;
    say(&store, "r", "hello world").await;
    assert_eq!(hits(&store, "hello").await, [("r".to_owned(), 1)]);
    assert!(index_path(&db).exists(), "{}", index_path(&db).display());
    assert_eq!(index_path(&db), dir.path().join("chat.db-search"));
    let stats = store.stats();
    assert_eq!((stats.messages, stats.indexed), (1, 1), "{stats:?}");
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_deleted_index_is_rebuilt_from_the_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chat.db");
    let store = open(&db);
    for r in ["a", "b"] {
        room(&store, r).await;
    }
    for i in 0..50 {
        say(&store, ["a", "b"][i % 2], &format!("common word{i}")).await;
    }
    assert_eq!(hits(&store, "common").await.len(), 50);
    drop(store);

    for suffix in ["", "-wal", "-shm"] {
        let mut name = index_path(&db).into_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
    let store = open(&db);
    // The first search waits for the rebuild.
    assert_eq!(hits(&store, "common").await.len(), 50);
    assert_eq!(hits(&store, "word7").await, [("b".to_owned(), 4)]);
    assert_eq!(store.stats().indexed, 50);
    // And new messages are indexed after the old ones.
    say(&store, "a", "fresh").await;
    assert_eq!(hits(&store, "fresh").await, [("a".to_owned(), 26)]);
    store.close().await.expect("close");
}

#[tokio::test]
async fn an_index_from_another_database_is_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (one, two) = (dir.path().join("one.db"), dir.path().join("two.db"));
    let store = open(&one);
    room(&store, "r").await;
    say(&store, "r", "apple").await;
    drop(store);
    let store = open(&two);
    room(&store, "r").await;
    say(&store, "r", "banana").await;
    drop(store);

    // `two` now has `one`'s index, whose entry 1 says "apple".
    copy_database(&index_path(&one), &index_path(&two));
    let store = open(&two);
    assert!(
        hits(&store, "apple").await.is_empty(),
        "another database's words"
    );
    assert_eq!(hits(&store, "banana").await, [("r".to_owned(), 1)]);
    store.close().await.expect("close");
}

#[tokio::test]
async fn an_index_ahead_of_the_messages_is_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chat.db");
    let saved = dir.path().join("saved.db");
    let store = open(&db);
    room(&store, "r").await;
    for i in 0..5 {
        say(&store, "r", &format!("kept{i}")).await;
    }
    drop(store);
    copy_database(&db, &saved);
    let store = open(&db);
    for i in 5..10 {
        say(&store, "r", &format!("lost{i}")).await;
    }
    assert_eq!(hits(&store, "lost7").await, [("r".to_owned(), 8)]);
    drop(store);

    // As after a power cut that took back the last commits of the database but not of the
    // index: the index knows messages 6 to 10, the database ends at 5.
    copy_database(&saved, &db);
    let store = open(&db);
    assert_eq!(say(&store, "r", "replacement").await, 6);
    assert!(
        hits(&store, "lost5").await.is_empty(),
        "words of lost messages must not point at the messages that took their place"
    );
    assert_eq!(hits(&store, "replacement").await, [("r".to_owned(), 6)]);
    assert_eq!(hits(&store, "kept2").await, [("r".to_owned(), 3)]);
    store.close().await.expect("close");
}

#[tokio::test]
async fn a_foreign_file_at_the_index_path_is_refused_and_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chat.db");
    let other = foreign_database(&index_path(&db));
    let result: Result<SqliteStore> = SqliteStore::open_with(config(&db));
    match result {
        Err(Error::Config(why)) => assert!(why.contains("not a chatcore search index"), "{why}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert_eq!(std::fs::read(index_path(&db)).expect("still there"), other);
}

/// Puts a SQLite database that is not a search index at `path` (a chatcore database, made by
/// the store itself); returns its bytes.
fn foreign_database(path: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = dir.path().join("elsewhere.db");
    drop(open(&elsewhere));
    std::fs::copy(&elsewhere, path).expect("copy");
    std::fs::read(path).expect("read")
}

#[tokio::test]
async fn the_index_can_live_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chat.db");
    let elsewhere = dir.path().join("index").join("chat.idx");
    std::fs::create_dir_all(elsewhere.parent().expect("parent")).expect("mkdir");
    let store = SqliteStore::open_with(config(&db).with_index_path(&elsewhere)).expect("open");
    room(&store, "r").await;
    say(&store, "r", "somewhere").await;
    assert_eq!(hits(&store, "somewhere").await.len(), 1);
    assert!(elsewhere.exists());
    assert!(!index_path(&db).exists());
    store.close().await.expect("close");
}
