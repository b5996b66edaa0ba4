//! Rooms as wholes, on two hubs sharing one store and one bus: `delete_room` reaching every
//! node, mutes kept in memory on every node (no store read on `send`), descriptions, and
//! invitations in the room list.

use std::sync::Arc;
use std::time::Duration;

use chatcore::accounts::ADMIN_CLAIM;
use chatcore::auth::Identity;
use chatcore::protocol::{Codec, Command, Event, MessageKind, RoomKind, RoomSummary};
use chatcore::store::{MemoryStore, RoomAuthority, Store};
use chatcore::{ErrorCode, Hub};
use chatcore_testkit::{CallLog, Fleet, HookedStore, SessionProbe, node, send};

fn create(room: &str, kind: RoomKind, description: Option<&str>) -> Command {
    Command::Create {
        room: room.into(),
        kind,
        topic: None,
        description: description.map(str::to_owned),
    }
}

fn delete(room: &str) -> Command {
    Command::DeleteRoom { room: room.into() }
}

fn mute(room: &str, user: &str, duration_s: Option<u64>) -> Command {
    Command::Mute {
        room: room.into(),
        user: user.into(),
        duration_s,
        reason: None,
    }
}

fn admin(hub: &Hub, user: &str) -> impl std::future::Future<Output = SessionProbe> {
    let mut claims = serde_json::Map::new();
    claims.insert(ADMIN_CLAIM.into(), true.into());
    SessionProbe::connect_as(hub, Identity::new(user).with_claims(claims), Codec::Json)
}

async fn rooms(p: &mut SessionProbe) -> Vec<RoomSummary> {
    match p.ask(Command::Rooms {}).await {
        Event::Rooms { rooms, .. } => rooms,
        e => panic!("expected rooms, got {e:?}"),
    }
}

/// The owner deletes a room: members on both nodes get `room_deleted` then `left`; the
/// store keeps only the audit log; joining, reading, searching and re-creating the name
/// all fail; nobody but the owner or a server admin may delete.
#[tokio::test]
async fn a_deleted_room_is_gone_on_every_node() {
    let (store, a, b) = Fleet::pair().await;
    let mut ann = SessionProbe::connect(&a, "ann").await;
    let created = ann
        .ask(create("doomed", RoomKind::Public, Some("short-lived")))
        .await;
    assert!(matches!(created, Event::Created { .. }), "{created:?}");
    ann.join("doomed").await;
    let mut dan = SessionProbe::connect(&a, "dan").await;
    dan.join("doomed").await;
    let mut bob = SessionProbe::connect(&b, "bob").await;
    bob.join("doomed").await;
    let mut bob2 = SessionProbe::connect(&b, "bob").await;
    bob2.join("lobby").await;
    ann.send("doomed", "zebrafish").await;
    let head = store.last_seq("doomed").await.expect("seq");

    // A member may not delete, nor a moderator-less stranger; nothing changes.
    let (code, message) = dan.refused(delete("doomed")).await;
    assert_eq!(
        (code, message.as_str()),
        (
            ErrorCode::Forbidden,
            "forbidden: only the owner of doomed or a server admin may delete it"
        )
    );
    let (code, _) = bob2.refused(delete("nowhere")).await;
    assert_eq!(code, ErrorCode::UnknownRoom);
    let (code, _) = bob2.refused(delete("bad name!")).await;
    assert_eq!(code, ErrorCode::Invalid);
    assert_eq!(store.last_seq("doomed").await.expect("seq"), head);

    // The owner deletes: the answer, then `left`, here; `room_deleted` and `left` on b.
    let id = ann.request(delete("doomed")).await;
    assert_eq!(
        ann.event().await,
        Event::RoomDeleted {
            id: Some(id),
            room: "doomed".into(),
            by: "ann".into()
        }
    );
    let left = Event::Left {
        id: None,
        room: "doomed".into(),
    };
    assert_eq!(ann.until(|e| matches!(e, Event::Left { .. })).await, left);
    let notice = Event::RoomDeleted {
        id: None,
        room: "doomed".into(),
        by: "ann".into(),
    };
    for p in [&mut dan, &mut bob] {
        let heard = tokio::time::timeout(
            Duration::from_secs(1),
            p.until(|e| matches!(e, Event::RoomDeleted { .. })),
        )
        .await
        .expect("room_deleted within a second");
        assert_eq!(heard, notice);
        assert_eq!(p.event().await, left, "left follows at once");
    }

    // Gone: for members and strangers, on both nodes.
    for p in [&mut bob, &mut bob2] {
        let (code, message) = p
            .refused(Command::Join {
                room: "doomed".into(),
                resume_after: None,
            })
            .await;
        assert_eq!(
            (code, message.as_str()),
            (ErrorCode::UnknownRoom, "no such room: doomed")
        );
        let (code, _) = p
            .refused(Command::History {
                room: "doomed".into(),
                before: None,
                after: None,
                limit: None,
            })
            .await;
        assert_eq!(code, ErrorCode::UnknownRoom);
        let (code, _) = p.refused(send("doomed", "hello?", None)).await;
        assert_eq!(code, ErrorCode::NotMember);
        assert!(rooms(p).await.iter().all(|r| r.name != "doomed"));
    }
    let hits = a
        .search(Some("bob"), "zebrafish", None, None, None)
        .await
        .expect("search");
    assert!(hits.hits.is_empty(), "{:?}", hits.hits);
    let named = b
        .search(Some("bob"), "zebrafish", Some("doomed".into()), None, None)
        .await;
    assert!(
        matches!(named, Err(chatcore::Error::UnknownRoom(_))),
        "{:?}",
        named.map(|p| p.hits)
    );
    let (code, message) = ann.refused(create("doomed", RoomKind::Public, None)).await;
    assert_eq!(
        (code, message.as_str()),
        (
            ErrorCode::NameTaken,
            "room name taken: doomed (a deleted room keeps its name)"
        )
    );
    assert_eq!(store.room("doomed").await.expect("room"), None);
    let audit = store.audit("doomed", None, 10).await.expect("audit");
    assert_eq!(
        (
            audit[0].action.clone(),
            audit[0].actor.as_str(),
            audit[0].seq
        ),
        (MessageKind::DeleteRoom, "ann", head + 1)
    );
    // A server admin deletes anyone's room, and reads a deleted room's log.
    let created = bob2.ask(create("bobs", RoomKind::Private, None)).await;
    assert!(matches!(created, Event::Created { .. }), "{created:?}");
    let mut root = admin(&a, "root").await;
    assert!(matches!(
        root.ask(delete("bobs")).await,
        Event::RoomDeleted { .. }
    ));
    let root_id = Identity::new("root").with_claims(
        [(ADMIN_CLAIM.to_owned(), true.into())]
            .into_iter()
            .collect(),
    );
    let log = a.audit(&root_id, "doomed", None, 10).await.expect("audit");
    assert_eq!(log[0].action, MessageKind::DeleteRoom);
    let err = a.audit(&Identity::new("ann"), "doomed", None, 10).await;
    assert!(
        matches!(err, Err(chatcore::Error::UnknownRoom(_))),
        "{err:?}"
    );
}

/// A mute issued on node a refuses bob's sends on node b as soon as b delivers the mute
/// event (within a second), without a store read per send; a timed mute lapses by
/// itself, an unmute lifts one at once, and a user muted before joining on a third node
/// is refused there too.
#[tokio::test]
async fn a_mute_on_one_node_holds_on_the_other_until_it_lapses() {
    let memory = Arc::new(MemoryStore::new());
    let hooked = Arc::new(HookedStore::new(memory.clone(), CallLog::default()));
    let net = chatcore::bus::LocalNetwork::new();
    let a = node(memory.clone(), &net, "a").await;
    let b = Hub::builder()
        .shared_store(hooked.clone())
        .bus(net.node("b"))
        .build()
        .await
        .expect("b");
    let mut ann = SessionProbe::connect(&a, "ann").await;
    ann.ask(create("hush", RoomKind::Public, None)).await;
    ann.join("hush").await;
    let mut bob = SessionProbe::connect(&b, "bob").await;
    bob.join("hush").await;
    bob.send("hush", "before").await;

    ann.acked(mute("hush", "bob", Some(2))).await;
    tokio::time::timeout(
        Duration::from_secs(1),
        bob.until(|e| matches!(e, Event::Message(m) if m.kind == MessageKind::Mute)),
    )
    .await
    .expect("the mute reaches b within a second");
    let (code, message) = bob.refused(send("hush", "muted?", None)).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(
        message == "forbidden: you are muted in hush for 2 more s"
            || message == "forbidden: you are muted in hush for 1 more s",
        "{message}"
    );
    // It lapses by itself: no event, no store write.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    bob.send("hush", "free again").await;

    // An open-ended mute, lifted by an unmute from a.
    ann.acked(mute("hush", "bob", None)).await;
    bob.until(|e| matches!(e, Event::Message(m) if m.kind == MessageKind::Mute))
        .await;
    let (code, message) = bob.refused(send("hush", "muted?", None)).await;
    assert_eq!(
        (code, message.as_str()),
        (
            ErrorCode::Forbidden,
            "forbidden: you are muted in hush until a moderator unmutes you"
        )
    );
    ann.acked(Command::Unmute {
        room: "hush".into(),
        user: "bob".into(),
    })
    .await;
    bob.until(|e| matches!(e, Event::Message(m) if m.kind == MessageKind::Unmute))
        .await;
    bob.send("hush", "unmuted").await;

    // Muted before joining on a node where the room is not loaded: the mute is loaded
    // with the room.
    ann.acked(mute("hush", "cy", None)).await;
    let c = node(memory.clone(), &net, "c").await;
    let mut cy = SessionProbe::connect(&c, "cy").await;
    cy.join("hush").await;
    let (code, _) = cy.refused(send("hush", "hi", None)).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(
        hooked.hook().count("mute"),
        0,
        "no send read a mute from the store"
    );
}

/// `create` stores a description (bounded like the topic) and shows it in the summary and
/// the room list; an invitee sees a private room listed with `invited: true` until joining.
#[tokio::test]
async fn descriptions_and_invitations_show_in_the_room_list() {
    let (store, a, b) = Fleet::pair().await;
    let mut ann = SessionProbe::connect(&a, "ann").await;
    let Event::Created { room, .. } = ann
        .ask(create("club", RoomKind::Private, Some("Members only")))
        .await
    else {
        panic!("created")
    };
    assert_eq!(
        (room.description.as_deref(), room.invited, room.kind),
        (Some("Members only"), false, RoomKind::Private)
    );
    let long = "x".repeat(501);
    let (code, message) = ann
        .refused(create("long", RoomKind::Public, Some(&long)))
        .await;
    assert_eq!(
        (code, message.as_str()),
        (
            ErrorCode::TooLarge,
            "description too large: 501 bytes, the limit is 500"
        )
    );
    assert_eq!(
        store.room("long").await.expect("room"),
        None,
        "nothing created"
    );

    let mut eve = SessionProbe::connect(&b, "eve").await;
    assert!(rooms(&mut eve).await.iter().all(|r| r.name != "club"));
    ann.acked(Command::Invite {
        room: "club".into(),
        user: "eve".into(),
    })
    .await;
    let listed = rooms(&mut eve).await;
    let club = listed.iter().find(|r| r.name == "club").expect("listed");
    assert!(club.invited);
    assert_eq!(club.description.as_deref(), Some("Members only"));
    let json = serde_json::to_value(club).expect("json");
    assert_eq!(json["invited"], true);
    eve.join("club").await;
    let listed = rooms(&mut eve).await;
    let club = listed.iter().find(|r| r.name == "club").expect("listed");
    assert!(!club.invited, "joining clears it");
    let json = serde_json::to_value(club).expect("json");
    assert!(json.get("invited").is_none(), "absent when false: {json}");
}
