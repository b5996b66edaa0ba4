//! Rooms with authority on a fleet of two hubs sharing a store and a bus — roles and
//! removal: nobody acts on an equal or higher role, a kick or ban removes the user's
//! sessions on every node, bans keep users out and mutes keep them quiet.

mod moderation_common;

use std::time::{Duration, Instant};

use chatcore::ErrorCode;
use chatcore::auth::Identity;
use chatcore::protocol::{Codec, Command, Event, MessageKind, Role};
use chatcore::store::{RoomAuthority, Store};
use chatcore_testkit::{Fleet, SessionProbe};
use moderation_common::*;

#[tokio::test]
async fn nobody_acts_on_an_equal_or_higher_role() {
    let (store, a, _b) = Fleet::pair().await;
    let [mut ann, mut bob, mut cy, mut dan] = staffed(&a).await;
    let before = store.last_seq("r").await.expect("seq");

    // A member trying to kick.
    let (code, message) = dan.refused(kick("r", "cy")).await;
    assert_eq!(
        (code, message.as_str()),
        (
            ErrorCode::Forbidden,
            "forbidden: only a room moderator or above may do this in r"
        )
    );
    // A moderator kicking an admin, and the owner.
    for target in ["bob", "ann"] {
        let (code, message) = cy.refused(kick("r", target)).await;
        assert_eq!(code, ErrorCode::Forbidden);
        assert_eq!(
            message,
            format!("forbidden: {target} is not below you in r")
        );
    }
    // A moderator promoting themself, and an admin granting admin.
    let (code, _) = cy.refused(role("r", "cy", Role::Admin)).await;
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, message) = bob.refused(role("r", "dan", Role::Admin)).await;
    assert_eq!(
        (code, message.as_str()),
        (
            ErrorCode::Forbidden,
            "forbidden: you may not make anyone admin in r"
        )
    );
    // A moderator banning (an admin's power).
    let (code, _) = cy.refused(ban("r", "dan")).await;
    assert_eq!(code, ErrorCode::Forbidden);

    assert_eq!(
        store.last_seq("r").await.expect("seq"),
        before,
        "nothing stored"
    );
    assert_eq!(
        store.audit("r", None, 100).await.expect("audit").len(),
        2,
        "only the two promotions"
    );
    let roles: Vec<(String, Role)> = store
        .members("r")
        .await
        .expect("members")
        .into_iter()
        .map(|m| (m.user, m.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("ann".to_owned(), Role::Owner),
            ("bob".to_owned(), Role::Admin),
            ("cy".to_owned(), Role::Moderator),
            ("dan".to_owned(), Role::Member)
        ]
    );
    // What each may do, they can.
    cy.acked(kick("r", "dan")).await;
    ann.acked(role("r", "bob", Role::Owner)).await;
    let owner = store
        .member("r", "ann")
        .await
        .expect("member")
        .expect("ann");
    assert_eq!(owner.role, Role::Admin, "the old owner became an admin");
}

#[tokio::test]
async fn a_ban_on_one_node_removes_the_user_on_the_other_within_a_second() {
    let (store, a, b) = Fleet::pair().await;
    let [mut ann, _bob, _cy, _dan] = staffed(&a).await;
    let mut eve = SessionProbe::connect(&b, "eve").await;
    eve.join("r").await;
    let mut watcher = SessionProbe::connect(&b, "zoe").await;
    watcher.join("r").await;

    let start = Instant::now();
    let seq = ann.acked(ban("r", "eve")).await;
    let left = eve
        .until(|e| matches!(e, Event::Left { room, .. } if room == "r"))
        .await;
    assert!(matches!(left, Event::Left { id: None, .. }));
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "left after {:?}",
        start.elapsed()
    );
    let seen = watcher
        .until(|e| matches!(e, Event::Message(m) if m.seq == seq))
        .await;
    let Event::Message(m) = seen else {
        unreachable!()
    };
    assert_eq!(
        (m.kind, m.text.as_str()),
        (MessageKind::Ban, "ann banned eve")
    );

    // Banned: no rejoin as the same name, on either node, nor as a new session.
    for hub in [&a, &b] {
        let mut again = SessionProbe::connect(hub, "eve").await;
        let (code, message) = again
            .refused(Command::Join {
                room: "r".into(),
                resume_after: None,
            })
            .await;
        assert_eq!(
            (code, message.as_str()),
            (ErrorCode::Forbidden, "forbidden: you are banned from r")
        );
    }
    // Nor as an account of that name (a session with a token family).
    let mut claims = serde_json::Map::new();
    claims.insert(chatcore::accounts::FAMILY_CLAIM.into(), "s1".into());
    let mut account =
        SessionProbe::connect_as(&b, Identity::new("eve").with_claims(claims), Codec::Json).await;
    let (code, _) = account
        .refused(Command::Join {
            room: "r".into(),
            resume_after: None,
        })
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(store.member("r", "eve").await.expect("member"), None);
    // Unbanned: back in.
    ann.acked(Command::Unban {
        room: "r".into(),
        user: "eve".into(),
    })
    .await;
    let mut back = SessionProbe::connect(&b, "eve").await;
    back.join("r").await;
}

#[tokio::test]
async fn a_muted_member_gets_forbidden_with_the_time_left() {
    let (_store, a, b) = Fleet::pair().await;
    let [_ann, _bob, mut cy, _dan] = staffed(&a).await;
    let mut eve = SessionProbe::connect(&b, "eve").await;
    eve.join("r").await;
    cy.acked(Command::Mute {
        room: "r".into(),
        user: "eve".into(),
        duration_s: Some(600),
        reason: None,
    })
    .await;
    // Node b holds the mute once it delivered the mute event (the bus, within a second).
    eve.until(|e| matches!(e, Event::Message(m) if m.kind == MessageKind::Mute))
        .await;
    let id = eve.send_nowait("r", "hello?", None).await;
    let Event::Error { code, message, .. } = eve.reply(id).await else {
        panic!("muted send was accepted")
    };
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(
        message == "forbidden: you are muted in r for 600 more s"
            || message == "forbidden: you are muted in r for 599 more s",
        "{message}"
    );
    cy.acked(Command::Unmute {
        room: "r".into(),
        user: "eve".into(),
    })
    .await;
    eve.until(|e| matches!(e, Event::Message(m) if m.kind == MessageKind::Unmute))
        .await;
    eve.send("r", "thanks").await;
}
