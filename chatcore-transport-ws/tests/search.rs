//! `GET /api/search` and the REST room list's badges over real sockets (issue #13).

use chatcore::Hub;
use chatcore::protocol::{Command, RoomKind};
use chatcore::store::Role;
use chatcore_testkit::*;

async fn server() -> TestServer {
    TestServer::with(Hub::builder().authenticator(jwt(true)), ws_config()).await
}

fn texts(r: &HttpResponse) -> Vec<String> {
    r.json()["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["message"]["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn search_sees_only_readable_rooms_and_pages() {
    let server = server().await;
    server
        .hub
        .create_room("secret", RoomKind::Private)
        .await
        .expect("room");
    server
        .hub
        .add_member("secret", "ann", Role::Member)
        .await
        .expect("member");
    let mut ann = Probe::with_token(&server, "ann").await;
    ann.join("secret").await;
    ann.join("general").await;
    // Milliseconds apart, so newest-first is the order written (equal times order by seq,
    // then room name).
    for (room, text) in [
        ("secret", "plans for the heist"),
        ("general", "heist movie tonight"),
        ("general", "another heist film"),
    ] {
        ann.say(room, text).await;
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }

    // Anonymous and outsiders: public hits only; the private room they name is unknown to
    // them, as a room that does not exist.
    let r = get(server.addr, "/api/search?q=heist").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(texts(&r), ["another heist film", "heist movie tonight"]);
    assert_eq!(
        r.json()["hits"][0]["highlights"],
        serde_json::json!([[8, 13]])
    );
    let r = get_as(server.addr, "/api/search?q=plans", &token("eve")).await;
    assert_eq!((r.status, texts(&r).len()), (200, 0));
    let r = get(server.addr, "/api/search?q=plans&room=secret").await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_room"));
    let r = get_as(
        server.addr,
        "/api/search?q=plans&room=secret",
        &token("eve"),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_room"));

    // The member finds all three; one per page, following `next`.
    let mut seen = Vec::new();
    let mut path = "/api/search?q=HEIST&limit=1".to_owned();
    loop {
        let r = get_as(server.addr, &path, &token("ann")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(texts(&r));
        match r.json()["next"].as_str() {
            Some(next) => path = format!("/api/search?q=HEIST&limit=1&before={}", urlencode(next)),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "another heist film",
            "heist movie tonight",
            "plans for the heist"
        ]
    );
}

#[tokio::test]
async fn hostile_search_queries_are_refused_cleanly() {
    let server = server().await;
    let mut ann = Probe::guest(&server, "ann").await;
    ann.join("general").await;
    ann.say("general", "quoted \"words\" or not").await;
    let long = "a".repeat(10 * 1024);
    for (query, code) in [
        ("", "bad_query"),
        ("?q=", "bad_query"),
        ("?q=%22", "bad_query"),
        ("?q=%00", "bad_query"),
        ("?q=*%20(%22%20-", "bad_query"),
        (&format!("?q={long}") as &str, "bad_query"),
        ("?q=x&before=junk", "bad_query"),
        ("?q=x&limit=-1", "bad_request"),
    ] {
        let r = get(server.addr, &format!("/api/search{query}")).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, code),
            "{query}: {}",
            r.body
        );
    }
    let r = get(server.addr, "/api/search?q=%22words%22%20OR").await;
    assert_eq!(texts(&r), ["quoted \"words\" or not"]);
    still_serves(&server).await;
}

#[tokio::test]
async fn rest_room_list_carries_the_callers_badges() {
    let server = server().await;
    let mut ann = Probe::with_token(&server, "ann").await;
    let mut bob = Probe::with_token(&server, "bob").await;
    ann.join("general").await;
    bob.join("general").await;
    ann.say("general", "hello @bob").await;
    let seq = ann.say("general", "second").await;
    let badges = |r: HttpResponse| {
        let room = r.json()["rooms"][0].clone();
        (room["unread"].as_u64(), room["mentions"].as_u64())
    };
    let r = get_as(server.addr, "/api/rooms", &token("bob")).await;
    assert_eq!(badges(r), (Some(2), Some(1)));
    let r = get_as(server.addr, "/api/rooms", &token("ann")).await;
    assert_eq!(badges(r), (Some(0), Some(0)), "own messages never count");
    let id = bob
        .request(Command::Read {
            room: "general".into(),
            seq,
        })
        .await;
    bob.reply(id).await;
    let r = get_as(server.addr, "/api/rooms", &token("bob")).await;
    assert_eq!(badges(r), (Some(0), Some(0)));
}

/// Percent-encodes a cursor for a query string.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
