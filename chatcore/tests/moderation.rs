//! Rooms with authority on a fleet of two hubs sharing a store and a bus: each bad input of
//! issue #12 gets its exact answer and changes nothing; a kick or ban removes the user's
//! sessions on every node; bans keep users out, mutes keep them quiet, blocks stop DMs.

use std::time::{Duration, Instant};

use chatcore::accounts::ADMIN_CLAIM;
use chatcore::auth::Identity;
use chatcore::protocol::{Codec, Command, Event, MessageKind, Role, RoomKind};
use chatcore::store::{RoomAuthority, Store};
use chatcore::{ErrorCode, Hub};
use chatcore_testkit::{Fleet, SessionProbe};

fn create(room: &str, kind: RoomKind) -> Command {
    Command::Create {
        room: room.into(),
        kind,
        topic: None,
        description: None,
    }
}

fn kick(room: &str, user: &str) -> Command {
    Command::Kick {
        room: room.into(),
        user: user.into(),
        reason: Some("spam".into()),
    }
}

fn ban(room: &str, user: &str) -> Command {
    Command::Ban {
        room: room.into(),
        user: user.into(),
        reason: None,
        duration_s: None,
    }
}

fn role(room: &str, user: &str, role: Role) -> Command {
    Command::Role {
        room: room.into(),
        user: user.into(),
        role,
    }
}

/// A room `r` owned by ann with bob an admin, cy a moderator, dan a member, all joined on
/// node a.
async fn staffed(a: &Hub) -> [SessionProbe; 4] {
    let mut ann = SessionProbe::connect(a, "ann").await;
    assert!(matches!(
        ann.ask(create("r", RoomKind::Public)).await,
        Event::Created { .. }
    ));
    ann.join("r").await;
    let mut others = Vec::new();
    for user in ["bob", "cy", "dan"] {
        let mut p = SessionProbe::connect(a, user).await;
        p.join("r").await;
        others.push(p);
    }
    ann.acked(role("r", "bob", Role::Admin)).await;
    ann.acked(role("r", "cy", Role::Moderator)).await;
    let [bob, cy, dan]: [SessionProbe; 3] = others.try_into().ok().expect("three");
    [ann, bob, cy, dan]
}

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

#[tokio::test]
async fn private_rooms_need_an_invitation_from_an_admin() {
    let (store, a, b) = Fleet::pair().await;
    let mut ann = SessionProbe::connect(&a, "ann").await;
    ann.ask(create("club", RoomKind::Private)).await;
    ann.join("club").await;
    ann.send("club", "secret").await;
    let mut eve = SessionProbe::connect(&b, "eve").await;

    // A non-member reads nothing, lists nothing, joins nothing.
    let (code, _) = eve
        .refused(Command::History {
            room: "club".into(),
            before: None,
            after: None,
            limit: None,
        })
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    let Event::Rooms { rooms, .. } = eve.ask(Command::Rooms {}).await else {
        panic!("rooms")
    };
    assert!(rooms.iter().all(|r| r.name != "club"), "{rooms:?}");
    let join = Command::Join {
        room: "club".into(),
        resume_after: None,
    };
    let (code, message) = eve.refused(join.clone()).await;
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::Forbidden, "forbidden: club is invite-only")
    );
    // Someone who cannot invite (a non-member; a plain member) is refused.
    let invite = |user: &str| Command::Invite {
        room: "club".into(),
        user: user.into(),
    };
    let (code, _) = eve.refused(invite("eve")).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(!store.invited("club", "eve").await.expect("invited"));

    // The owner invites; the invitee hears of it on the other node, joins and reads history.
    ann.acked(invite("eve")).await;
    let invited = eve.until(|e| matches!(e, Event::Invited { .. })).await;
    assert_eq!(
        invited,
        Event::Invited {
            room: "club".into(),
            by: "ann".into()
        }
    );
    let Event::Joined { history, .. } = eve.join("club").await else {
        unreachable!()
    };
    assert!(history.iter().any(|m| m.text == "secret"));
    let Event::Members { members, .. } = eve
        .ask(Command::Members {
            room: "club".into(),
        })
        .await
    else {
        panic!("members")
    };
    let roles: Vec<(&str, Role)> = members.iter().map(|m| (m.user.as_str(), m.role)).collect();
    assert_eq!(roles, [("ann", Role::Owner), ("eve", Role::Member)]);
    // A member cannot invite either.
    let (code, _) = eve.refused(invite("fay")).await;
    assert_eq!(code, ErrorCode::Forbidden);
    // Kicked from a private room: out, and the invitation is gone.
    ann.acked(kick("club", "eve")).await;
    eve.until(|e| matches!(e, Event::Left { .. })).await;
    let (code, _) = eve.refused(join).await;
    assert_eq!(code, ErrorCode::Forbidden);
}

#[tokio::test]
async fn a_server_admin_acts_everywhere() {
    let (_store, a, _b) = Fleet::pair().await;
    let [_ann, _bob, _cy, mut dan] = staffed(&a).await;
    let mut claims = serde_json::Map::new();
    claims.insert(ADMIN_CLAIM.into(), true.into());
    let mut root =
        SessionProbe::connect_as(&a, Identity::new("root").with_claims(claims), Codec::Json).await;
    root.acked(ban("r", "ann")).await;
    let (code, _) = root.refused(kick("r", "ann")).await;
    assert_eq!(code, ErrorCode::NotMember, "the ban ended ann's membership");
    // A forged-looking claim of another type is no admin.
    let mut claims = serde_json::Map::new();
    claims.insert(ADMIN_CLAIM.into(), "true".into());
    let mut fake =
        SessionProbe::connect_as(&a, Identity::new("fake").with_claims(claims), Codec::Json).await;
    let (code, _) = fake.refused(kick("r", "dan")).await;
    assert_eq!(code, ErrorCode::Forbidden);
    dan.send("r", "still here").await;
}

#[tokio::test]
async fn blocked_users_cannot_send_direct_messages() {
    let (_store, a, b) = Fleet::pair().await;
    let mut ann = SessionProbe::connect(&a, "ann").await;
    let mut bob = SessionProbe::connect(&b, "bob").await;
    let dm = |to: &str, text: &str| Command::Dm {
        to: to.into(),
        text: text.into(),
        nonce: None,
    };
    assert!(matches!(bob.ask(dm("ann", "hi")).await, Event::Ack { .. }));
    let blocked = ann.ask(Command::Block { user: "bob".into() }).await;
    assert!(
        matches!(blocked, Event::Blocked { on: true, .. }),
        "{blocked:?}"
    );
    let (code, message) = bob.refused(dm("ann", "hi again")).await;
    assert_eq!(
        (code, message.as_str()),
        (
            ErrorCode::Forbidden,
            "forbidden: ann does not accept direct messages from you"
        )
    );
    // Nor by a plain send into the conversation bob had joined.
    let room = chatcore::names::dm_room("ann", "bob");
    let id = bob.send_nowait(&room, "sneaky", None).await;
    assert_eq!(bob.error(id).await, ErrorCode::Forbidden);
    // ann may still write to bob; unblocked, bob may write again.
    assert!(matches!(ann.ask(dm("bob", "bye")).await, Event::Ack { .. }));
    ann.ask(Command::Unblock { user: "bob".into() }).await;
    assert!(matches!(bob.ask(dm("ann", "ok")).await, Event::Ack { .. }));
}

#[tokio::test]
async fn hostile_moderation_input_is_refused_and_changes_nothing() {
    let (store, a, _b) = Fleet::pair().await;
    let [mut ann, ..] = staffed(&a).await;
    let before = store.last_seq("r").await.expect("seq");
    let cases = [
        (kick("r", ""), ErrorCode::Invalid),
        (kick("r", &"x".repeat(10_000)), ErrorCode::Invalid),
        (kick("nowhere", "dan"), ErrorCode::UnknownRoom),
        (kick("r", "ann"), ErrorCode::Forbidden),
        (kick("r", "stranger"), ErrorCode::NotMember),
        (
            Command::Kick {
                room: "r".into(),
                user: "dan".into(),
                reason: Some("x".repeat(100_000)),
            },
            ErrorCode::TooLarge,
        ),
        (
            Command::Ban {
                room: "r".into(),
                user: "dan".into(),
                reason: None,
                duration_s: Some(u64::MAX),
            },
            ErrorCode::Invalid,
        ),
        (
            Command::Mute {
                room: "r".into(),
                user: "dan".into(),
                reason: None,
                duration_s: Some(0),
            },
            ErrorCode::Invalid,
        ),
        (
            Command::Topic {
                room: "r".into(),
                topic: "t".repeat(501),
            },
            ErrorCode::TooLarge,
        ),
        (create("r", RoomKind::Public), ErrorCode::NameTaken),
        (create("dm:ann:bob", RoomKind::Direct), ErrorCode::Invalid),
        (
            Command::Invite {
                room: "r".into(),
                user: "dan".into(),
            },
            ErrorCode::Invalid,
        ),
    ];
    for (command, expected) in cases {
        let (code, message) = ann.refused(command.clone()).await;
        assert_eq!(code, expected, "{command:?}: {message}");
    }
    assert_eq!(store.last_seq("r").await.expect("seq"), before);
    // A raw frame with a bad role name is a bad request, not a crash.
    let bad: Result<chatcore::protocol::Request, _> =
        serde_json::from_str(r#"{"type":"role","room":"r","user":"dan","role":"emperor"}"#);
    assert!(bad.is_err());
}
