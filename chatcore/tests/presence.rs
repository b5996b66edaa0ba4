//! Contract 7 and the room features around it: presence, join/leave notices, typing (never
//! stored), and private direct messages.

use chatcore::protocol::{Command, Event, RoomKind};
use chatcore::store::HistoryQuery;
use chatcore_testkit::{SessionProbe, dm, memory_hub};

#[tokio::test]
async fn presence_snapshot_and_notices_count_users_not_sessions() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("r").await;
    let mut bob1 = SessionProbe::connect(&hub, "bob").await;
    let Event::Joined { online, .. } = bob1.join("r").await else {
        unreachable!()
    };
    assert_eq!(online, ["ann", "bob"]);
    assert_eq!(
        ann.event().await,
        Event::UserJoined {
            room: "r".into(),
            user: "bob".into()
        }
    );
    // A second session of bob: no second notice.
    let mut bob2 = SessionProbe::connect(&hub, "bob").await;
    bob2.join("r").await;
    drop(bob1);
    let id = ann.request(Command::Who { room: "r".into() }).await;
    assert_eq!(
        ann.reply(id).await,
        Event::Presence {
            id: Some(id),
            room: "r".into(),
            online: vec!["ann".into(), "bob".into()]
        },
        "bob is still online through his second session, and no notice came before"
    );
    let id = bob2.request(Command::Leave { room: "r".into() }).await;
    assert!(matches!(bob2.reply(id).await, Event::Left { .. }));
    assert_eq!(
        ann.event().await,
        Event::UserLeft {
            room: "r".into(),
            user: "bob".into()
        }
    );
    // Leaving dropped the durable membership; disconnecting does not.
    assert!(
        hub.store()
            .member("r", "bob")
            .await
            .expect("member")
            .is_none()
    );
    drop(ann);
    assert!(
        hub.store()
            .member("r", "ann")
            .await
            .expect("member")
            .is_some()
    );
}

#[tokio::test]
async fn typing_reaches_others_and_is_never_stored() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    ann.join("r").await;
    bob.join("r").await;
    ann.until(|e| matches!(e, Event::UserJoined { .. })).await;
    bob.request(Command::Typing {
        room: "r".into(),
        on: true,
    })
    .await;
    assert_eq!(
        ann.event().await,
        Event::Typing {
            room: "r".into(),
            user: "bob".into(),
            on: true
        }
    );
    let id = bob.request(Command::Ping {}).await;
    assert_eq!(
        bob.event().await,
        Event::Pong { id: Some(id) },
        "no echo of own typing"
    );
    let page = hub
        .store()
        .history("r", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert!(page.messages.is_empty(), "typing is never stored");
    assert_eq!(hub.store().last_seq("r").await.expect("seq"), 0);
}

#[tokio::test]
async fn direct_messages_reach_only_the_two_users() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    let mut eve = SessionProbe::connect(&hub, "eve").await;
    eve.join("lobby").await;
    let id = ann.request(dm("bob", "psst")).await;
    let Event::Ack { room, seq, .. } = ann.reply(id).await else {
        panic!("ack")
    };
    assert_eq!((room.as_str(), seq), ("dm:ann:bob", 1));
    // Bob, online, was joined to the conversation and got the message.
    let Event::Joined { kind, .. } = bob.until(|e| matches!(e, Event::Joined { .. })).await else {
        unreachable!()
    };
    assert_eq!(kind, RoomKind::Direct);
    assert_eq!(bob.messages("dm:ann:bob", 1).await[0].text, "psst");
    // Eve cannot see it listed, join it or read it.
    let id = eve.request(Command::Rooms {}).await;
    let Event::Rooms { rooms, .. } = eve.reply(id).await else {
        panic!("rooms")
    };
    assert!(
        rooms.iter().all(|r| r.kind != RoomKind::Direct),
        "{rooms:?}"
    );
    let id = eve
        .request(Command::Join {
            room: "dm:ann:bob".into(),
            resume_after: None,
        })
        .await;
    assert_eq!(eve.error(id).await, chatcore::ErrorCode::Forbidden);
    // Bob's room list has it; a reply goes back over the same room.
    let id = bob.request(Command::Rooms {}).await;
    let Event::Rooms { rooms, .. } = bob.reply(id).await else {
        panic!("rooms")
    };
    assert!(rooms.iter().any(|r| r.name == "dm:ann:bob"));
    let id = bob.request(dm("ann", "hi")).await;
    let Event::Ack { seq, .. } = bob.reply(id).await else {
        panic!("ack")
    };
    assert_eq!(seq, 2);
    // (ann read past her own first message while waiting for its ack.)
    assert_eq!(ann.messages("dm:ann:bob", 1).await[0].text, "hi");
}
