//! PostgreSQL-specific behaviour beyond the shared contract: several nodes on one schema,
//! batching, NUL storage, migrations, plans and errors.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL` (except `unreachable_server_is_one_clear_line`).

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use chatcore::Error;
use chatcore::protocol::RoomKind;
use chatcore::store::{HistoryQuery, MAX_PAGE, NewRoom, Role, SearchQuery, Store};
use chatcore_store_postgres::{PostgresConfig, PostgresStore, SCHEMA_VERSION};
use chatcore_testkit::fixtures::{card, create_room, new_card, new_message as msg};
use common::PgFactory;

macro_rules! factory {
    () => {
        match PgFactory::new().await {
            Some(f) => f,
            None => return,
        }
    };
}

async fn room(store: &impl Store, name: &str) {
    create_room(store, name, RoomKind::Public).await;
}

/// Three nodes (separate stores and pools) write the same rooms at once, many appends in
/// flight each: every room still gets 1..=n, and each writer's messages keep their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_one_gapless_sequence() {
    let f = factory!();
    let nodes: Vec<Arc<PostgresStore>> = vec![
        Arc::new(f.store().await),
        Arc::new(f.store().await),
        Arc::new(f.store().await),
    ];
    let rooms = ["r0", "r1", "r2"];
    for r in rooms {
        room(&*nodes[0], r).await;
    }
    let writers_per_node = 4;
    let each = 150;
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for w in 0..writers_per_node {
            let node = Arc::clone(node);
            tasks.push(tokio::spawn(async move {
                let sender = format!("n{n}w{w}");
                // Queue everything first (many in flight), then await in order.
                let pending: Vec<_> = (0..each)
                    .map(|i| {
                        node.append(msg(rooms[i % rooms.len()], &sender, &i.to_string(), None))
                    })
                    .collect();
                let mut got = Vec::new();
                for p in pending {
                    let m = p.await.expect("append").message;
                    got.push((m.room, m.seq));
                }
                got
            }));
        }
    }
    let mut per_room: HashMap<String, Vec<u64>> = HashMap::new();
    for t in tasks {
        let got = t.await.expect("writer");
        let mut last: HashMap<&str, u64> = HashMap::new();
        for (r, seq) in &got {
            let prev = last.insert(r, *seq).unwrap_or(0);
            assert!(*seq > prev, "a writer's messages to {r} keep their order");
        }
        for (r, seq) in got {
            per_room.entry(r).or_default().push(seq);
        }
    }
    let total: usize = per_room.values().map(Vec::len).sum();
    assert_eq!(total, nodes.len() * writers_per_node * each);
    for (r, mut seqs) in per_room {
        seqs.sort_unstable();
        let n = seqs.len() as u64;
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "room {r} is gapless");
        for node in &nodes {
            assert_eq!(node.last_seq(&r).await.expect("last_seq"), n);
        }
        let page = nodes[1]
            .history(&r, HistoryQuery::after(0, MAX_PAGE))
            .await
            .expect("history");
        assert_eq!(page.messages.len() as u64, n);
        assert!(page.messages.iter().zip(1..).all(|(m, s)| m.seq == s));
    }
    for node in &nodes {
        node.close().await.expect("close");
    }
}

/// The same (sender, nonce) sent through several nodes to different rooms at once is stored
/// once; everyone gets the original, and no seq is burned anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_races_across_nodes_store_once() {
    let f = factory!();
    let nodes = [f.store().await, f.store().await, f.store().await];
    let rooms = ["a", "b", "c", "d"];
    for r in rooms {
        room(&nodes[0], r).await;
    }
    for round in 0..10 {
        let nonce = format!("retry-{round}");
        let pending: Vec<_> = (0..12)
            .map(|i| {
                nodes[i % nodes.len()].append(msg(rooms[i % rooms.len()], "ann", "x", Some(&nonce)))
            })
            .collect();
        let mut originals = 0;
        let mut stored = Vec::new();
        for p in pending {
            let a = p.await.expect("append");
            originals += usize::from(!a.duplicate);
            stored.push((a.message.room, a.message.seq, a.message.id));
        }
        assert_eq!(originals, 1, "round {round}: exactly one original");
        stored.dedup();
        assert_eq!(stored.len(), 1, "round {round}: everyone sees the original");
    }
    let mut total = 0;
    for r in rooms {
        let last = nodes[2].last_seq(r).await.expect("last_seq");
        let page = nodes[2]
            .history(r, HistoryQuery::after(0, 100))
            .await
            .expect("history");
        assert!(page.messages.iter().zip(1..).all(|(m, s)| m.seq == s));
        assert_eq!(page.messages.len() as u64, last, "room {r} has no gap");
        total += last;
    }
    assert_eq!(total, 10, "one message per round");
}

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

/// Batches after a nonce conflict that look nonces up (`LOOKUP_BATCHES` in `src/writer.rs`).
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

/// NUL in every kind of string is stored and read back exactly; only bodies with NUL keep an
/// exact copy; the words around a NUL are searchable.
#[tokio::test]
async fn nul_round_trips_everywhere() {
    let f = factory!();
    let store = f.store().await;
    let name = "r\0oom";
    let rec = store
        .create_room(NewRoom {
            name: name.into(),
            kind: RoomKind::Private,
            creator: "cre\0ator".into(),
            created: 5,
        })
        .await
        .expect("create");
    assert_eq!(
        (rec.name.as_str(), rec.creator.as_str()),
        (name, "cre\0ator")
    );
    // A room whose name differs only after the NUL is a different room.
    room(&store, "r").await;
    store
        .add_member(name, "us\0er", Role::Moderator)
        .await
        .expect("add");
    let mut m = msg(name, "se\0nder", "\0lead\0ing and trail\0", Some("no\0nce"));
    m.id = "id\0".into();
    let stored = store.append(m.clone()).await.expect("append").message;
    assert_eq!(stored.text, m.text);
    let page = store
        .history(name, HistoryQuery::latest(10))
        .await
        .expect("history");
    let got = &page.messages[0];
    assert_eq!(
        (
            got.room.as_str(),
            got.id.as_str(),
            got.sender.as_str(),
            got.text.as_str()
        ),
        (name, "id\0", "se\0nder", m.text.as_str())
    );
    assert_eq!(got.nonce.as_deref(), Some("no\0nce"));
    let retry = store.append(m.clone()).await.expect("retry");
    assert!(retry.duplicate);
    assert_eq!(&retry.message, got);
    let members = store.members(name).await.expect("members");
    assert_eq!(members[0].user, "us\0er");
    assert!(store.member(name, "us").await.expect("member").is_none());
    assert_eq!(
        store.list_rooms(Some("us\0er")).await.expect("list")[..]
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["r", name],
        "byte order: \"r\" sorts before \"r\\0oom\""
    );
    store.set_read(name, "us\0er", 1).await.expect("set_read");
    assert_eq!(store.read_position(name, "us\0er").await.expect("read"), 1);
    assert_eq!(store.read_position(name, "us").await.expect("read"), 0);
    for word in ["lead", "ing", "TRAIL"] {
        let hits = store
            .search(SearchQuery {
                room: Some(name.into()),
                text: word.into(),
                limit: 10,
            })
            .await
            .expect("search");
        assert_eq!(hits.len(), 1, "{word}");
        assert_eq!(hits[0].text, m.text);
    }
    store
        .append(msg("r", "ann", "plain", None))
        .await
        .expect("append");
    let raw = f.raw().await;
    let rows = raw
        .query(
            "SELECT body, body_exact IS NULL FROM messages ORDER BY body",
            &[],
        )
        .await
        .expect("rows");
    let bodies: Vec<(String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        bodies,
        [
            (" lead ing and trail ".to_owned(), false),
            ("plain".to_owned(), true)
        ]
    );
}

/// A fresh schema is created at the current version; reopening changes nothing; a newer
/// version is refused; nodes starting at once migrate once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_versioned() {
    let f = factory!();
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let config = f.config();
            tokio::spawn(async move { PostgresStore::connect(config).await })
        })
        .collect();
    for o in opens {
        o.await.expect("task").expect("concurrent open");
    }
    let raw = f.raw().await;
    let version: i64 = raw
        .query_one("SELECT version FROM chatcore_schema", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    let store = f.store().await;
    assert_eq!(store.schema(), f.schema);
    store.ping().await.expect("ping");
    let count: i64 = raw
        .query_one("SELECT count(*) FROM chatcore_schema", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 1);

    raw.execute(
        "UPDATE chatcore_schema SET version = $1",
        &[&(SCHEMA_VERSION + 1)],
    )
    .await
    .expect("bump");
    let err = PostgresStore::connect(f.config())
        .await
        .expect_err("newer schema");
    match err {
        Error::SchemaTooNew { found, supported } => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// A version-1 schema (nonce index on `(sender, nonce)`, before issues #12 and #13) is
/// upgraded in place: every stored message comes back intact, the index leads with the
/// nonce afterwards, and stored nonces still answer with their original.
#[tokio::test]
async fn version_1_schemas_are_upgraded() {
    let f = factory!();
    let store = f.store().await;
    room(&store, "r").await;
    let original = store
        .append(msg("r", "ann", "first", Some("n-1")))
        .await
        .expect("append");
    for text in [
        "second",
        "ünïcode 🎉",
        "quote ' and \" and \\",
        "nul \0 inside",
    ] {
        store
            .append(msg("r", "bob", text, None))
            .await
            .expect("append");
    }
    let before = store
        .history("r", HistoryQuery::latest(100))
        .await
        .expect("history");
    assert_eq!(before.messages.len(), 5);
    store.close().await.expect("close");
    let raw = f.raw().await;
    raw.batch_execute(
        "ALTER TABLE rooms DROP COLUMN description, DROP COLUMN deleted;
         DROP TABLE room_bans, room_mutes, room_invites, room_audit, user_blocks;
         DROP TABLE reactions;
         DROP INDEX messages_by_reply;
         DROP INDEX messages_by_target;
         ALTER TABLE messages DROP COLUMN edited_ts, DROP COLUMN deleted_by,
             DROP COLUMN deleted_ts;
         ALTER TABLE messages DROP COLUMN target, DROP COLUMN moderation, DROP COLUMN mentions;
         DROP TABLE refresh_tokens;
         DROP TABLE account_sessions;
         DROP TABLE accounts;
         DROP TABLE invites;
         ALTER TABLE messages DROP COLUMN data;
         DROP TABLE stream_cursors;
         DROP TABLE stream_leases;
         DROP TABLE message_search;
         DROP TABLE search_progress;
         CREATE INDEX messages_search ON messages USING GIN (search);
         DROP INDEX messages_nonce_sender;
         CREATE UNIQUE INDEX messages_sender_nonce ON messages (sender, nonce)
             WHERE nonce IS NOT NULL;
         UPDATE chatcore_schema SET version = 1;",
    )
    .await
    .expect("back to version 1");

    let store = f.store().await;
    let version: i64 = raw
        .query_one("SELECT version FROM chatcore_schema", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    let after = store
        .history("r", HistoryQuery::latest(100))
        .await
        .expect("history");
    assert_eq!(after.messages, before.messages, "every message intact");
    let room = store.room("r").await.expect("room").expect("r");
    assert_eq!((room.last_seq, room.description), (5, None));
    // The upgraded schema keeps accounts too.
    use chatcore::accounts::{Accounts, Created, NewAccount};
    let created = store
        .create_account(NewAccount::new("Ann", "hash"), None)
        .await
        .expect("account");
    assert!(matches!(created, Created::Created(_)), "{created:?}");
    let ann = store.account("ann").await.expect("a").expect("ann");
    assert_eq!(ann.name, "Ann");
    let indexes: Vec<String> = raw
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname LIKE 'messages_%nonce%'",
            &[],
        )
        .await
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(indexes.len(), 1, "{indexes:?}");
    assert!(
        indexes[0].contains("messages_nonce_sender") && indexes[0].contains("(nonce, sender)"),
        "{indexes:?}"
    );
    let found = store
        .search(SearchQuery {
            room: None,
            text: "first".into(),
            limit: 10,
        })
        .await
        .expect("search");
    assert_eq!(
        found,
        std::slice::from_ref(&original.message),
        "old messages stay searchable"
    );
    let retry = store
        .append(msg("r", "ann", "first again", Some("n-1")))
        .await
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!(retry.message, original.message);
    assert_eq!(retry.message.data, None, "old messages have no data");
    let next = store
        .append(new_card("r", "ann", 2, Some("n-2")))
        .await
        .expect("append");
    assert_eq!(next.message.seq, 6);
    let page = store
        .history("r", HistoryQuery::latest(10))
        .await
        .expect("history");
    let data: Vec<_> = page.messages.iter().map(|m| m.data.clone()).collect();
    assert_eq!(data[5], Some(card(2)), "new messages keep their data");
    assert!(
        data[..5].iter().all(Option::is_none),
        "old messages have no data"
    );
    // A message from before the upgrade takes changes like a new one.
    let mut edit = msg("r", "ann", "first edited", None);
    edit.kind = chatcore::protocol::MessageKind::Edit;
    edit.target = Some(1);
    store.append(edit).await.expect("edit an old message");
    let mut react = msg("r", "bob", "👍", None);
    react.kind = chatcore::protocol::MessageKind::React;
    react.target = Some(1);
    store.append(react).await.expect("react to an old message");
    let page = store
        .history_current("r", HistoryQuery::after(0, 1), Some("bob"))
        .await
        .expect("current page");
    let old = &page.messages[0];
    assert_eq!(
        (old.text.as_str(), old.id.as_str()),
        ("first edited", original.message.id.as_str())
    );
    assert_eq!(old.reactions.len(), 1);
    assert!(old.reactions[0].me);
    // And takes moderation events after the messages it kept, with their audit rows.
    use chatcore::store::RoomAuthority;
    let ban = chatcore::testing::moderation::event(
        "r",
        "ann",
        chatcore::protocol::MessageKind::Ban,
        chatcore::protocol::Moderation::on("bob"),
    );
    let head = store.last_seq("r").await.expect("last_seq");
    assert_eq!(
        store.moderate(ban).await.expect("ban").message.seq,
        head + 1
    );
    assert_eq!(store.audit("r", None, 10).await.expect("audit").len(), 1);
}

/// A search finds what another node acknowledged just before, though no indexer had run
/// for it yet: the search indexes lagging rooms itself first.
#[tokio::test]
async fn search_sees_what_another_node_acknowledged() {
    let f = factory!();
    let (a, b) = (f.store().await, f.store().await);
    room(&a, "r").await;
    let stored = a
        .append(msg("r", "ann", "needle in a haystack", None))
        .await
        .expect("append");
    let found = b
        .search(SearchQuery {
            room: None,
            text: "needle".into(),
            limit: 10,
        })
        .await
        .expect("search");
    assert_eq!(found, [stored.message]);
}

/// Three nodes append to the same rooms while their indexers and searches run: every
/// message lands in the search index exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_index_each_message_once() {
    let f = factory!();
    let nodes = [f.store().await, f.store().await, f.store().await];
    let rooms = ["r0", "r1"];
    for r in rooms {
        room(&nodes[0], r).await;
    }
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        let node = node.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..5 {
                let pending: Vec<_> = (0..200)
                    .map(|i| {
                        let text = format!("common n{n} r{round} i{i}");
                        node.append(msg(rooms[i % rooms.len()], "ann", &text, None))
                    })
                    .collect();
                for p in pending {
                    p.await.expect("append");
                }
                // Searches index too, racing the background indexers.
                node.search(SearchQuery {
                    room: None,
                    text: "common".into(),
                    limit: 1,
                })
                .await
                .expect("search");
            }
        }));
    }
    for t in tasks {
        t.await.expect("node");
    }
    let hits = nodes[1]
        .search(SearchQuery {
            room: None,
            text: "common".into(),
            limit: MAX_PAGE,
        })
        .await
        .expect("search");
    assert_eq!(hits.len(), MAX_PAGE as usize);
    let raw = f.raw().await;
    let row = raw
        .query_one(
            "SELECT count(*), count(DISTINCT (room_id, seq)) FROM message_search",
            &[],
        )
        .await
        .expect("count");
    let (rows, distinct): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!((rows, distinct), (3000, 3000), "every message indexed once");
}

/// Without any search, the node's indexer fills the search index behind the appends.
#[tokio::test]
async fn the_indexer_fills_the_index_behind_the_appends() {
    let f = factory!();
    let store = f.store().await;
    room(&store, "r").await;
    let pending: Vec<_> = (0..100)
        .map(|i| store.append(msg("r", "ann", &format!("word{i}"), None)))
        .collect();
    for p in pending {
        p.await.expect("append");
    }
    let raw = f.raw().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let indexed: i64 = raw
            .query_one("SELECT count(*) FROM message_search", &[])
            .await
            .expect("count")
            .get(0);
        let progress: i64 = raw
            .query_one("SELECT seq FROM search_progress", &[])
            .await
            .expect("progress")
            .get(0);
        if indexed == 100 && progress == 100 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "indexed {indexed}, progress {progress}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// History pages are served by the primary key, and search by its GIN index, also with the
/// generic plans prepared statements end up using.
#[tokio::test]
async fn queries_use_the_indexes() {
    let f = factory!();
    let store = f.store().await;
    for r in ["a", "b"] {
        room(&store, r).await;
    }
    let pending: Vec<_> = (0..4000)
        .map(|i| {
            store.append(msg(
                ["a", "b"][i % 2],
                "ann",
                &format!("word{i} common"),
                None,
            ))
        })
        .collect();
    for p in pending {
        p.await.expect("append");
    }
    let raw = f.raw().await;
    raw.batch_execute("ANALYZE; SET plan_cache_mode = force_generic_plan")
        .await
        .expect("analyze");
    let plan = |sql: String| {
        let raw = &raw;
        async move {
            raw.query(&sql, &[])
                .await
                .expect("explain")
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    for order in ["DESC", "ASC"] {
        raw.batch_execute(&format!(
            "DEALLOCATE ALL; PREPARE h(bytea, bigint, bigint, bigint) AS \
             SELECT m.seq, m.id, m.sender, m.kind, m.body, m.body_exact, m.ts, m.nonce, m.reply_to \
             FROM messages m WHERE m.room_id = (SELECT id FROM rooms WHERE name = $1) \
             AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq {order} LIMIT $4"
        ))
        .await
        .expect("prepare");
        let p = plan("EXPLAIN EXECUTE h('a'::bytea, 0, 9223372036854775807, 51)".into()).await;
        assert!(
            p.contains("Index Scan") && p.contains("messages_pkey"),
            "{order}:\n{p}"
        );
        assert!(!p.contains("Sort"), "{order}: no sort needed:\n{p}");
    }
    raw.batch_execute("SET enable_seqscan = off")
        .await
        .expect("set");
    let p = plan(
        "EXPLAIN SELECT m.seq FROM message_search s \
         JOIN messages m ON m.room_id = s.room_id AND m.seq = s.seq \
         WHERE s.search @@ $$'word7'$$::text::tsquery ORDER BY m.ts DESC LIMIT 10"
            .into(),
    )
    .await;
    assert!(
        p.contains("message_search_words"),
        "search uses the GIN index:\n{p}"
    );
    let hits = store
        .search(SearchQuery {
            room: None,
            text: "WORD7".into(),
            limit: 10,
        })
        .await
        .expect("search");
    assert_eq!(hits.len(), 1);
}

/// Opening against a server that is not there fails with one line that says what to do.
#[tokio::test]
async fn unreachable_server_is_one_clear_line() {
    let config = PostgresConfig::new("postgres://chat:secret@127.0.0.1:1/chat");
    let err = PostgresStore::connect(config)
        .await
        .expect_err("nothing listens on port 1");
    let text = err.to_string();
    eprintln!("{text}");
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(
        text.contains("cannot reach PostgreSQL at 127.0.0.1:1/chat"),
        "{text}"
    );
    assert!(
        text.contains("is it running? check the --store URL"),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    assert!(!text.contains("secret"), "never print the password: {text}");
    let bad = PostgresStore::connect(PostgresConfig::new("postgres://[::1")).await;
    assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
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

/// Two nodes (two stores on one database) writing changes to one room at once: the room's
/// seq stays gapless, and the rules hold across the nodes (of one user's identical
/// reactions sent through both, exactly one is stored; of two deletes of one message, one).
#[tokio::test]
async fn two_nodes_changing_one_room_keep_seq_gapless_and_rules() {
    use chatcore::protocol::MessageKind;
    let f = factory!();
    let (a, b) = (Arc::new(f.store().await), Arc::new(f.store().await));
    room(a.as_ref(), "r").await;
    for i in 0..10 {
        a.append(msg("r", "ann", &format!("message {i}"), None))
            .await
            .expect("append");
    }
    let change = |sender: &str, kind: MessageKind, target: u64, text: &str| {
        let mut m = msg("r", sender, text, None);
        m.kind = kind;
        m.target = Some(target);
        m
    };
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let node = if i % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        let target = i % 10 + 1;
        let same = change("dup", MessageKind::React, 1, "👍");
        let mine = change(&format!("u{i}"), MessageKind::React, target, "🎉");
        let gone = change("ann", MessageKind::Delete, 10, "");
        tasks.push(tokio::spawn(async move {
            let (same, mine, gone) =
                tokio::join!(node.append(same), node.append(mine), node.append(gone));
            // A refusal is the rule's `invalid`, never a failed write.
            for refused in [&same, &mine, &gone]
                .into_iter()
                .filter_map(|r| r.as_ref().err())
            {
                assert_eq!(refused.code(), chatcore::ErrorCode::Invalid, "{refused}");
            }
            (same.is_ok(), (target, mine.is_ok()), gone.is_ok())
        }));
    }
    let (mut same, mut gone, mut mine) = (0, 0, 0);
    for t in tasks {
        let (s, (target, m), g) = t.await.expect("task");
        // Message 10 is deleted meanwhile: a reaction to it may come before or after.
        assert!(m || target == 10, "a user's first reaction is stored");
        same += usize::from(s);
        gone += usize::from(g);
        mine += u64::from(m);
    }
    assert_eq!((same, gone), (1, 1), "one identical reaction, one delete");
    let page = a
        .history("r", HistoryQuery::after(0, 1000))
        .await
        .expect("history");
    let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=10 + mine + 2).collect::<Vec<u64>>(), "gapless");
    let current = b
        .history_current("r", HistoryQuery::after(0, 10), None)
        .await
        .expect("current");
    let reacted: u64 = current
        .messages
        .iter()
        .flat_map(|m| m.reactions.iter())
        .filter(|r| r.emoji == "🎉")
        .map(|r| r.count)
        .sum();
    assert_eq!(
        reacted, 36,
        "message 10's reactions went with it, or were refused"
    );
}
