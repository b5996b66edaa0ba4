//! Rooms with authority on a fleet of two hubs sharing a store and a bus — access and bad
//! input: private rooms need an invitation, a server admin acts everywhere, blocks stop
//! DMs, and each bad input of issue #12 gets its exact answer and changes nothing.

mod moderation_common;

use chatcore::ErrorCode;
use chatcore::accounts::ADMIN_CLAIM;
use chatcore::auth::Identity;
use chatcore::protocol::{Codec, Command, Event, Role, RoomKind};
use chatcore::store::{RoomAuthority, Store};
use chatcore_testkit::{Fleet, SessionProbe};
use moderation_common::*;

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
