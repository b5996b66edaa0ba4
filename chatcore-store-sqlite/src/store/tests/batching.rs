//! Group commit: appends queued together share one transaction (up to `max_batch`), and
//! repeated nonces inside a batch are stored once without burning a seq.

use chatcore::Error;
use chatcore::store::{HistoryQuery, NewMessage, Store};
use chatcore::testing::fixtures::new_message;

use super::{Fixture, msg, room};

#[tokio::test]
async fn appends_queued_together_commit_in_one_transaction() {
    let f = Fixture::without_log();
    room(&f.store, "r").await;
    let before = f.store.stats();
    let pending: Vec<_> = f.gate.held(|| {
        (0..100)
            .map(|i| f.store.append(msg("r", &i.to_string())))
            .collect()
    });
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(p.await.expect("append").message.seq, i as u64 + 1);
    }
    let after = f.store.stats();
    assert_eq!(after.commits - before.commits, 1, "{before:?} → {after:?}");
    assert_eq!(after.writes - before.writes, 100);
    assert_eq!(after.largest_batch, 100);
}

fn nonced(room: &str, sender: &str, text: &str, nonce: &str) -> NewMessage {
    new_message(room, sender, text, Some(nonce))
}

/// Nonces are checked by the unique index, not by a lookup before each insert: a repeat
/// inside one batch, a repeat of a committed nonce, and a repeat naming another (or an
/// unknown) room all answer with the original and burn no seq. The same with the message
/// log, where the first repeat ends the logged part of the batch.
#[tokio::test]
async fn repeated_nonces_in_one_batch_store_once_and_burn_no_seq() {
    for log in [false, true] {
        repeated_nonces_in_one_batch(Fixture::with(|c| c.with_message_log(log))).await;
    }
}

async fn repeated_nonces_in_one_batch(f: Fixture) {
    let log = f.store.config().message_log;
    room(&f.store, "r").await;
    room(&f.store, "s").await;
    let first = f
        .store
        .append(nonced("r", "ann", "one", "n-1"))
        .await
        .expect("append");
    let before = f.store.stats();
    let pending: Vec<_> = f.gate.held(|| {
        vec![
            f.store.append(nonced("r", "ann", "two", "n-2")),
            f.store.append(nonced("r", "ann", "two again", "n-2")),
            f.store.append(nonced("s", "ann", "one elsewhere", "n-1")),
            f.store.append(nonced("ghost", "ann", "one nowhere", "n-1")),
            f.store.append(nonced("r", "bob", "bob's n-1", "n-1")),
            f.store.append(nonced("r", "ann", "three", "n-3")),
        ]
    });
    let mut got = Vec::new();
    for p in pending {
        let a = p.await.expect("append");
        got.push((a.duplicate, a.message.room, a.message.seq, a.message.text));
    }
    let after = f.store.stats();
    match log {
        // "two" from the log; the rest in one transaction once the log is applied.
        true => assert_eq!(after.logged - before.logged, 1, "{after:?}"),
        false => assert_eq!(after.commits - before.commits, 1, "one batch"),
    }
    assert_eq!(after.messages - before.messages, 3, "three new messages");
    let want = [
        (false, "r", 2, "two"),
        (true, "r", 2, "two"),
        (true, "r", 1, "one"),
        (true, "r", 1, "one"),
        (false, "r", 3, "bob's n-1"),
        (false, "r", 4, "three"),
    ];
    let got: Vec<_> = got
        .iter()
        .map(|(d, r, s, t)| (*d, r.as_str(), *s, t.as_str()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(first.message.seq, 1);
    assert_eq!(f.store.last_seq("s").await.expect("last_seq"), 0);
    let unknown = f
        .store
        .append(nonced("ghost", "ann", "x", "never-used"))
        .await
        .expect_err("unknown room");
    assert!(matches!(unknown, Error::UnknownRoom(_)), "{unknown:?}");
}

/// Appends are inserted 32 rows per statement; a repeated nonce in the middle of a
/// large batch undoes only its own statement, and the numbers stay gapless; with the
/// message log, the messages after the repeat go the transaction's way, numbered on.
#[tokio::test]
async fn a_repeated_nonce_deep_in_a_batch_leaves_no_gap() {
    for log in [false, true] {
        a_repeated_nonce_deep_in_a_batch(Fixture::with(|c| c.with_message_log(log))).await;
    }
}

async fn a_repeated_nonce_deep_in_a_batch(f: Fixture) {
    let log = f.store.config().message_log;
    room(&f.store, "r").await;
    room(&f.store, "s").await;
    let pending: Vec<_> = f.gate.held(|| {
        (0..100)
            .map(|i| {
                let nonce = if i == 70 { 10 } else { i };
                let room = if i % 2 == 0 { "r" } else { "s" };
                f.store
                    .append(nonced(room, "ann", &format!("m{i}"), &nonce.to_string()))
            })
            .collect()
    });
    let mut seqs = std::collections::HashMap::<String, Vec<u64>>::new();
    for (i, p) in pending.into_iter().enumerate() {
        let a = p.await.expect("append");
        if i == 70 {
            assert!(a.duplicate, "{a:?}");
            assert_eq!(
                (a.message.room.as_str(), a.message.text.as_str()),
                ("r", "m10")
            );
        } else {
            assert!(!a.duplicate, "{i}: {a:?}");
            assert_eq!(a.message.text, format!("m{i}"));
            seqs.entry(a.message.room).or_default().push(a.message.seq);
        }
    }
    assert_eq!(seqs["r"], (1..=49).collect::<Vec<u64>>());
    assert_eq!(seqs["s"], (1..=50).collect::<Vec<u64>>());
    let stats = f.store.stats();
    match log {
        true => assert_eq!(
            stats.logged, 70,
            "the messages before the repeat: {stats:?}"
        ),
        false => assert_eq!(stats.commits, 3, "two rooms and one batch"),
    }
    let page = f
        .store
        .history("r", HistoryQuery::latest(100))
        .await
        .expect("history");
    assert_eq!(page.messages.len(), 49);
}

#[tokio::test]
async fn batches_are_capped_at_max_batch() {
    let f = Fixture::with(|c| {
        c.with_message_log(false)
            .with_max_batch(10)
            .expect("max_batch")
    });
    room(&f.store, "r").await;
    let before = f.store.stats();
    let pending: Vec<_> = f.gate.held(|| {
        (0..35)
            .map(|i| f.store.append(msg("r", &i.to_string())))
            .collect()
    });
    for p in pending {
        p.await.expect("append");
    }
    let after = f.store.stats();
    assert_eq!(after.commits - before.commits, 4);
    assert_eq!(after.largest_batch, 10);
}
