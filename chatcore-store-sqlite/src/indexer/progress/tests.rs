//! Tests of when the indexer goes ahead: gathering, deferring to a busy writer, waiting
//! searches and the close.

use std::sync::Arc;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use super::{BATCH, MAX_DEFER, Next, Pending, Progress, SETTLE};

/// Runs `progress.next(done)` on a thread; its answer arrives on the returned channel.
fn next_on_a_thread(progress: &Arc<Progress>, done: i64) -> std::sync::mpsc::Receiver<Option<i64>> {
    let (tx, rx) = channel();
    let progress = Arc::clone(progress);
    std::thread::spawn(move || {
        let _ = tx.send(progress.next(done));
    });
    rx
}

const BLOCKED: Duration = Duration::from_millis(150);
const SOON: Duration = Duration::from_secs(5);

#[test]
fn the_indexer_waits_for_the_writer_to_pause() {
    let progress = Arc::new(Progress::new(0, 0));
    progress.writer_idle(false);
    progress.committed(5);
    let next = next_on_a_thread(&progress, 0);
    assert!(
        next.recv_timeout(BLOCKED).is_err(),
        "deferred to a busy writer"
    );
    progress.writer_idle(true);
    assert_eq!(next.recv_timeout(SOON).expect("goes ahead"), Some(5));
}

#[test]
fn an_idle_writer_lets_the_indexer_go_and_close_stops_it() {
    let progress = Arc::new(Progress::new(0, 0));
    let next = next_on_a_thread(&progress, 0);
    assert!(next.recv_timeout(BLOCKED).is_err(), "nothing to index yet");
    progress.committed(3);
    assert_eq!(next.recv_timeout(SOON).expect("indexes"), Some(3));
    let next = next_on_a_thread(&progress, 3);
    progress.close();
    assert_eq!(next.recv_timeout(SOON).expect("stops"), None);
}

/// A pending state `lag` after the first unindexed commit, `backlog` messages behind.
fn lagging(backlog: i64, lag: Duration, writer_idle: bool) -> (Pending, Instant) {
    let since = Instant::now();
    let pending = Pending {
        committed: 100 + backlog,
        indexed: 100,
        lagging_since: Some(since),
        writer_idle,
        searches: 0,
        closed: false,
    };
    (pending, since + lag)
}

#[test]
fn commits_gather_for_the_settle_time_before_they_are_indexed() {
    let (p, now) = lagging(3, Duration::ZERO, true);
    let since = p.lagging_since.expect("lagging");
    assert_eq!(p.next(100, now), Next::WaitUntil(since + SETTLE));
    assert!(
        !p.gathered(now),
        "an idle writer's pause does not wake the indexer yet"
    );
    let (p, now) = lagging(3, SETTLE / 2, true);
    assert_eq!(p.next(100, now), Next::WaitUntil(since_of(&p) + SETTLE));
    let (p, now) = lagging(3, SETTLE, true);
    assert!(p.gathered(now));
    assert_eq!(p.next(100, now), Next::Index(103));
}

fn since_of(p: &Pending) -> Instant {
    p.lagging_since.expect("lagging")
}

#[test]
fn a_large_backlog_or_a_search_does_not_wait_for_the_settle_time() {
    let (p, now) = lagging(BATCH, Duration::ZERO, true);
    assert!(p.gathered(now));
    assert_eq!(p.next(100, now), Next::Index(100 + BATCH));
    let (mut p, now) = lagging(1, Duration::ZERO, false);
    p.searches = 1;
    assert_eq!(
        p.next(100, now),
        Next::Index(101),
        "even with the writer busy"
    );
}

#[test]
fn gathered_commits_wait_for_a_busy_writer_up_to_the_longest_deferral() {
    let (p, now) = lagging(3, SETTLE, false);
    assert_eq!(p.next(100, now), Next::WaitUntil(since_of(&p) + MAX_DEFER));
    let (p, now) = lagging(3, MAX_DEFER, false);
    assert_eq!(p.next(100, now), Next::Index(103));
    let (mut p, now) = lagging(3, SETTLE, true);
    assert_eq!(p.next(103, now), Next::Wait, "nothing after what is done");
    p.closed = true;
    assert_eq!(p.next(100, now), Next::Stop);
}

#[tokio::test]
async fn a_waiting_search_overrides_a_busy_writer() {
    let progress = Arc::new(Progress::new(0, 0));
    progress.writer_idle(false);
    progress.committed(7);
    let next = next_on_a_thread(&progress, 0);
    assert!(
        next.recv_timeout(BLOCKED).is_err(),
        "deferred to a busy writer"
    );
    let search = {
        let progress = Arc::clone(&progress);
        tokio::spawn(async move { progress.wait_indexed(SOON).await })
    };
    let target = tokio::task::spawn_blocking(move || next.recv_timeout(SOON))
        .await
        .expect("join");
    assert_eq!(target.expect("a search makes it go"), Some(7));
    progress.indexed_to(7);
    assert!(
        search.await.expect("join"),
        "the search saw the index catch up"
    );
    assert_eq!(
        progress.lock().searches,
        0,
        "the search no longer counts as waiting"
    );
    assert!(progress.lock().lagging_since.is_none());
}

#[tokio::test]
async fn a_search_gives_up_waiting_after_its_limit() {
    let progress = Progress::new(0, 0);
    progress.committed(2);
    assert!(!progress.wait_indexed(Duration::from_millis(20)).await);
    assert_eq!(progress.lock().searches, 0);
    progress.indexed_to(2);
    assert!(progress.wait_indexed(Duration::from_millis(20)).await);
}
