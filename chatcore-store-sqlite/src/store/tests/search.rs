//! Search: batches across rooms are indexed, the word rules match `MemoryStore`'s, and
//! hostile or huge queries neither break nor hang.

use chatcore::Error;
use chatcore::store::{MemoryStore, SearchQuery, Store};

use super::{Fixture, msg, room};

#[tokio::test]
async fn a_batch_across_rooms_is_searchable() {
    let f = Fixture::new();
    for r in ["a", "b", "c"] {
        room(&f.store, r).await;
    }
    // Interleaved rooms in one transaction: full-text keys arrive out of order and are
    // sorted before they are indexed.
    let pending: Vec<_> = f.gate.held(|| {
        (0..60)
            .map(|i| {
                let r = ["c", "a", "b"][i % 3];
                f.store.append(msg(r, &format!("word{} common", i % 7)))
            })
            .collect()
    });
    for p in pending {
        p.await.expect("append");
    }
    let all = f
        .store
        .search(SearchQuery {
            room: None,
            text: "common".into(),
            limit: 1000,
        })
        .await
        .expect("search");
    assert_eq!(all.len(), 60);
    let some = f
        .store
        .search(SearchQuery {
            room: Some("b".into()),
            text: "COMMON word3".into(),
            limit: 1000,
        })
        .await
        .expect("search");
    // i % 3 == 2 (room b) and i % 7 == 3: i = 17, 38, 59.
    let texts: Vec<_> = some.iter().map(|m| (m.room.as_str(), m.seq)).collect();
    assert_eq!(texts, [("b", 20), ("b", 13), ("b", 6)]);
}

#[tokio::test]
async fn search_matches_the_memory_store_word_rules() {
    let f = Fixture::new();
    let memory = MemoryStore::new();
    let texts = [
        "Straße and STRASSE",
        "café au lait",
        "cafe noir",
        "İstanbul ıstanbul",
        "ÉCOLE école",
        "x1 x2 x_3",
        "don't stop",
        "日本語のテキスト 日本語",
        "emoji 🦀 crab",
        "tab\tseparated\nlines",
        "a\0nul",
        "near OR and NOT",
        "١٢٣ arabic digits",
        "ΣΟΦΟΣ ΑΝΘΡΩΠΟΣ",
    ];
    for store in [&f.store as &dyn Store, &memory as &dyn Store] {
        room(store, "r").await;
        for t in texts {
            store.append(msg("r", t)).await.expect("append");
        }
    }
    let queries = [
        "straße",
        "strasse",
        "cafe",
        "café",
        "CAFÉ",
        "istanbul",
        "i̇stanbul",
        "ıstanbul",
        "école",
        "ecole",
        "x",
        "x_3",
        "3",
        "don",
        "t",
        "日本語",
        "日本語のテキスト",
        "crab 🦀",
        "separated lines tab",
        "nul",
        "a",
        "Or",
        "١٢٣",
        "σοφος",
        "σοφοσ",
        "ΣΟΦΟΣ",
        "ανθρωπος",
    ];
    for q in queries {
        let query = SearchQuery {
            room: None,
            text: q.into(),
            limit: 100,
        };
        let ours: Vec<u64> = f
            .store
            .search(query.clone())
            .await
            .expect("sqlite search")
            .iter()
            .map(|m| m.seq)
            .collect();
        let theirs: Vec<u64> = memory
            .search(query)
            .await
            .expect("memory search")
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(ours, theirs, "query {q:?}");
    }
}

#[tokio::test]
async fn search_survives_hostile_and_huge_queries() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let many: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
    f.store
        .append(msg("r", &many.join(" ")))
        .await
        .expect("append");
    f.store
        .append(msg("r", "a OR b NEAR(c) -x col:val \"quoted\" *"))
        .await
        .expect("append");
    let hostile = [
        "\"",
        "*",
        "NEAR(",
        "a OR",
        "-x",
        ":",
        "(",
        ")",
        "((a)",
        "a)",
        "\"a",
        "a\"b",
        "^a",
        "a + b",
        "col:val",
        "NOT",
        "AND OR NOT",
        "{a b}: c",
        "a*",
        "\0",
    ];
    for q in hostile {
        let result = f
            .store
            .search(SearchQuery {
                room: None,
                text: q.into(),
                limit: 10,
            })
            .await;
        match result {
            Ok(hits) => assert!(hits.len() <= 2, "{q:?}"),
            Err(Error::BadQuery(_)) => {}
            Err(e) => panic!("query {q:?}: {e:?}"),
        }
    }
    // 400 distinct words: far beyond FTS5's expression depth limit if it nested them.
    let hits = f
        .store
        .search(SearchQuery {
            room: Some("r".into()),
            text: many.join(" "),
            limit: 10,
        })
        .await
        .expect("many words");
    assert_eq!(hits.len(), 1);
    // A very long single word.
    let long = "z".repeat(100_000);
    f.store.append(msg("r", &long)).await.expect("append");
    let hits = f
        .store
        .search(SearchQuery {
            room: None,
            text: long,
            limit: 10,
        })
        .await
        .expect("long word");
    assert_eq!(hits.len(), 1);
}
