//! The message log: new messages are acknowledged from it, every read sees them, and the
//! writes queued behind them see them too.

use chatcore::store::{HistoryQuery, Store};

use super::{Fixture, msg, room};

fn texts(page: &chatcore::store::HistoryPage) -> Vec<(u64, &str)> {
    page.messages
        .iter()
        .map(|m| (m.seq, m.text.as_str()))
        .collect()
}

/// A batch of appends is acknowledged from the log (no transaction of its own); the next
/// read finds every one of them, and they reached SQLite in one transaction, after which
/// the file is back to its header.
#[tokio::test]
async fn appends_are_acknowledged_from_the_log_and_reads_see_them() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let before = f.store.stats();
    let pending: Vec<_> = f.gate.held(|| {
        (0..100)
            .map(|i| f.store.append(msg("r", &format!("m{i}"))))
            .collect()
    });
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(p.await.expect("append").message.seq, i as u64 + 1);
    }
    let acked = f.store.stats();
    assert_eq!(acked.logged - before.logged, 100, "{acked:?}");
    assert_eq!(acked.messages - before.messages, 100, "{acked:?}");
    let page = f
        .store
        .history("r", HistoryQuery::latest(1000))
        .await
        .expect("history");
    let want: Vec<(u64, String)> = (0..100).map(|i| (i + 1, format!("m{i}"))).collect();
    let got: Vec<(u64, String)> = texts(&page)
        .into_iter()
        .map(|(s, t)| (s, t.to_owned()))
        .collect();
    assert_eq!(got, want);
    let applied = f.store.stats();
    assert_eq!(
        applied.commits - before.commits,
        1,
        "all 100 in one transaction: {applied:?}"
    );
    let log_len = std::fs::metadata(f.store.config().log_path())
        .expect("the log file")
        .len();
    assert!(log_len < 100, "cut back to its header: {log_len} bytes");
}

/// Writes queued behind logged appends run after the log is applied: a read mark on a
/// logged seq holds, a room created in the same batch takes messages, and the appends after
/// them are numbered on.
#[tokio::test]
async fn writes_behind_logged_appends_see_them() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let store = f.store.clone();
    let before = f.store.stats();
    let (a, b, mark, created, c, d) = f.gate.held(|| {
        let a = store.append(msg("r", "a"));
        let b = store.append(msg("r", "b"));
        let s1 = store.clone();
        let mut mark = Box::pin(async move { s1.set_read("r", "ann", 2).await });
        let s2 = store.clone();
        let mut created = Box::pin(async move {
            chatcore::testing::fixtures::create_room(
                &s2,
                "s",
                chatcore::protocol::RoomKind::Public,
            )
            .await;
        });
        // One poll each queues the command behind the appends, in this order.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(
            mark.as_mut().poll(&mut cx).is_pending(),
            "the writer is held"
        );
        assert!(
            created.as_mut().poll(&mut cx).is_pending(),
            "the writer is held"
        );
        let c = store.append(msg("s", "c"));
        let d = store.append(msg("r", "d"));
        (a, b, mark, created, c, d)
    });
    let seqs = (
        a.await.expect("a").message.seq,
        b.await.expect("b").message.seq,
    );
    mark.await.expect("read mark");
    created.await;
    let (c, d) = (c.await.expect("c"), d.await.expect("d"));
    assert_eq!((seqs, c.message.seq, d.message.seq), ((1, 2), 1, 3));
    assert_eq!(f.store.stats().logged - before.logged, 2, "a and b");
    assert_eq!(f.store.read_position("r", "ann").await.expect("mark"), 2);
    let r = f
        .store
        .history("r", HistoryQuery::latest(10))
        .await
        .expect("r");
    assert_eq!(texts(&r), [(1, "a"), (2, "b"), (3, "d")]);
    let s = f
        .store
        .history("s", HistoryQuery::latest(10))
        .await
        .expect("s");
    assert_eq!(texts(&s), [(1, "c")]);
}

/// With the writer idle, logged messages reach SQLite on their own within moments: another
/// connection sees them without any read of the store's asking for it.
#[tokio::test]
async fn an_idle_writer_applies_the_log_on_its_own() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let m = msg("r", "on its own");
    let id = m.id.clone();
    f.store.append(m).await.expect("append");
    let raw = f.raw();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let found: Option<String> = raw
            .query_row("SELECT body FROM messages WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .ok();
        if found.is_some() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not applied after 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(f.store.stats().logged, 1);
}

/// An append resolves only once its message is durable: in the message log file (read by
/// another handle) or committed (seen by another connection), whichever way it went.
#[tokio::test]
async fn an_append_resolves_only_once_its_message_is_in_the_log_or_the_database() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let raw = f.raw();
    let log_path = f.store.config().log_path();
    for i in 0..50 {
        let m = msg("r", &format!("m{i}"));
        let id = m.id.clone();
        let appended = f.store.append(m).await.expect("append");
        let in_log = std::fs::read(&log_path)
            .expect("the log file")
            .windows(id.len())
            .any(|w| w == id.as_bytes());
        let committed = raw
            .query_row("SELECT 1 FROM messages WHERE id = ?1", [&id], |_| Ok(()))
            .is_ok();
        assert!(
            in_log || committed,
            "seq {} resolved before it was durable",
            appended.message.seq
        );
    }
    assert!(f.store.stats().logged > 0, "{:?}", f.store.stats());
}

/// With the writer thread held and nothing queued, an append logs on its caller's thread
/// and is ready at once; under `Synchronous::Full` it waits for the writer thread, which
/// syncs the log once for everything queued with it.
#[tokio::test]
async fn an_append_logs_on_its_callers_thread_unless_the_log_is_synced() {
    use crate::Synchronous;
    for sync in [Synchronous::Normal, Synchronous::Full] {
        let f = Fixture::with(|c| c.with_synchronous(sync));
        room(&f.store, "r").await;
        // The room's batch is over: its reply came from inside it.
        f.writer_idle().await;
        let before = f.store.stats();
        let (pending, ready) = f.gate.held(|| {
            let mut pending = f.store.append(msg("r", "here"));
            let waker = std::task::Waker::noop();
            match pending
                .as_mut()
                .poll(&mut std::task::Context::from_waker(waker))
            {
                std::task::Poll::Ready(appended) => (None, Some(appended)),
                std::task::Poll::Pending => (Some(pending), None),
            }
        });
        assert_eq!(
            ready.is_some(),
            sync == Synchronous::Normal,
            "{sync:?}: ready while the writer thread is held"
        );
        let appended = match (pending, ready) {
            (_, Some(ready)) => ready.expect("append"),
            (Some(pending), None) => pending.await.expect("append"),
            (None, None) => unreachable!("one of the two"),
        };
        assert_eq!(appended.message.seq, 1);
        assert_eq!(f.store.stats().logged - before.logged, 1, "{sync:?}");
    }
}
