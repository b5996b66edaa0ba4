//! When a commit fails (nothing burnt, the rest of the batch spared, caches forgotten),
//! when an append resolves (only after its commit), and the checkpoint thread.

use chatcore::Error;
use chatcore::protocol::RoomKind;
use chatcore::store::{HistoryQuery, NewRoom, Store};
use rusqlite::Connection;

use super::{Fixture, msg, room};
use crate::{SqliteConfig, schema};

#[tokio::test]
async fn the_checkpoint_thread_copies_the_log_into_the_file() {
    let f = Fixture::with(|c| {
        c.with_message_log(false)
            .with_checkpoint_pages(16)
            .expect("pages")
    });
    room(&f.store, "r").await;
    let size = || std::fs::metadata(f.path()).map_or(0, |m| m.len());
    let initial = size();
    // SQLite's own automatic checkpoint is off (the WAL hook replaces it): only the
    // checkpoint thread can grow the main file.
    let body = "x".repeat(1000);
    for _ in 0..10 {
        let pending: Vec<_> = (0..100).map(|_| f.store.append(msg("r", &body))).collect();
        for p in pending {
            p.await.expect("append");
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() < initial + 500_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes",
            size()
        );
        // A checkpoint copies only what no reader still needs (the search indexer reads
        // too); the next commit past the threshold signals another.
        f.store.append(msg("r", "poke")).await.expect("append");
        // Nothing else runs on this test's runtime: blocking it is fine.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[tokio::test]
async fn a_busy_writer_is_checkpointed_once_per_threshold_and_its_log_starts_over() {
    const PAGES: u32 = 64;
    let f = Fixture::with(|c| {
        c.with_message_log(false)
            .with_checkpoint_pages(PAGES)
            .expect("pages")
    });
    room(&f.store, "r").await;
    let wal = f.path().with_extension("db-wal");
    let body = "x".repeat(500);
    let mut largest_log = 0;
    // Four appends in flight at all times, as a client pipelining its sends: the writer
    // never waits long enough for a checkpoint beside it to catch up.
    let mut in_flight = std::collections::VecDeque::new();
    for _ in 0..8_000 {
        in_flight.push_back(f.store.append(msg("r", &body)));
        if in_flight.len() == 4 {
            if let Some(p) = in_flight.pop_front() {
                p.await.expect("append");
            }
            largest_log = largest_log.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
    }
    for p in in_flight {
        p.await.expect("append");
    }
    let stats = f.store.stats();
    let log_bytes = u64::from(PAGES) * 4096;
    // Each commit writes a few pages to the log: a threshold's worth (two checkpoints,
    // the thread's and the writer's) takes about twenty commits. A bound on the count
    // only (a checkpoint per commit would break it); the old signal, checkpointing as
    // often as the thread could, stayed under it here (450 for 2,556 commits on tmpfs),
    // and the log's size below is what tells it apart.
    assert!(
        stats.checkpoints > 0 && stats.checkpoints * 4 <= stats.commits,
        "{} checkpoints for {} commits",
        stats.checkpoints,
        stats.commits
    );
    // The writer finishes each checkpoint, so the log starts over instead of growing
    // with everything written (about 36 MB here). It may grow past the threshold while a
    // reader (the search indexer) holds on to older frames.
    assert!(
        largest_log <= 32 * log_bytes,
        "the log grew to {largest_log} bytes (threshold {log_bytes})"
    );
}

#[tokio::test]
async fn failed_transaction_burns_no_seq_and_spares_its_batch() {
    let f = Fixture::without_log();
    room(&f.store, "r").await;
    assert_eq!(
        f.store
            .append(msg("r", "one"))
            .await
            .expect("one")
            .message
            .seq,
        1
    );
    // A trigger makes any message saying "boom" fail inside SQLite, after the seq was
    // taken from the cache and the row was (being) written.
    f.raw()
        .execute_batch(
            "CREATE TRIGGER boom AFTER INSERT ON messages \
             WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .expect("trigger");

    // Alone in its transaction.
    let err = f.store.append(msg("r", "boom")).await.expect_err("boom");
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert_eq!(
        f.store
            .append(msg("r", "two"))
            .await
            .expect("two")
            .message
            .seq,
        2
    );

    // In the middle of a batch: the batch is rolled back and retried one by one.
    let failed_before = f.store.stats().failed_commits;
    let (a, boom, b) = f.gate.held(|| {
        (
            f.store.append(msg("r", "three")),
            f.store.append(msg("r", "boom")),
            f.store.append(msg("r", "four")),
        )
    });
    assert_eq!(a.await.expect("three").message.seq, 3);
    assert!(boom.await.is_err());
    assert_eq!(b.await.expect("four").message.seq, 4);
    assert!(f.store.stats().failed_commits >= failed_before + 2);

    let page = f
        .store
        .history("r", HistoryQuery::latest(10))
        .await
        .expect("history");
    let texts: Vec<_> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three", "four"]);
    let seqs: Vec<_> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
}

/// The row of message `id` as another connection sees it: committed, or nothing.
fn committed_body(raw: &Connection, id: &str) -> Option<String> {
    raw.query_row("SELECT body FROM messages WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .ok()
}

/// An append resolves only once its commit is visible to another connection, under
/// both `synchronous` settings, read back from a connection opened the way the writer's
/// is; while the writer is held, the append neither resolves nor shows.
#[tokio::test]
async fn an_append_resolves_only_after_its_commit() {
    use crate::config::Synchronous;
    for (sync, pragma) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
        let f = Fixture::with(|c| c.with_message_log(false).with_synchronous(sync));
        let config = SqliteConfig::new(f.path()).with_synchronous(sync);
        let writer = schema::open_writer(&config).expect("writer connection");
        let read: i64 = writer
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(read, pragma, "{sync:?}");
        drop(writer);
        room(&f.store, "r").await;
        let raw = f.raw();
        let held = msg("r", "held");
        let held_id = held.id.clone();
        let mut pending = f.gate.held(|| {
            let mut pending = f.store.append(held);
            let waker = std::task::Waker::noop();
            let polled = pending
                .as_mut()
                .poll(&mut std::task::Context::from_waker(waker));
            assert!(polled.is_pending(), "resolved while the writer was held");
            assert_eq!(committed_body(&raw, &held_id), None, "committed while held");
            pending
        });
        let appended = (&mut pending).await.expect("append");
        assert_eq!(committed_body(&raw, &held_id).as_deref(), Some("held"));
        assert_eq!(appended.message.seq, 1);
        for i in 0..50 {
            let m = msg("r", &format!("m{i}"));
            let id = m.id.clone();
            let appended = f.store.append(m).await.expect("append");
            assert_eq!(
                committed_body(&raw, &id),
                Some(format!("m{i}")),
                "seq {} resolved before its commit",
                appended.message.seq
            );
        }
    }
}

#[tokio::test]
async fn room_created_in_a_failed_batch_is_forgotten() {
    let f = Fixture::without_log();
    f.raw()
        .execute_batch(
            "CREATE TRIGGER boom AFTER INSERT ON messages \
             WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .expect("trigger");
    // One batch: create "r", append to it, fail. The retry runs each alone, so "r"
    // exists afterwards; what matters is that the writer's caches agree with the file.
    let store = f.store.clone();
    let (create, ok, boom) = f.gate.held(|| {
        let mut create = store.create_room(NewRoom {
            name: "r".into(),
            kind: RoomKind::Public,
            creator: "ann".into(),
            created: 1,
        });
        // One poll runs create_room up to its wait for the reply: the create is in the
        // writer's queue, ahead of the appends, with no sleep to order them.
        let waker = std::task::Waker::noop();
        let polled = create
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker));
        assert!(polled.is_pending(), "the writer is held");
        (
            create,
            store.append(msg("r", "fine")),
            store.append(msg("r", "boom")),
        )
    });
    create.await.expect("create");
    assert_eq!(ok.await.expect("fine").message.seq, 1);
    assert!(boom.await.is_err());
    assert_eq!(
        f.store
            .append(msg("r", "next"))
            .await
            .expect("next")
            .message
            .seq,
        2
    );
    assert_eq!(f.store.last_seq("r").await.expect("last_seq"), 2);
}
