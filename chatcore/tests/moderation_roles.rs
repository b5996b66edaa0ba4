//! Rooms with authority on a fleet of two hubs sharing a store and a bus — roles and
//! removal: nobody acts on an equal or higher role, a kick or ban removes the user's
//! sessions on every node, bans keep users out and mutes keep them quiet.

mod moderation_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatcore::auth::Identity;
use chatcore::protocol::{Codec, Command, Event, MessageKind, Role, RoomKind};
use chatcore::store::{MemoryStore, Pending, RoomAuthority, Store};
use chatcore::{ErrorCode, Hub};
use chatcore_testkit::{Fleet, HookedStore, SessionProbe, StoreHook};
use moderation_common::*;
use tokio::sync::{Notify, Semaphore};

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

/// Holds bob's join between the store admitting him and the hub attaching his session.
struct HoldBob {
    admitted: Arc<Notify>,
    release: Arc<Semaphore>,
}

impl HoldBob {
    fn new() -> Self {
        Self {
            admitted: Arc::new(Notify::new()),
            release: Arc::new(Semaphore::new(0)),
        }
    }
}

impl StoreHook for HoldBob {
    fn admitted(&self, _room: &str, user: &str) -> Pending<()> {
        let (admitted, release) = (Arc::clone(&self.admitted), Arc::clone(&self.release));
        let bob = user == "bob";
        Box::pin(async move {
            if bob {
                admitted.notify_one();
                release
                    .acquire()
                    .await
                    .map_err(chatcore::Error::store)?
                    .forget();
            }
            Ok(())
        })
    }
}

/// A ban that commits after bob's membership was written but before his session attached
/// (the ban finds no session of his in the room yet) still keeps him out: the join is
/// refused, he is no member, and nothing sent to the room reaches him.
#[tokio::test]
async fn a_ban_landing_while_a_join_is_under_way_keeps_the_user_out() {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let store = Arc::new(HookedStore::new(memory.clone(), HoldBob::new()));
    let hub = Hub::builder()
        .shared_store(store.clone())
        .build()
        .await
        .expect("hub");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    assert!(matches!(
        ann.ask(create("r", RoomKind::Public)).await,
        Event::Created { .. }
    ));
    ann.join("r").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    // The session handles the join inline: it waits in the store hook, so on a task.
    let joining = tokio::spawn(async move {
        let join = Command::Join {
            room: "r".into(),
            resume_after: None,
        };
        let reply = bob.ask(join).await;
        (bob, reply)
    });
    tokio::time::timeout(Duration::from_secs(10), store.hook().admitted.notified())
        .await
        .expect("bob's join reached the store");
    assert!(memory.member("r", "bob").await.expect("member").is_some());
    ann.acked(ban("r", "bob")).await;
    store.hook().release.add_permits(1);

    let (mut bob, reply) = joining.await.expect("join task");
    match reply {
        Event::Error { code, message, .. } => assert_eq!(
            (code, message.as_str()),
            (
                ErrorCode::Forbidden,
                "forbidden: you were removed from r while joining"
            )
        ),
        e => panic!("bob's join was not refused: {e:?}"),
    }
    assert_eq!(memory.member("r", "bob").await.expect("member"), None);
    ann.send("r", "after the ban").await;
    bob.quiet("r", 0).await;
    let (code, _) = bob
        .refused(chatcore_testkit::send("r", "let me in", None))
        .await;
    assert_eq!(code, ErrorCode::NotMember);
}
