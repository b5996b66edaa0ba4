//! Round-trip cases: custom kinds, their data and hostile strings are stored and read back
//! exactly.

use super::helpers::{append, room};
use crate::protocol::{MessageKind, RoomKind};
use crate::store::{HistoryQuery, Role};
use crate::testing::StoreFactory;
use crate::testing::fixtures::{card, new_card, new_message as msg};

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
