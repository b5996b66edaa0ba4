//! Search on PostgreSQL: the indexer fills `message_search` behind the appends, every
//! message once across nodes, a search first indexes what any node acknowledged, and
//! history and search use their indexes.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL`.

#[macro_use]
mod common;

use chatcore::store::{MAX_PAGE, SearchQuery, Store};
use chatcore_testkit::fixtures::new_message as msg;
use common::{PgFactory, room};

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
