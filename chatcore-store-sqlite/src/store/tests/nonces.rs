//! Logging a message with a fresh nonce reads nothing once the nonce filter is loaded, and a
//! retried nonce is still answered with its original — stored before the store opened, or
//! since.

use std::time::{Duration, Instant};

use chatcore::store::Store;
use chatcore::testing::fixtures::new_message;

use super::{Fixture, room};
use crate::SqliteStore;

async fn send(store: &SqliteStore, nonce: &str) -> (u64, bool) {
    let appended = store
        .append(new_message("r", "ann", nonce, Some(nonce)))
        .await
        .expect("append");
    (appended.message.seq, appended.duplicate)
}

/// Appends fresh nonces until twenty in a row read nothing: the filter of the nonces stored
/// before the store opened is loaded (a loader thread scans them after the open).
async fn wait_for_the_filter(store: &SqliteStore) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut quiet = 0;
    let mut i = 0;
    while quiet < 20 {
        assert!(Instant::now() < deadline, "the nonce filter never loaded");
        let before = store.stats().nonce_lookups;
        send(store, &format!("warm-{i}")).await;
        i += 1;
        quiet = if store.stats().nonce_lookups == before {
            quiet + 1
        } else {
            0
        };
    }
}

#[tokio::test]
async fn fresh_nonces_read_nothing_and_retried_ones_find_their_original_across_a_reopen() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let mut first = Vec::new();
    for i in 0..50 {
        first.push(send(&f.store, &format!("old-{i}")).await);
    }
    let config = f.store.config().clone();
    f.store.close().await.expect("close");
    drop(f.store);

    let store = SqliteStore::open_with(config).expect("reopen");
    // At once, whether or not the filter is loaded yet: every retry finds its original.
    for (i, (seq, _)) in first.iter().enumerate() {
        assert_eq!(send(&store, &format!("old-{i}")).await, (*seq, true));
    }
    wait_for_the_filter(&store).await;
    while !store.inner._loader.0.iter().all(|t| t.is_finished()) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The loader's thread is done, and that is no stopped store thread.
    store.ping().await.expect("ping");
    let before = store.stats();
    for i in 0..200 {
        let (_, duplicate) = send(&store, &format!("new-{i}")).await;
        assert!(!duplicate);
    }
    let fresh = store.stats();
    assert_eq!(fresh.logged - before.logged, 200, "{fresh:?}");
    let lookups = fresh.nonce_lookups - before.nonce_lookups;
    assert!(
        lookups <= 15,
        "200 fresh nonces read the database {lookups} times (the filter's false positives are about 1 in 100)"
    );
    // Stored before the open (the loaded filter) and since (the writer's own): both found.
    for (i, (seq, _)) in first.iter().enumerate() {
        assert_eq!(send(&store, &format!("old-{i}")).await, (*seq, true));
    }
    let retried = send(&store, "new-7").await;
    assert!(retried.1, "a nonce stored since the open is a retry too");
    // The filter said "maybe" for each retry, and the database was read (on the caller's
    // thread, and again by the writer thread the retry is then queued for; `new-7` may
    // still be in the log, found there).
    let reads = store.stats().nonce_lookups - fresh.nonce_lookups;
    assert!((50..=102).contains(&reads), "{reads} reads for 51 retries");
}
