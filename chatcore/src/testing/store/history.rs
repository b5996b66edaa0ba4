//! Append and history cases: gapless per-room seq, call-order commits, nonce retries and
//! cursor paging.

use std::sync::Arc;

use super::helpers::{append, fill, room, seqs};
use crate::Error;
use crate::protocol::{MessageKind, RoomKind};
use crate::store::{HistoryQuery, MAX_PAGE};
use crate::testing::StoreFactory;
use crate::testing::fixtures::new_message as msg;

/// Seq is 1, 2, 3… per room, independently per room, and every field is stored as given.
pub async fn append_assigns_gapless_seq_per_room(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "a", RoomKind::Public).await;
    room(&s, "b", RoomKind::Public).await;
    for i in 1..=5u64 {
        let mut m = msg("a", "ann", &format!("a{i}"), None);
        m.reply_to = (i > 1).then_some(i - 1);
        m.kind = if i % 2 == 0 {
            MessageKind::Emote
        } else {
            MessageKind::Text
        };
        let expected_id = m.id.clone();
        let expected_ts = m.ts;
        let stored = append(&s, m).await;
        assert_eq!(stored.seq, i, "room a");
        assert_eq!(stored.id, expected_id);
        assert_eq!(stored.ts, expected_ts);
        assert_eq!(
            append(&s, msg("b", "bob", "b", None)).await.seq,
            i,
            "room b"
        );
    }
    assert_eq!(s.last_seq("a").await.expect("last_seq"), 5);
    let page = s
        .history("a", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert_eq!(seqs(&page.messages), vec![1, 2, 3, 4, 5]);
    assert_eq!(page.messages[1].kind, MessageKind::Emote);
    assert_eq!(page.messages[1].reply_to, Some(1));
    assert_eq!(page.messages[0].reply_to, None);
    assert_eq!(page.messages[4].text, "a5");
    assert_eq!(page.messages[4].sender, "ann");
    let rec = s.room("a").await.expect("room").expect("exists");
    assert_eq!(rec.last_seq, 5);
}

/// Appending to a room that was never created fails and stores nothing.
pub async fn append_to_unknown_room_fails(f: &impl StoreFactory) {
    let s = f.open().await;
    let err = s
        .append(msg("nowhere", "ann", "x", None))
        .await
        .expect_err("must fail");
    assert!(matches!(err, Error::UnknownRoom(_)), "{err:?}");
    assert_eq!(s.last_seq("nowhere").await.expect("last_seq"), 0);
}

/// Appends called in sequence, without awaiting in between, commit in call order.
pub async fn appends_commit_in_call_order(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    let pending: Vec<_> = (0..300)
        .map(|i| s.append(msg("r", "ann", &format!("{i}"), None)))
        .collect();
    for (i, p) in pending.into_iter().enumerate() {
        let m = p.await.expect("append").message;
        assert_eq!(m.seq, i as u64 + 1);
        assert_eq!(m.text, i.to_string());
    }
}

/// Many concurrent writers on one room still produce 1..=n with no gap and no reuse, and
/// each writer's own messages keep their order.
pub async fn concurrent_appends_are_gapless(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    let writers = 8;
    let each = 50;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..each {
                let m = s
                    .append(msg("r", &format!("w{w}"), &format!("{i}"), None))
                    .await
                    .expect("append")
                    .message;
                got.push(m.seq);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let got = t.await.expect("writer");
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "a writer's seqs must increase"
        );
        all.extend(got);
    }
    all.sort_unstable();
    let expected: Vec<u64> = (1..=writers * each).collect();
    assert_eq!(all, expected);
    let page = s
        .history("r", HistoryQuery::latest(MAX_PAGE))
        .await
        .expect("history");
    assert_eq!(seqs(&page.messages), expected);
}

/// A retried (sender, nonce) returns the original message and stores nothing new; the same
/// nonce from another sender is a different message.
pub async fn nonce_returns_the_original(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    room(&s, "other", RoomKind::Public).await;
    let first = append(&s, msg("r", "ann", "hello", Some("n-1"))).await;
    assert_eq!(first.nonce.as_deref(), Some("n-1"));
    let retry = s
        .append(msg("r", "ann", "hello again", Some("n-1")))
        .await
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!(retry.message, first);
    let elsewhere = s
        .append(msg("other", "ann", "x", Some("n-1")))
        .await
        .expect("retry elsewhere");
    assert!(
        elsewhere.duplicate,
        "nonces are unique per sender across rooms"
    );
    assert_eq!(elsewhere.message, first);
    let bob = append(&s, msg("r", "bob", "hi", Some("n-1"))).await;
    assert_eq!(bob.seq, 2);
    assert_eq!(s.last_seq("r").await.expect("last_seq"), 2);
    assert_eq!(s.last_seq("other").await.expect("last_seq"), 0);
}

/// Retries racing each other (and in one batch) still store exactly one message.
pub async fn concurrent_retries_store_once(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    let pending: Vec<_> = (0..20)
        .map(|_| s.append(msg("r", "ann", "once", Some("same"))))
        .collect();
    let mut originals = 0;
    let mut ids = std::collections::HashSet::new();
    for p in pending {
        let a = p.await.expect("append");
        originals += usize::from(!a.duplicate);
        ids.insert((a.message.id, a.message.seq));
    }
    assert_eq!(originals, 1, "exactly one append stores the message");
    assert_eq!(ids.len(), 1, "every retry returns the same message");
    assert_eq!(s.last_seq("r").await.expect("last_seq"), 1);
}

/// Cursor paging in both directions, at the edges.
pub async fn history_paging_edges(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "empty", RoomKind::Public).await;
    let page = s
        .history("empty", HistoryQuery::latest(50))
        .await
        .expect("history");
    assert!(page.messages.is_empty() && !page.has_more);

    room(&s, "r", RoomKind::Public).await;
    fill(&s, "r", 25).await;
    let h = |q| {
        let s = Arc::clone(&s);
        async move { s.history("r", q).await.expect("history") }
    };
    let latest = h(HistoryQuery::latest(10)).await;
    assert_eq!(seqs(&latest.messages), (16..=25).collect::<Vec<_>>());
    assert!(latest.has_more);
    let back = h(HistoryQuery::before(16, 10)).await;
    assert_eq!(seqs(&back.messages), (6..=15).collect::<Vec<_>>());
    assert!(back.has_more);
    let first = h(HistoryQuery::before(6, 10)).await;
    assert_eq!(seqs(&first.messages), (1..=5).collect::<Vec<_>>());
    assert!(!first.has_more, "first page has nothing older");
    let none = h(HistoryQuery::before(1, 10)).await;
    assert!(none.messages.is_empty() && !none.has_more);

    let fwd = h(HistoryQuery::after(0, 10)).await;
    assert_eq!(seqs(&fwd.messages), (1..=10).collect::<Vec<_>>());
    assert!(fwd.has_more);
    let tail = h(HistoryQuery::after(20, 10)).await;
    assert_eq!(seqs(&tail.messages), (21..=25).collect::<Vec<_>>());
    assert!(!tail.has_more, "last page has nothing newer");
    let past = h(HistoryQuery::after(25, 10)).await;
    assert!(past.messages.is_empty() && !past.has_more);
    let beyond = h(HistoryQuery::before(1_000, 3)).await;
    assert_eq!(seqs(&beyond.messages), vec![23, 24, 25]);

    let window = h(HistoryQuery {
        after: Some(5),
        before: Some(9),
        limit: 10,
    })
    .await;
    assert_eq!(seqs(&window.messages), vec![6, 7, 8]);
    assert!(!window.has_more);
    let window = h(HistoryQuery {
        after: Some(5),
        before: Some(20),
        limit: 3,
    })
    .await;
    assert_eq!(seqs(&window.messages), vec![6, 7, 8]);
    assert!(window.has_more);

    let zero = h(HistoryQuery::latest(0)).await;
    assert!(zero.messages.is_empty());
    let all = h(HistoryQuery::latest(u32::MAX)).await;
    assert_eq!(
        all.messages.len(),
        25,
        "a huge limit is clamped, not an error"
    );
}

/// Contradictory cursors are a clear error; huge limits are clamped to MAX_PAGE.
pub async fn history_bad_cursor(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    for (after, before) in [(5, 5), (9, 3)] {
        let err = s
            .history(
                "r",
                HistoryQuery {
                    after: Some(after),
                    before: Some(before),
                    limit: 10,
                },
            )
            .await
            .expect_err("contradictory cursors");
        assert!(matches!(err, Error::BadCursor(_)), "{err:?}");
    }
    fill(&s, "r", u64::from(MAX_PAGE) + 5).await;
    let page = s
        .history("r", HistoryQuery::after(0, u32::MAX))
        .await
        .expect("history");
    assert_eq!(page.messages.len(), MAX_PAGE as usize);
    assert!(page.has_more);
}

/// History and last_seq of a room that does not exist are empty, not errors.
pub async fn history_of_unknown_room_is_empty(f: &impl StoreFactory) {
    let s = f.open().await;
    let page = s
        .history("ghost", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert!(page.messages.is_empty() && !page.has_more);
    assert_eq!(s.last_seq("ghost").await.expect("last_seq"), 0);
    assert!(s.room("ghost").await.expect("room").is_none());
}
