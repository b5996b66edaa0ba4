//! The room-administration part of the [`RoomAuthority`](crate::store::RoomAuthority)
//! contract: invitations in the room list, descriptions, the audit log's pages, a room's
//! mutes, and deleting a room. Every case takes a [`StoreFactory`] and panics on a
//! violation.

use super::StoreFactory;
use super::fixtures::{create_room, new_message as msg};
use super::moderation::event;
use crate::Error;
use crate::protocol::{MessageKind, Moderation, Role, RoomKind};
use crate::store::{HistoryQuery, NewRoom, SearchQuery};

fn names_and_invited(rooms: &[crate::store::RoomRecord]) -> Vec<(&str, bool)> {
    rooms.iter().map(|r| (r.name.as_str(), r.invited)).collect()
}

/// A private room is listed to a user holding an invitation, marked `invited`, and to
/// nobody else; once the user is a member it is listed as for any member.
pub async fn invitations_are_listed(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "club", RoomKind::Private).await;
    create_room(s.as_ref(), "hall", RoomKind::Public).await;
    s.add_member("club", "ann", Role::Owner).await.expect("add");
    let invite = event("club", "ann", MessageKind::Invite, Moderation::on("bob"));
    s.moderate(invite).await.expect("invite");
    let list = |user: &'static str| {
        let s = s.clone();
        async move { s.list_rooms(Some(user)).await.expect("list") }
    };
    let bob = list("bob").await;
    assert_eq!(
        names_and_invited(&bob),
        [("club", true), ("hall", false)],
        "the invitee sees the room, marked"
    );
    assert_eq!(
        names_and_invited(&list("ann").await),
        [("club", false), ("hall", false)]
    );
    assert_eq!(names_and_invited(&list("carl").await), [("hall", false)]);
    assert_eq!(
        names_and_invited(&s.list_rooms(None).await.expect("anonymous")),
        [("hall", false)]
    );
    s.add_member("club", "bob", Role::Member)
        .await
        .expect("join");
    assert_eq!(
        names_and_invited(&list("bob").await),
        [("club", false), ("hall", false)],
        "joining clears the mark"
    );
    let kick = event("club", "ann", MessageKind::Kick, Moderation::on("bob"));
    s.moderate(kick).await.expect("kick");
    assert_eq!(
        names_and_invited(&list("bob").await),
        [("hall", false)],
        "a kick takes the invitation back"
    );
}

/// A description is stored, shown in the record and the list, and cleared with `None`.
pub async fn descriptions_are_stored(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "desk", RoomKind::Public).await;
    let room = s.room("desk").await.expect("room").expect("desk");
    assert_eq!(room.description, None);
    let text = "Where the \"desk\" team talks — ünïcode, NUL\0 and all";
    s.set_description("desk", Some(text)).await.expect("set");
    let room = s.room("desk").await.expect("room").expect("desk");
    assert_eq!(room.description.as_deref(), Some(text));
    let listed = s.list_rooms(None).await.expect("list");
    assert_eq!(listed[0].description.as_deref(), Some(text));
    s.set_description("desk", None).await.expect("clear");
    let room = s.room("desk").await.expect("room").expect("desk");
    assert_eq!(room.description, None);
    let unknown = s.set_description("nowhere", Some("x")).await;
    assert!(matches!(unknown, Err(Error::UnknownRoom(_))), "{unknown:?}");
}

/// The audit log pages newest first by a `before` cursor.
pub async fn audit_pages_by_cursor(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "log", RoomKind::Public).await;
    for i in 0..5 {
        let mut topic = msg("log", "ann", &format!("topic {i}"), None);
        topic.kind = MessageKind::Topic;
        s.moderate(topic).await.expect("topic");
    }
    let seqs = |rows: Vec<crate::store::AuditEntry>| rows.iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(seqs(s.audit("log", None, 2).await.expect("page")), [5, 4]);
    assert_eq!(
        seqs(s.audit("log", Some(4), 2).await.expect("page")),
        [3, 2]
    );
    assert_eq!(seqs(s.audit("log", Some(2), 2).await.expect("page")), [1]);
    assert!(s.audit("log", Some(1), 2).await.expect("page").is_empty());
    assert!(s.audit("nowhere", None, 2).await.expect("page").is_empty());
}

/// `mutes` lists the room's mutes and no other room's; an unmute takes one out.
pub async fn mutes_of_a_room(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "quiet", RoomKind::Public).await;
    create_room(s.as_ref(), "loud", RoomKind::Public).await;
    for (room, user) in [("quiet", "bob"), ("quiet", "carl"), ("loud", "dan")] {
        let mute = event(
            room,
            "ann",
            MessageKind::Mute,
            Moderation::on(user).until(9_999_999_999_999),
        );
        s.moderate(mute).await.expect("mute");
    }
    let muted = |room: &'static str| {
        let s = s.clone();
        async move {
            let mut users: Vec<String> = s
                .mutes(room)
                .await
                .expect("mutes")
                .into_iter()
                .map(|m| m.user)
                .collect();
            users.sort();
            users
        }
    };
    let users = muted("quiet").await;
    assert_eq!(users, ["bob", "carl"]);
    let until: Vec<_> = s
        .mutes("loud")
        .await
        .expect("mutes")
        .iter()
        .map(|m| m.until)
        .collect();
    assert_eq!(until, [Some(9_999_999_999_999)]);
    let unmute = event("quiet", "ann", MessageKind::Unmute, Moderation::on("bob"));
    s.moderate(unmute).await.expect("unmute");
    let users = muted("quiet").await;
    assert_eq!(users, ["carl"]);
    assert!(s.mutes("nowhere").await.expect("mutes").is_empty());
}

/// Deleting a room removes its messages, memberships, invitations, bans, mutes, reactions,
/// read positions and search hits in one go; its audit log stays, ending with the
/// deletion; its name is never a room again; other rooms are untouched.
pub async fn deleted_rooms_leave_only_their_audit(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "gone", RoomKind::Private).await;
    create_room(s.as_ref(), "kept", RoomKind::Public).await;
    for (user, role) in [("ann", Role::Owner), ("bob", Role::Member)] {
        s.add_member("gone", user, role).await.expect("add");
        s.add_member("kept", user, role).await.expect("add");
    }
    s.append(msg("gone", "bob", "zebrafish secret", Some("n-1")))
        .await
        .expect("append");
    s.append(msg("kept", "bob", "zebrafish public", None))
        .await
        .expect("append");
    let mut react = msg("gone", "ann", "👍", None);
    react.kind = MessageKind::React;
    react.target = Some(1);
    s.append(react).await.expect("react");
    s.set_read("gone", "bob", 2).await.expect("read");
    for (kind, user) in [
        (MessageKind::Invite, "carl"),
        (MessageKind::Mute, "bob"),
        (MessageKind::Ban, "dan"),
    ] {
        s.moderate(event("gone", "ann", kind, Moderation::on(user)))
            .await
            .expect("moderate");
    }
    let head = s.last_seq("gone").await.expect("last_seq");
    assert_eq!(head, 5);

    let entry = s
        .delete_room("gone", "ann", 1_800_000_000_000)
        .await
        .expect("delete");
    assert_eq!(
        (
            entry.room.as_str(),
            entry.seq,
            entry.actor.as_str(),
            &entry.action,
            entry.ts
        ),
        (
            "gone",
            6,
            "ann",
            &MessageKind::DeleteRoom,
            1_800_000_000_000
        )
    );
    assert_eq!(s.room("gone").await.expect("room"), None);
    let listed = s.list_rooms(Some("ann")).await.expect("list");
    assert_eq!(names_and_invited(&listed), [("kept", false)]);
    assert_eq!(
        names_and_invited(&s.list_rooms(Some("carl")).await.expect("list")),
        [("kept", false)],
        "the invitation went too"
    );
    let page = s
        .history("gone", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert!(page.messages.is_empty(), "{page:?}");
    assert_eq!(s.member("gone", "ann").await.expect("member"), None);
    assert!(s.members("gone").await.expect("members").is_empty());
    assert_eq!(s.mute("gone", "bob").await.expect("mute"), None);
    assert_eq!(s.ban("gone", "dan").await.expect("ban"), None);
    assert!(!s.invited("gone", "carl").await.expect("invited"));
    assert_eq!(s.read_position("gone", "bob").await.expect("read"), 0);
    let hits = s
        .search(SearchQuery {
            room: None,
            text: "zebrafish".into(),
            limit: 10,
        })
        .await
        .expect("search");
    let rooms: Vec<&str> = hits.iter().map(|m| m.room.as_str()).collect();
    assert_eq!(rooms, ["kept"], "only the kept room's message is found");
    let audit = s.audit("gone", None, 10).await.expect("audit");
    let actions: Vec<_> = audit.iter().map(|a| (a.seq, a.action.clone())).collect();
    assert_eq!(
        actions,
        [
            (6, MessageKind::DeleteRoom),
            (5, MessageKind::Ban),
            (4, MessageKind::Mute),
            (3, MessageKind::Invite),
        ],
        "the audit log stays, the deletion last"
    );

    // Nothing writes to it again, and its name is not reused.
    let refused = s.append(msg("gone", "ann", "hello?", None)).await;
    assert!(matches!(refused, Err(Error::UnknownRoom(_))), "{refused:?}");
    let topic = {
        let mut m = msg("gone", "ann", "back", None);
        m.kind = MessageKind::Topic;
        m
    };
    let refused = s.moderate(topic).await;
    assert!(matches!(refused, Err(Error::UnknownRoom(_))), "{refused:?}");
    let again = s
        .create_room(NewRoom {
            name: "gone".into(),
            kind: RoomKind::Public,
            creator: "eve".into(),
            created: 1,
        })
        .await;
    assert!(matches!(again, Err(Error::UnknownRoom(_))), "{again:?}");
    assert_eq!(s.room("gone").await.expect("room"), None);
    let twice = s.delete_room("gone", "ann", 1).await;
    assert!(matches!(twice, Err(Error::UnknownRoom(_))), "{twice:?}");
    assert!(s.set_description("gone", Some("x")).await.is_err());
    assert_eq!(s.audit("gone", None, 10).await.expect("audit").len(), 4);

    // Its nonces are free again; the other room is whole.
    let reused = s
        .append(msg("kept", "bob", "same nonce", Some("n-1")))
        .await
        .expect("append");
    assert!(!reused.duplicate);
    assert_eq!(reused.message.seq, 2);
    assert_eq!(s.members("kept").await.expect("members").len(), 2);
}
