//! The host's own operations on [`Hub`]: a system post reaches every member exactly once (on
//! this node and another), resume replays it, nonces make it idempotent, bad posts change
//! nothing; rooms and memberships from code.

use chatcore::names::SYSTEM_USER;
use chatcore::protocol::{Command, Event, RoomKind};
use chatcore::store::{HistoryQuery, Role};
use chatcore::{ErrorCode, HostPost, Hub};
use chatcore_testkit::{Fleet, Probe, SessionProbe, TestServer, memory_hub, ws_config};

#[tokio::test]
async fn a_system_post_reaches_every_member_once_and_resume_replays_it() {
    let server = TestServer::with(Hub::builder(), ws_config()).await;
    let mut ann = Probe::guest(&server, "ann").await;
    let mut bob = Probe::guest(&server, "bob").await;
    ann.join("order-1").await;
    bob.join("order-1").await;
    let first = ann.say("order-1", "where is my parcel?").await;
    let posted = server
        .hub
        .post(HostPost::system("order-1", "Order 1 shipped").with_nonce("ship-1"))
        .await
        .expect("post");
    assert!(!posted.duplicate);
    assert_eq!(posted.message.seq, first + 1);
    assert_eq!(posted.message.sender, SYSTEM_USER);
    // Posting again with the nonce returns the original and delivers nothing new.
    let again = server
        .hub
        .post(HostPost::system("order-1", "Order 1 shipped").with_nonce("ship-1"))
        .await
        .expect("repost");
    assert!(again.duplicate);
    assert_eq!(again.message, posted.message);
    let after = ann.say("order-1", "thanks").await;
    assert_eq!(after, posted.message.seq + 1, "the duplicate took no seq");
    // Bob sees: ann's, the system's, ann's — each once, in order.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        if let Event::Message(m) = bob.next().await.expect("event") {
            seen.push((m.seq, m.sender));
        }
    }
    assert_eq!(
        seen,
        [
            (first, "ann".to_owned()),
            (posted.message.seq, SYSTEM_USER.to_owned()),
            (after, "ann".to_owned())
        ]
    );
    // Carl was away and resumes from before the system post: it is replayed once.
    let mut carl = Probe::guest(&server, "carl").await;
    match carl.join_after("order-1", Some(first)).await {
        Event::Joined { history, .. } => {
            let got: Vec<_> = history.iter().map(|m| (m.seq, m.sender.as_str())).collect();
            assert_eq!(got, [(posted.message.seq, SYSTEM_USER), (after, "ann")]);
        }
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn a_post_from_another_node_reaches_members_here() {
    let (_store, a, b) = Fleet::pair().await;
    let mut ann = SessionProbe::connect(&a, "ann").await;
    ann.join("lobby").await;
    let posted = b
        .post(HostPost::as_user("lobby", "shopbot", "hello from b"))
        .await
        .expect("post on b");
    let got = ann.messages("lobby", 1).await;
    assert_eq!(got[0], posted.message);
    assert_eq!(got[0].sender, "shopbot");
}

#[tokio::test]
async fn bad_host_posts_are_refused_and_change_nothing() {
    let hub = memory_hub().await;
    let err = hub
        .post(HostPost::system("nowhere", "hi"))
        .await
        .expect_err("no such room");
    assert_eq!(err.code(), ErrorCode::UnknownRoom);
    assert!(hub.store().room("nowhere").await.expect("store").is_none());
    hub.create_room("lobby", RoomKind::Public)
        .await
        .expect("create");
    for (post, code) in [
        (HostPost::system("lobby", ""), ErrorCode::Invalid),
        (
            HostPost::system("lobby", "x".repeat(hub.limits().max_text_bytes + 1)),
            ErrorCode::TooLarge,
        ),
        (
            HostPost::as_user("lobby", "bad name", "hi"),
            ErrorCode::Invalid,
        ),
        (
            HostPost::as_user("lobby", SYSTEM_USER, "hi"),
            ErrorCode::Invalid,
        ),
        (
            HostPost::system("lobby", "hi").with_nonce(""),
            ErrorCode::Invalid,
        ),
    ] {
        let err = hub.post(post.clone()).await.expect_err("refused");
        assert_eq!(err.code(), code, "{post:?}");
    }
    assert_eq!(hub.store().last_seq("lobby").await.expect("seq"), 0);
}

#[tokio::test]
async fn rooms_and_memberships_from_code() {
    let hub = memory_hub().await;
    hub.create_room("vip", RoomKind::Private)
        .await
        .expect("create");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let id = ann
        .request(Command::Join {
            room: "vip".into(),
            resume_after: None,
        })
        .await;
    assert_eq!(ann.error(id).await, ErrorCode::Forbidden);
    hub.add_member("vip", "ann", Role::Member)
        .await
        .expect("add");
    ann.join("vip").await;
    hub.post(HostPost::system("vip", "welcome"))
        .await
        .expect("post");
    assert_eq!(ann.messages("vip", 1).await[0].text, "welcome");
    hub.remove_member("vip", "ann").await.expect("remove");
    assert!(matches!(
        ann.until(|e| matches!(e, Event::Left { .. })).await,
        Event::Left { .. }
    ));
    assert!(
        hub.store()
            .member("vip", "ann")
            .await
            .expect("store")
            .is_none()
    );
    let page = hub
        .read_history("vip", HistoryQuery::latest(10))
        .await
        .expect("host reads a private room");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(
        hub.add_member("nowhere", "ann", Role::Member)
            .await
            .expect_err("no room")
            .code(),
        ErrorCode::UnknownRoom
    );
    assert_eq!(hub.disconnect_user("ann"), 1);
    assert_eq!(
        ann.session.close_reason(),
        Some(chatcore::CloseReason::Normal)
    );
}

/// Two nodes share a store and a bus; the host acts on one of them. Removing a member takes
/// the user's session on the other node out of the room, and disconnecting a user closes
/// their session there too.
#[tokio::test]
async fn remove_member_and_disconnect_user_act_on_every_node() {
    let (_store, a, b) = Fleet::pair().await;
    a.create_room("vip", RoomKind::Private).await.expect("room");
    a.add_member("vip", "ann", Role::Member).await.expect("add");
    let mut ann_b = SessionProbe::connect(&b, "ann").await;
    let mut ann_b2 = SessionProbe::connect(&b, "ann").await;
    let mut bob_b = SessionProbe::connect(&b, "bob").await;
    ann_b.join("vip").await;
    ann_b2.join("lobby").await;
    bob_b.join("lobby").await;

    a.remove_member("vip", "ann").await.expect("remove on a");
    match ann_b.until(|e| matches!(e, Event::Left { .. })).await {
        Event::Left { id, room } => assert_eq!((id, room.as_str()), (None, "vip")),
        e => panic!("{e:?}"),
    }
    // Out for good: she cannot come back.
    let id = ann_b
        .request(Command::Join {
            room: "vip".into(),
            resume_after: None,
        })
        .await;
    assert_eq!(ann_b.error(id).await, ErrorCode::Forbidden);
    assert!(
        a.store()
            .member("vip", "ann")
            .await
            .expect("store")
            .is_none()
    );

    assert_eq!(a.disconnect_user("ann"), 0, "no session of ann on a");
    for s in [&mut ann_b, &mut ann_b2] {
        assert_eq!(s.closed().await, chatcore::CloseReason::Normal);
    }
    // Bob, on the same node, is untouched.
    assert_eq!(bob_b.session.close_reason(), None);
    bob_b.send("lobby", "still here").await;
}
