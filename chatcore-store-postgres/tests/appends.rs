//! The append path of one node: a queue commits in one transaction per batch, a stored nonce
//! in an optimistic batch is caught by the unique index and answered with its original, and
//! a closed store refuses appends.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL`.

#[macro_use]
mod common;

use std::collections::HashMap;

use chatcore::Error;
use chatcore::store::{HistoryQuery, Store};
use chatcore_testkit::fixtures::new_message as msg;
use common::{PgFactory, room};

/// Appends queued before the pipeline runs commit in one transaction, grouped by room, with
/// duplicates (earlier in the batch and from a previous batch) and an unknown room in the
/// middle of the batch handled per message.
#[tokio::test]
async fn one_transaction_per_batch() {
    let f = factory!();
    let store = f
        .store_with(f.config().with_pipelines(1).expect("pipelines"))
        .await;
    for r in ["a", "b", "c", "d"] {
        room(&store, r).await;
    }
    let earlier = store
        .append(msg("a", "ann", "earlier", Some("old")))
        .await
        .expect("append");
    // The current-thread runtime cannot run the pipeline until this test awaits, so all of
    // these are in the queue when it wakes.
    let mut pending = Vec::new();
    for i in 0..1000 {
        let r = ["a", "b", "c", "d"][i % 4];
        pending.push(store.append(msg(r, "bob", &i.to_string(), None)));
    }
    pending.push(store.append(msg("nowhere", "bob", "lost", None)));
    pending.push(store.append(msg("b", "ann", "first", Some("new"))));
    pending.push(store.append(msg("c", "ann", "again", Some("new"))));
    pending.push(store.append(msg("d", "ann", "retry", Some("old"))));
    pending.push(store.append(msg("nowhere", "cy", "x", Some("n"))));
    pending.push(store.append(msg("a", "cy", "y", Some("n"))));
    let mut results = Vec::new();
    for p in pending {
        results.push(p.await);
    }
    let tail = results.split_off(1000);
    let mut per_room: HashMap<String, Vec<u64>> = HashMap::new();
    for r in results {
        let m = r.expect("append").message;
        per_room.entry(m.room).or_default().push(m.seq);
    }
    assert_eq!(per_room["a"], (2..=251).collect::<Vec<_>>());
    assert_eq!(per_room["b"], (1..=250).collect::<Vec<_>>());
    assert!(matches!(tail[0], Err(Error::UnknownRoom(_))));
    let first = tail[1].as_ref().expect("first use");
    assert!(!first.duplicate);
    assert_eq!((first.message.room.as_str(), first.message.seq), ("b", 251));
    let again = tail[2].as_ref().expect("same batch retry");
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    let retry = tail[3].as_ref().expect("earlier batch retry");
    assert!(retry.duplicate);
    assert_eq!(retry.message, earlier.message);
    // A nonce whose first use failed (unknown room) is free for the next message.
    assert!(matches!(tail[4], Err(Error::UnknownRoom(_))));
    let cy = tail[5].as_ref().expect("after a failed use");
    assert!(!cy.duplicate);
    assert_eq!((cy.message.room.as_str(), cy.message.seq), ("a", 252));
    assert_eq!(store.last_seq("c").await.expect("last_seq"), 250);
    assert_eq!(store.last_seq("d").await.expect("last_seq"), 250);

    // Rows written by one transaction share its xmin.
    let raw = f.raw().await;
    let row = raw
        .query_one(
            "SELECT count(DISTINCT xmin::text), count(*) FROM messages WHERE seq > 1 OR room_id <> \
             (SELECT id FROM rooms WHERE name = 'a'::bytea)",
            &[],
        )
        .await
        .expect("xmin");
    let (transactions, rows): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(rows, 1002);
    assert_eq!(
        transactions, 1,
        "the whole queue committed in one transaction"
    );

    // With a smaller max_batch the same queue takes ceil(n / max_batch) transactions.
    let small = f
        .store_with(
            f.config()
                .with_pipelines(1)
                .expect("pipelines")
                .with_max_batch(100)
                .expect("max_batch"),
        )
        .await;
    room(&small, "e").await;
    let pending: Vec<_> = (0..1000)
        .map(|i| small.append(msg("e", "bob", &i.to_string(), None)))
        .collect();
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(p.await.expect("append").message.seq, i as u64 + 1);
    }
    let row = raw
        .query_one(
            "SELECT count(DISTINCT xmin::text) FROM messages \
             WHERE room_id = (SELECT id FROM rooms WHERE name = 'e'::bytea)",
            &[],
        )
        .await
        .expect("xmin");
    assert_eq!(row.get::<_, i64>(0), 10);
}

/// Batches after a nonce conflict that look nonces up (`LOOKUP_BATCHES` in
/// `src/writer/pipeline.rs`).
const LOOKUP_BATCHES: u64 = 16;

/// A stored nonce in an optimistic batch (no lookup before the copy): the unique index
/// rejects the copy, the batch is planned again with the lookup, and the retry returns the
/// original with `duplicate: true` while the batch's other messages get gapless seqs. The
/// next batches look nonces up (no more conflicts), then the pipeline is optimistic again.
#[tokio::test]
async fn stored_nonce_in_an_optimistic_batch() {
    let f = factory!();
    let store = f
        .store_with(f.config().with_pipelines(1).expect("pipelines"))
        .await;
    for r in ["a", "b"] {
        room(&store, r).await;
    }
    let original = store
        .append(msg("a", "ann", "first", Some("n1")))
        .await
        .expect("append")
        .message;
    let before = store.write_stats();
    assert_eq!(
        (before.lookups, before.retries),
        (0, 0),
        "optimistic while no stored nonce shows up"
    );
    // One batch: the current-thread runtime runs the pipeline only once this test awaits.
    let pending = vec![
        store.append(msg("a", "bob", "x", Some("b1"))),
        store.append(msg("b", "ann", "retry", Some("n1"))),
        store.append(msg("a", "bob", "y", Some("b2"))),
        store.append(msg("a", "cy", "same batch", Some("c1"))),
        store.append(msg("b", "cy", "same batch again", Some("c1"))),
        store.append(msg("b", "bob", "z", None)),
    ];
    let mut got = Vec::new();
    for p in pending {
        got.push(p.await.expect("append"));
    }
    let seqs: Vec<(&str, u64, bool)> = got
        .iter()
        .map(|a| (a.message.room.as_str(), a.message.seq, a.duplicate))
        .collect();
    assert_eq!(
        seqs,
        [
            ("a", 2, false),
            ("a", 1, true),
            ("a", 3, false),
            ("a", 4, false),
            ("a", 4, true),
            ("b", 1, false),
        ]
    );
    assert_eq!(got[1].message, original, "the stored original comes back");
    assert_eq!(got[4].message, got[3].message);
    let after = store.write_stats();
    assert_eq!(after.retries, 1, "one optimistic copy was rejected");
    assert_eq!(after.lookups, 1, "the retry looked the nonces up");
    assert_eq!(after.duplicates, 2);
    assert_eq!(store.last_seq("a").await.expect("last_seq"), 4);
    assert_eq!(store.last_seq("b").await.expect("last_seq"), 1);

    // The next batches look nonces up first: a stored nonce costs no rejected copy.
    for _ in 0..LOOKUP_BATCHES {
        let a = store
            .append(msg("b", "ann", "again", Some("n1")))
            .await
            .expect("append");
        assert!(a.duplicate);
        assert_eq!(a.message, original);
    }
    let stats = store.write_stats();
    assert_eq!((stats.retries, stats.lookups), (1, 1 + LOOKUP_BATCHES));
    // Then optimistic again: the next stored nonce is caught by the index once more.
    let a = store
        .append(msg("b", "ann", "once more", Some("n1")))
        .await
        .expect("append");
    assert!(a.duplicate);
    assert_eq!(a.message, original);
    let stats = store.write_stats();
    assert_eq!((stats.retries, stats.lookups), (2, 2 + LOOKUP_BATCHES));
    let fresh = store
        .append(msg("b", "ann", "new", Some("n2")))
        .await
        .expect("append");
    assert_eq!((fresh.message.seq, fresh.duplicate), (2, false));
    let page = store
        .history("b", HistoryQuery::after(0, 10))
        .await
        .expect("history");
    assert_eq!(
        page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2],
        "no seq burned by the rejected copies"
    );
}

/// A nonce stored through another node (another store, pool and pipeline) is found by this
/// node's optimistic batch: the original comes back, no seq is burned in any room, and the
/// rest of the batch commits.
#[tokio::test]
async fn nonce_stored_by_another_node() {
    let f = factory!();
    let config = || f.config().with_pipelines(1).expect("pipelines");
    let one = f.store_with(config()).await;
    let two = f.store_with(config()).await;
    for r in ["r", "s"] {
        room(&one, r).await;
    }
    let original = one
        .append(msg("r", "ann", "hi", Some("k")))
        .await
        .expect("append")
        .message;
    let pending = vec![
        two.append(msg("s", "bob", "1", Some("k"))),
        two.append(msg("r", "ann", "hi again", Some("k"))),
        two.append(msg("s", "bob", "2", None)),
    ];
    let mut got = Vec::new();
    for p in pending {
        got.push(p.await.expect("append"));
    }
    // `k` of bob is a different (sender, nonce) pair than ann's.
    assert_eq!((got[0].message.seq, got[0].duplicate), (1, false));
    assert!(got[1].duplicate);
    assert_eq!(got[1].message, original);
    assert_eq!((got[2].message.seq, got[2].duplicate), (2, false));
    assert_eq!(two.write_stats().retries, 1);
    assert_eq!(one.last_seq("r").await.expect("last_seq"), 1);
    assert_eq!(two.last_seq("s").await.expect("last_seq"), 2);
    // And the other way round, through the first node.
    let back = one
        .append(msg("r", "bob", "dup", Some("k")))
        .await
        .expect("append");
    assert!(back.duplicate);
    assert_eq!(back.message, got[0].message);
    assert_eq!(one.last_seq("r").await.expect("last_seq"), 1);
}

/// After close, appends fail with `Closed` while reads keep working.
#[tokio::test]
async fn closed_store_refuses_appends() {
    let f = factory!();
    let store = f.store().await;
    room(&store, "r").await;
    store
        .append(msg("r", "ann", "in", None))
        .await
        .expect("append");
    let clone = store.clone();
    clone.close().await.expect("close");
    let err = store
        .append(msg("r", "ann", "out", None))
        .await
        .expect_err("closed");
    assert!(matches!(err, Error::Closed), "{err:?}");
    assert_eq!(store.last_seq("r").await.expect("reads still work"), 1);
}
