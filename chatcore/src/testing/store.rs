//! The [`Store`] contract. Every case takes a [`StoreFactory`] and panics on a violation.

use std::sync::Arc;

use super::StoreFactory;
use super::fixtures::{card, create_room, new_card, new_message as msg};
use crate::Error;
use crate::protocol::{Message, MessageKind, RoomKind};
use crate::store::{HistoryQuery, MAX_PAGE, NewMessage, NewRoom, Role, SearchQuery, Store};

async fn room(store: &Arc<dyn Store>, name: &str, kind: RoomKind) {
    create_room(store.as_ref(), name, kind).await;
}

async fn append(store: &Arc<dyn Store>, m: NewMessage) -> Message {
    let appended = store.append(m).await.expect("append");
    assert!(
        !appended.duplicate,
        "a fresh message must not be a duplicate"
    );
    appended.message
}

async fn fill(store: &Arc<dyn Store>, room: &str, n: u64) {
    let pending: Vec<_> = (1..=n)
        .map(|i| store.append(msg(room, "filler", &format!("message {i}"), None)))
        .collect();
    for p in pending {
        p.await.expect("append");
    }
}

fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

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

/// create_room is idempotent and keeps the first creator, kind and time.
pub async fn rooms_are_created_once(f: &impl StoreFactory) {
    let s = f.open().await;
    let first = s
        .create_room(NewRoom {
            name: "r".into(),
            kind: RoomKind::Private,
            creator: "ann".into(),
            created: 111,
        })
        .await
        .expect("create");
    assert_eq!(
        (
            first.kind,
            first.creator.as_str(),
            first.created,
            first.last_seq,
            first.members
        ),
        (RoomKind::Private, "ann", 111, 0, 0)
    );
    assert_eq!(first.topic, None);
    let again = s
        .create_room(NewRoom {
            name: "r".into(),
            kind: RoomKind::Public,
            creator: "bob".into(),
            created: 222,
        })
        .await
        .expect("create again");
    assert_eq!(again, first);
    assert_eq!(s.room("r").await.expect("room"), Some(first));
}

/// Public rooms are listed for everyone; private and direct rooms only for their members.
pub async fn room_visibility(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "pub-b", RoomKind::Public).await;
    room(&s, "pub-a", RoomKind::Public).await;
    room(&s, "secret", RoomKind::Private).await;
    room(&s, "dm:ann:bob", RoomKind::Direct).await;
    s.add_member("secret", "ann", Role::Owner)
        .await
        .expect("add");
    s.add_member("dm:ann:bob", "ann", Role::Owner)
        .await
        .expect("add");
    s.add_member("dm:ann:bob", "bob", Role::Owner)
        .await
        .expect("add");
    let names = |rooms: Vec<crate::store::RoomRecord>| {
        rooms.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.list_rooms(None).await.expect("list")),
        ["pub-a", "pub-b"]
    );
    assert_eq!(
        names(s.list_rooms(Some("ann")).await.expect("list")),
        ["dm:ann:bob", "pub-a", "pub-b", "secret"]
    );
    assert_eq!(
        names(s.list_rooms(Some("bob")).await.expect("list")),
        ["dm:ann:bob", "pub-a", "pub-b"]
    );
    assert_eq!(
        names(s.list_rooms(Some("eve")).await.expect("list")),
        ["pub-a", "pub-b"]
    );
}

/// Memberships are idempotent, keep their role, and are counted.
pub async fn memberships(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    s.add_member("r", "bob", Role::Member).await.expect("add");
    s.add_member("r", "ann", Role::Owner).await.expect("add");
    s.add_member("r", "ann", Role::Member)
        .await
        .expect("add again");
    let members = s.members("r").await.expect("members");
    let view: Vec<_> = members.iter().map(|m| (m.user.as_str(), m.role)).collect();
    assert_eq!(view, [("ann", Role::Owner), ("bob", Role::Member)]);
    assert_eq!(s.room("r").await.expect("room").expect("exists").members, 2);
    assert_eq!(
        s.member("r", "ann").await.expect("member").map(|m| m.role),
        Some(Role::Owner)
    );
    s.remove_member("r", "ann").await.expect("remove");
    s.remove_member("r", "ann").await.expect("remove again");
    assert!(s.member("r", "ann").await.expect("member").is_none());
    assert_eq!(s.room("r").await.expect("room").expect("exists").members, 1);
    let err = s
        .add_member("ghost", "ann", Role::Member)
        .await
        .expect_err("unknown room");
    assert!(matches!(err, Error::UnknownRoom(_)), "{err:?}");
}

/// A custom kind and its data are stored and read back exactly (history, single reads, a
/// duplicate nonce's original), and a message without data reads back without.
pub async fn custom_kinds_and_data_round_trip(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "shop", RoomKind::Public).await;
    let plain = append(&s, msg("shop", "ann", "plain", None)).await;
    let stored = append(&s, new_card("shop", "system", 7, Some("order-7-shipped"))).await;
    assert_eq!(stored.kind, MessageKind::Custom("test.card".into()));
    assert_eq!(stored.data, Some(card(7)));
    let mut empty = new_card("shop", "system", 8, None);
    empty.data = Some(crate::protocol::Data::new());
    let empty = append(&s, empty).await;
    let page = s
        .history("shop", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert_eq!(page.messages, vec![plain.clone(), stored.clone(), empty]);
    assert_eq!(page.messages[0].data, None);
    assert_eq!(page.messages[0].kind, MessageKind::Text);
    assert_eq!(
        page.messages[2].data,
        Some(crate::protocol::Data::new()),
        "an empty object stays an empty object, not absent"
    );
    let retry = s
        .append(new_card("shop", "system", 99, Some("order-7-shipped")))
        .await
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!(
        retry.message, stored,
        "the original's data, not the retry's"
    );
    let after = s
        .history("shop", HistoryQuery::after(1, 10))
        .await
        .expect("history after");
    assert_eq!(after.messages[0], stored);
}

/// Names and text with quotes, wildcards, NUL, emoji, RTL and great length are stored and
/// read back exactly, never interpreted.
pub async fn hostile_strings_round_trip(f: &impl StoreFactory) {
    let s = f.open().await;
    let long = "ž".repeat(4000);
    let names = [
        "it's",
        "\"quoted\"",
        "100%_off",
        "%",
        "_",
        "a\\b",
        "nul\0byte",
        "🦀🚀",
        "שלום",
        "x'; DROP TABLE messages; --",
    ];
    for (i, name) in names.iter().enumerate() {
        room(&s, name, RoomKind::Public).await;
        s.add_member(name, name, Role::Member).await.expect("add");
        let text = format!("{name} | {long} | \0 | \u{202E}rtl\u{202C} | {i}");
        let stored = append(&s, msg(name, name, &text, Some(name))).await;
        assert_eq!(stored.seq, 1);
        let page = s
            .history(name, HistoryQuery::latest(5))
            .await
            .expect("history");
        assert_eq!(page.messages.len(), 1, "room {name:?}");
        assert_eq!(page.messages[0].text, text);
        assert_eq!(page.messages[0].sender, *name);
        assert_eq!(page.messages[0].room, *name);
        assert_eq!(page.messages[0].nonce.as_deref(), Some(*name));
        let rec = s.room(name).await.expect("room").expect("exists");
        assert_eq!(rec.name, *name);
        assert_eq!(s.members(name).await.expect("members")[0].user, *name);
    }
    // `%` and `_` must not act as wildcards anywhere.
    assert!(s.room("100%").await.expect("room").is_none());
    assert!(s.room("a").await.expect("room").is_none());
    assert_eq!(s.list_rooms(None).await.expect("list").len(), names.len());
}

/// Every query word must match, case-insensitively; newest first; room filter and limit.
pub async fn search_finds_words(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "a", RoomKind::Public).await;
    room(&s, "b", RoomKind::Public).await;
    append(&s, msg("a", "ann", "The quick brown fox", None)).await;
    append(&s, msg("a", "ann", "a lazy dog", None)).await;
    append(&s, msg("b", "bob", "quick thinking, Brown!", None)).await;
    append(&s, msg("b", "bob", "nothing here", None)).await;
    let q = |room: Option<&str>, text: &str, limit| SearchQuery {
        room: room.map(str::to_owned),
        text: text.to_owned(),
        limit,
    };
    let hits = s.search(q(None, "QUICK brown", 10)).await.expect("search");
    let found: Vec<_> = hits.iter().map(|m| (m.room.as_str(), m.seq)).collect();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&("a", 1)) && found.contains(&("b", 1)));
    assert!(hits[0].ts >= hits[1].ts, "newest first");
    let hits = s.search(q(Some("a"), "quick", 10)).await.expect("search");
    assert_eq!(seqs(&hits), vec![1]);
    let hits = s.search(q(None, "quick", 1)).await.expect("search");
    assert_eq!(hits.len(), 1);
    let hits = s.search(q(None, "fox dog", 10)).await.expect("search");
    assert!(hits.is_empty(), "every word must match");
    let hits = s.search(q(None, "zebra", 10)).await.expect("search");
    assert!(hits.is_empty());
}

/// A query with no words is a `BadQuery` error.
pub async fn search_rejects_nothing_to_find(f: &impl StoreFactory) {
    let s = f.open().await;
    for text in ["", "   ", "\"*()"] {
        let err = s
            .search(SearchQuery {
                room: None,
                text: text.into(),
                limit: 10,
            })
            .await
            .expect_err("nothing to search for");
        assert!(matches!(err, Error::BadQuery(_)), "{text:?}: {err:?}");
    }
}

/// Query syntax of the backend never leaks through: hostile queries find plain words.
pub async fn search_survives_hostile_queries(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    append(&s, msg("r", "ann", "near the OR gate, not AND", None)).await;
    for text in [
        "\"near",
        "near*",
        "NEAR(near gate)",
        "near OR",
        "-near",
        "near:gate",
        "(((gate",
        "gate' OR '1'='1",
        "not AND",
        "%gate_",
    ] {
        let hits = s
            .search(SearchQuery {
                room: None,
                text: text.into(),
                limit: 10,
            })
            .await;
        match hits {
            Ok(hits) => assert!(hits.len() <= 1, "{text:?}"),
            Err(e) => assert!(matches!(e, Error::BadQuery(_)), "{text:?}: {e:?}"),
        }
    }
    let hits = s
        .search(SearchQuery {
            room: None,
            text: "NEAR(near gate)".into(),
            limit: 10,
        })
        .await
        .expect("words only");
    assert_eq!(hits.len(), 1, "operators are plain words: near, near, gate");
}

/// Read positions start at 0 and never move backwards.
pub async fn read_positions_never_move_back(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 0);
    s.set_read("r", "ann", 5).await.expect("set");
    s.set_read("r", "ann", 3).await.expect("set");
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 5);
    s.set_read("r", "ann", 9).await.expect("set");
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 9);
    assert_eq!(s.read_position("r", "bob").await.expect("read"), 0);
}

/// `close` commits what was queued before it; appends after it fail.
pub async fn close_commits_queued_appends(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    let pending: Vec<_> = (0..200)
        .map(|i| s.append(msg("r", "ann", &format!("{i}"), None)))
        .collect();
    s.close().await.expect("close");
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(
            p.await.expect("queued before close").message.seq,
            i as u64 + 1
        );
    }
    assert!(s.append(msg("r", "ann", "late", None)).await.is_err());
    s.close().await.expect("close is idempotent");
    if let Some(again) = f.reopen().await {
        assert_eq!(again.last_seq("r").await.expect("last_seq"), 200);
    }
}

/// Everything acknowledged survives close and reopen, and seq continues without a gap.
pub async fn durable_across_reopen(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Private).await;
    s.add_member("r", "ann", Role::Owner).await.expect("add");
    s.set_read("r", "ann", 2).await.expect("set");
    fill(&s, "r", 3).await;
    let nonced = append(&s, new_card("r", "ann", 3, Some("k"))).await;
    s.close().await.expect("close");
    drop(s);
    let s = f.reopen().await.expect(
        "reopen gave no store: a store that is not durable runs store_contract_tests!(volatile: …)",
    );
    assert_eq!(s.last_seq("r").await.expect("last_seq"), 4);
    let rec = s.room("r").await.expect("room").expect("exists");
    assert_eq!(
        (rec.kind, rec.members, rec.last_seq),
        (RoomKind::Private, 1, 4)
    );
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 2);
    let retry = s
        .append(msg("r", "ann", "keep", Some("k")))
        .await
        .expect("retry");
    assert_eq!(retry.message.data, Some(card(3)), "data survives a restart");
    assert!(retry.duplicate, "nonces survive a restart");
    assert_eq!(retry.message, nonced);
    assert_eq!(append(&s, msg("r", "ann", "next", None)).await.seq, 5);
}
