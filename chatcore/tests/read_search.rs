//! Issue #13 items 6–8 through the hub, part three: search (paging, highlights, private
//! rooms, hostile queries) and lookup of rooms and users by prefix.

use chatcore::ErrorCode;
use chatcore::protocol::{Command, Event, LookupKind, RoomKind};
use chatcore::store::Role;
use chatcore_testkit::{SessionProbe, memory_hub};

fn search(q: &str, room: Option<&str>, before: Option<String>) -> Command {
    Command::Search {
        q: q.into(),
        room: room.map(str::to_owned),
        before,
        limit: Some(2),
    }
}

#[tokio::test]
async fn search_pages_highlights_and_respects_private_rooms() {
    let hub = memory_hub().await;
    hub.create_room("secret", RoomKind::Private)
        .await
        .expect("room");
    hub.add_member("secret", "ann", Role::Member)
        .await
        .expect("member");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut eve = SessionProbe::connect(&hub, "eve").await;
    ann.join("secret").await;
    ann.join("pub").await;
    ann.send("secret", "the launch code is Banana").await;
    for i in 0..3 {
        ann.send("pub", &format!("banana bread {i}")).await;
    }
    // Eve finds the public hits only, newest first, two per page.
    let id = eve.request(search("BANANA", None, None)).await;
    let Event::SearchResults { hits, next, .. } = eve.reply(id).await else {
        panic!("results")
    };
    let texts: Vec<&str> = hits.iter().map(|h| h.message.text.as_str()).collect();
    assert_eq!(texts, ["banana bread 2", "banana bread 1"]);
    assert_eq!(hits[0].highlights, [[0, 6]]);
    let id = eve.request(search("banana", None, next)).await;
    let Event::SearchResults { hits, next, .. } = eve.reply(id).await else {
        panic!("results")
    };
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].message.text, "banana bread 0");
    assert_eq!(next, None);
    // Nothing of the private room, by word or by naming it.
    let id = eve.request(search("launch code", None, None)).await;
    assert!(matches!(eve.reply(id).await, Event::SearchResults { hits, .. } if hits.is_empty()));
    let id = eve.request(search("launch", Some("secret"), None)).await;
    assert_eq!(eve.error(id).await, ErrorCode::Forbidden);
    // Ann, a member, finds it, with the highlight on the matching word.
    let id = ann.request(search("banana", Some("secret"), None)).await;
    let Event::SearchResults { hits, .. } = ann.reply(id).await else {
        panic!("results")
    };
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].highlights, [[19, 25]]);
}

#[tokio::test]
async fn hostile_search_queries_are_bad_query_and_harmless() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    ann.send("r", "near or not").await;
    let big = "a".repeat(10 * 1024);
    for q in ["", "\"", "*", "((", "\0", "a\0b", big.as_str()] {
        let id = ann.request(search(q, None, None)).await;
        assert_eq!(ann.error(id).await, ErrorCode::BadQuery, "{q:?}");
    }
    // FTS operators are plain words.
    let id = ann.request(search("NEAR OR \"not\"*", None, None)).await;
    assert!(matches!(ann.reply(id).await, Event::SearchResults { hits, .. } if hits.len() == 1));
    let id = ann
        .request(search("x", None, Some("not-a-cursor".into())))
        .await;
    assert_eq!(ann.error(id).await, ErrorCode::BadQuery);
    // The session still works.
    ann.send("r", "still here").await;
}

#[tokio::test]
async fn lookup_finds_rooms_and_users_by_prefix() {
    let hub = memory_hub().await;
    hub.create_room("hidden", RoomKind::Private)
        .await
        .expect("room");
    hub.add_member("hidden", "harriet", Role::Member)
        .await
        .expect("member");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut hal = SessionProbe::connect(&hub, "Hal").await;
    hal.join("help").await;
    ann.join("Hello").await;
    let id = ann
        .request(Command::Lookup {
            what: LookupKind::Rooms,
            prefix: "he".into(),
        })
        .await;
    let Event::Rooms { rooms, .. } = ann.reply(id).await else {
        panic!("rooms")
    };
    let names: Vec<&str> = rooms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Hello", "help"]);
    let id = ann
        .request(Command::Lookup {
            what: LookupKind::Users,
            prefix: "h".into(),
        })
        .await;
    assert_eq!(
        ann.reply(id).await,
        Event::Users {
            id: Some(id),
            users: vec!["Hal".into()]
        }
    );
    for prefix in [String::new(), "\0".into(), "x".repeat(65)] {
        let id = ann
            .request(Command::Lookup {
                what: LookupKind::Rooms,
                prefix,
            })
            .await;
        assert_eq!(ann.error(id).await, ErrorCode::BadQuery);
    }
}
