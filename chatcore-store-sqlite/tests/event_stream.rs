//! The host's event stream on SQLite: it resumes from the cursors committed before a restart,
//! and a cursor past its room's newest seq (a database restored from an older copy) is a
//! clear error, not a silent skip.

use std::sync::Arc;

use chatcore::events::StreamConfig;
use chatcore::protocol::RoomKind;
use chatcore::store::Store;
use chatcore::{ErrorCode, HostPost, Hub};
use chatcore_store_sqlite::SqliteStore;

async fn hub(path: &std::path::Path) -> Hub {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path).expect("open"));
    Hub::builder()
        .shared_store(store)
        .build()
        .await
        .expect("hub")
}

#[tokio::test]
async fn resumes_after_a_restart_and_refuses_a_cursor_past_the_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chat.db");
    let first = hub(&path).await;
    first
        .create_room("r", RoomKind::Public)
        .await
        .expect("room");
    for i in 1..=5 {
        first
            .post(HostPost::system("r", format!("m{i}")))
            .await
            .expect("post");
    }
    let mut stream = first.event_stream(StreamConfig::new("g")).expect("stream");
    for seq in 1..=3 {
        let e = stream.next().await.expect("next");
        assert_eq!(e.seq, seq);
        stream.commit(&e).await.expect("commit");
    }
    drop(stream);
    first
        .shutdown(std::time::Duration::from_secs(5))
        .await
        .expect("shutdown");

    let second = hub(&path).await;
    let mut stream = second.event_stream(StreamConfig::new("g")).expect("stream");
    let e = stream.next().await.expect("next");
    assert_eq!(e.seq, 4, "the restart starts after the committed cursor");
    drop(stream);
    second
        .shutdown(std::time::Duration::from_secs(5))
        .await
        .expect("shutdown");

    // An older copy of the database comes back: the room ends at seq 2, the cursor says 3.
    let raw = rusqlite::Connection::open(&path).expect("raw");
    raw.execute("DELETE FROM messages WHERE seq > 2", [])
        .expect("delete");
    drop(raw);
    let third = hub(&path).await;
    let mut stream = third.event_stream(StreamConfig::new("g")).expect("stream");
    let err = stream.next().await.expect_err("cursor past the head");
    assert_eq!(err.code(), ErrorCode::BadCursor);
    assert!(err.to_string().contains("past its newest seq 2"), "{err}");
}
