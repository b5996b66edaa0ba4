//! Room and membership cases: creation, visibility, members and their read positions.

use super::helpers::room;
use crate::Error;
use crate::protocol::RoomKind;
use crate::store::{NewRoom, Role};
use crate::testing::StoreFactory;

/// create_room is idempotent and keeps the first creator, kind and time.
pub async fn rooms_are_created_once(f: &impl StoreFactory) {
    let s = f.open().await;
    let first = s
        .create_room(NewRoom {
            name: "r".into(),
            kind: RoomKind::Private,
            creator: "ann".into(),
            created: 111,
        })
        .await
        .expect("create");
    assert_eq!(
        (
            first.kind,
            first.creator.as_str(),
            first.created,
            first.last_seq,
            first.members
        ),
        (RoomKind::Private, "ann", 111, 0, 0)
    );
    assert_eq!(first.topic, None);
    let again = s
        .create_room(NewRoom {
            name: "r".into(),
            kind: RoomKind::Public,
            creator: "bob".into(),
            created: 222,
        })
        .await
        .expect("create again");
    assert_eq!(again, first);
    assert_eq!(s.room("r").await.expect("room"), Some(first));
}

/// Public rooms are listed for everyone; private and direct rooms only for their members.
pub async fn room_visibility(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "pub-b", RoomKind::Public).await;
    room(&s, "pub-a", RoomKind::Public).await;
    room(&s, "secret", RoomKind::Private).await;
    room(&s, "dm:ann:bob", RoomKind::Direct).await;
    s.add_member("secret", "ann", Role::Owner)
        .await
        .expect("add");
    s.add_member("dm:ann:bob", "ann", Role::Owner)
        .await
        .expect("add");
    s.add_member("dm:ann:bob", "bob", Role::Owner)
        .await
        .expect("add");
    let names = |rooms: Vec<crate::store::RoomRecord>| {
        rooms.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.list_rooms(None).await.expect("list")),
        ["pub-a", "pub-b"]
    );
    assert_eq!(
        names(s.list_rooms(Some("ann")).await.expect("list")),
        ["dm:ann:bob", "pub-a", "pub-b", "secret"]
    );
    assert_eq!(
        names(s.list_rooms(Some("bob")).await.expect("list")),
        ["dm:ann:bob", "pub-a", "pub-b"]
    );
    assert_eq!(
        names(s.list_rooms(Some("eve")).await.expect("list")),
        ["pub-a", "pub-b"]
    );
}

/// Memberships are idempotent, keep their role, and are counted.
pub async fn memberships(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    s.add_member("r", "bob", Role::Member).await.expect("add");
    s.add_member("r", "ann", Role::Owner).await.expect("add");
    s.add_member("r", "ann", Role::Member)
        .await
        .expect("add again");
    let members = s.members("r").await.expect("members");
    let view: Vec<_> = members.iter().map(|m| (m.user.as_str(), m.role)).collect();
    assert_eq!(view, [("ann", Role::Owner), ("bob", Role::Member)]);
    assert_eq!(s.room("r").await.expect("room").expect("exists").members, 2);
    assert_eq!(
        s.member("r", "ann").await.expect("member").map(|m| m.role),
        Some(Role::Owner)
    );
    s.remove_member("r", "ann").await.expect("remove");
    s.remove_member("r", "ann").await.expect("remove again");
    assert!(s.member("r", "ann").await.expect("member").is_none());
    assert_eq!(s.room("r").await.expect("room").expect("exists").members, 1);
    let err = s
        .add_member("ghost", "ann", Role::Member)
        .await
        .expect_err("unknown room");
    assert!(matches!(err, Error::UnknownRoom(_)), "{err:?}");
}

/// Read positions start at 0 and never move backwards.
pub async fn read_positions_never_move_back(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 0);
    s.set_read("r", "ann", 5).await.expect("set");
    s.set_read("r", "ann", 3).await.expect("set");
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 5);
    s.set_read("r", "ann", 9).await.expect("set");
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 9);
    assert_eq!(s.read_position("r", "bob").await.expect("read"), 0);
}
