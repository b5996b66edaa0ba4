//! Search cases: word matching, empty queries and hostile query syntax.

use super::helpers::{append, room, seqs};
use crate::Error;
use crate::protocol::RoomKind;
use crate::store::SearchQuery;
use crate::testing::StoreFactory;
use crate::testing::fixtures::new_message as msg;

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
