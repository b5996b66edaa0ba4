//! PostgreSQL `TEXT` cannot hold NUL: every string with NUL still comes back exactly.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL`.

#[macro_use]
mod common;

use chatcore::protocol::RoomKind;
use chatcore::store::{HistoryQuery, NewRoom, Role, SearchQuery, Store};
use chatcore_testkit::fixtures::new_message as msg;
use common::{PgFactory, room};

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
