//! Room administration over REST, over real sockets (issue #12): `POST /api/rooms`,
//! `DELETE /api/rooms/{room}`, `GET /api/rooms/{room}/members` and `.../audit`, with exact
//! statuses and bodies, hostile input included; private rooms invisible to non-members.

use chatcore::Hub;
use chatcore::protocol::{Event, MessageKind, Moderation};
use chatcore::testing::moderation::event;
use chatcore_testkit::*;
use serde_json::{Value, json};

async fn server() -> TestServer {
    TestServer::with(Hub::builder().authenticator(jwt(true)), ws_config()).await
}

/// `method path` with an optional bearer token and body.
async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> HttpResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a), ("content-type", "application/json")])
        .unwrap_or_else(|| vec![("content-type", "application/json")]);
    http(server.addr, method, path, &headers, body).await
}

fn error(r: &HttpResponse) -> (u16, String, String) {
    let j = r.json();
    (
        r.status,
        j["error"]["code"].as_str().unwrap_or_default().to_owned(),
        j["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn names(r: &HttpResponse) -> Vec<String> {
    r.json()["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect()
}

fn no_such(room: &str) -> (u16, String, String) {
    (404, "unknown_room".into(), format!("no such room: {room}"))
}

#[tokio::test]
async fn rooms_are_created_listed_and_deleted() {
    let server = server().await;
    let ann = token("ann");
    let bob = token("bob");
    let body =
        r#"{"room":"team","kind":"private","topic":"Ship it","description":"The core team"}"#;

    let r = call(&server, "POST", "/api/rooms", None, Some(body)).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    let r = call(&server, "POST", "/api/rooms", Some("forged"), Some(body)).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));

    let r = call(&server, "POST", "/api/rooms", Some(&ann), Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"name": "team", "kind": "private", "topic": "Ship it",
               "description": "The core team", "members": 1, "online": 0, "last_seq": 1,
               "unread": 0, "mentions": 0})
    );
    let r = call(&server, "POST", "/api/rooms", Some(&bob), Some(body)).await;
    assert_eq!(
        error(&r),
        (409, "name_taken".into(), "room name taken: team".into())
    );

    // Hostile and malformed bodies: a clear error, and nothing created.
    let long = format!(
        r#"{{"room":"long","kind":"public","description":"{}"}}"#,
        "d".repeat(501)
    );
    let huge = format!(
        r#"{{"room":"huge","kind":"public","topic":"{}"}}"#,
        "t".repeat(1 << 20)
    );
    for (body, status, code) in [
        ("{not json", 400, "bad_request"),
        (r#"{"room":"x"}"#, 400, "bad_request"),
        (r#"{"room":"x","kind":"weird"}"#, 400, "bad_request"),
        (
            r#"{"room":"x","kind":"public","admin":true}"#,
            400,
            "bad_request",
        ),
        (r#"{"room":"x","kind":"direct"}"#, 400, "invalid"),
        (r#"{"room":"bad name!","kind":"public"}"#, 400, "invalid"),
        (r#"{"room":"","kind":"public"}"#, 400, "invalid"),
        (
            r#"{"room":"x","kind":"public","topic":7}"#,
            400,
            "bad_request",
        ),
        (long.as_str(), 413, "too_large"),
    ] {
        let r = call(&server, "POST", "/api/rooms", Some(&ann), Some(body)).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{}: {}",
            &body[..body.len().min(60)],
            r.body
        );
    }
    let r = call(&server, "POST", "/api/rooms", Some(&ann), Some(&huge)).await;
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(200)]);
    let r = get_as(server.addr, "/api/rooms", &ann).await;
    assert_eq!(names(&r), ["team"], "nothing else was created");

    // Members: for members; a private room is unknown to everyone else.
    let r = get_as(server.addr, "/api/rooms/team/members", &ann).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["room"], "team");
    assert_eq!(
        (
            j["members"][0]["user"].clone(),
            j["members"][0]["role"].clone()
        ),
        (json!("ann"), json!("owner"))
    );
    assert_eq!(j["members"].as_array().map(Vec::len), Some(1));
    for path in [
        "/api/rooms/team",
        "/api/rooms/team/members",
        "/api/rooms/team/audit",
        "/api/rooms/team/messages",
    ] {
        let r = get_as(server.addr, path, &bob).await;
        assert_eq!(error(&r), no_such("team"), "{path}");
    }
    let r = get(server.addr, "/api/rooms/team").await;
    assert_eq!(error(&r), no_such("team"), "anonymous");
    let r = get_as(server.addr, "/api/rooms/nowhere/members", &ann).await;
    assert_eq!(error(&r), no_such("nowhere"));
    let r = get(server.addr, "/api/rooms/team/members").await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    let r = get_as(server.addr, "/api/rooms/bad%20name!/members", &ann).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"));

    // An invitation shows the room to the invitee, marked.
    let invite = event("team", "ann", MessageKind::Invite, Moderation::on("bob"));
    server.hub.store().moderate(invite).await.expect("invite");
    let r = get_as(server.addr, "/api/rooms", &bob).await;
    let listed = r.json()["rooms"].clone();
    assert_eq!(listed[0]["name"], "team");
    assert_eq!(listed[0]["invited"], true);
    assert_eq!(listed[0]["description"], "The core team");
    let r = get_as(server.addr, "/api/rooms", &ann).await;
    assert!(r.json()["rooms"][0].get("invited").is_none(), "{}", r.body);

    // Delete: not by an outsider (it is unknown to them), then by the owner; a member's
    // socket hears of it.
    let mut live = Probe::with_token(&server, "ann").await;
    live.join("team").await;
    let r = call(&server, "DELETE", "/api/rooms/team", Some(&bob), None).await;
    assert_eq!(error(&r), no_such("team"));
    let r = call(&server, "DELETE", "/api/rooms/team", None, None).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    let r = call(&server, "DELETE", "/api/rooms/team", Some(&ann), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let deleted = &r.json()["deleted"];
    assert_eq!(
        (
            deleted["action"].clone(),
            deleted["actor"].clone(),
            deleted["seq"].clone()
        ),
        (json!("delete_room"), json!("ann"), json!(3))
    );
    let notice = live
        .until(|e| matches!(e, Event::RoomDeleted { .. }).then_some(e))
        .await;
    assert_eq!(
        notice,
        Event::RoomDeleted {
            id: None,
            room: "team".into(),
            by: "ann".into()
        }
    );
    live.until(|e| matches!(e, Event::Left { .. }).then_some(()))
        .await;
    for path in [
        "/api/rooms/team",
        "/api/rooms/team/members",
        "/api/rooms/team/messages",
    ] {
        let r = get_as(server.addr, path, &ann).await;
        assert_eq!(error(&r), no_such("team"), "{path}");
    }
    let r = call(&server, "DELETE", "/api/rooms/team", Some(&ann), None).await;
    assert_eq!(error(&r), no_such("team"));
    let r = call(&server, "POST", "/api/rooms", Some(&ann), Some(body)).await;
    assert_eq!(r.status, 409, "a deleted room keeps its name: {}", r.body);
    assert!(names(&get_as(server.addr, "/api/rooms", &ann).await).is_empty());
}

#[tokio::test]
async fn the_audit_log_pages_for_admins_only() {
    let server = server().await;
    let ann = token("ann");
    let r = call(
        &server,
        "POST",
        "/api/rooms",
        Some(&ann),
        Some(r#"{"room":"hall","kind":"public"}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let store = server.hub.store();
    for i in 0..5 {
        let mut topic = event("hall", "ann", MessageKind::Topic, Moderation::default());
        topic.text = format!("topic {i}");
        topic.moderation = None;
        store.moderate(topic).await.expect("topic");
    }
    let seqs = |r: &HttpResponse| -> Vec<u64> {
        r.json()["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["seq"].as_u64().expect("seq"))
            .collect()
    };
    let r = get_as(server.addr, "/api/rooms/hall/audit?limit=2", &ann).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((seqs(&r), r.json()["next"].clone()), (vec![5, 4], json!(4)));
    assert_eq!(r.json()["entries"][0]["action"], "topic");
    assert_eq!(r.json()["entries"][0]["actor"], "ann");
    let r = get_as(server.addr, "/api/rooms/hall/audit?before=4&limit=2", &ann).await;
    assert_eq!((seqs(&r), r.json()["next"].clone()), (vec![3, 2], json!(2)));
    let r = get_as(server.addr, "/api/rooms/hall/audit?before=2&limit=2", &ann).await;
    assert_eq!((seqs(&r), r.json()["next"].clone()), (vec![1], Value::Null));
    for query in ["?limit=abc", "?before=-1", "?before=1.5"] {
        let r = get_as(server.addr, &format!("/api/rooms/hall/audit{query}"), &ann).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "bad_request"),
            "{query}"
        );
    }

    // A plain member is refused; a server admin reads it, deletes the room, and still
    // reads the log, which ends with the deletion.
    server
        .hub
        .add_member("hall", "bob", chatcore::store::Role::Member)
        .await
        .expect("member");
    let r = get_as(server.addr, "/api/rooms/hall/audit", &token("bob")).await;
    assert_eq!(
        error(&r),
        (
            403,
            "forbidden".into(),
            "forbidden: only a room admin or above may read the audit log of hall".into()
        )
    );
    let r = call(
        &server,
        "DELETE",
        "/api/rooms/hall",
        Some(&token("bob")),
        None,
    )
    .await;
    assert_eq!(
        error(&r),
        (
            403,
            "forbidden".into(),
            "forbidden: only the owner of hall or a server admin may delete it".into()
        )
    );
    let root = admin_token("root");
    let r = get_as(server.addr, "/api/rooms/hall/audit", &root).await;
    assert_eq!(seqs(&r), [5, 4, 3, 2, 1]);
    let r = call(&server, "DELETE", "/api/rooms/hall", Some(&root), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get_as(server.addr, "/api/rooms/hall/audit?limit=1", &root).await;
    assert_eq!(r.json()["entries"][0]["action"], "delete_room");
    assert_eq!(r.json()["entries"][0]["actor"], "root");
    let r = get_as(server.addr, "/api/rooms/hall/audit", &ann).await;
    assert_eq!(error(&r), no_such("hall"));
}
