//! The [`RoomAuthority::admit`](crate::store::RoomAuthority::admit) contract: a join's
//! checks and its membership in one step, so that a ban and a join racing each other never
//! leave a banned member. Every case takes a [`StoreFactory`] and panics on a violation.

use super::StoreFactory;
use super::fixtures::create_room;
use super::moderation::event;
use crate::protocol::{MessageKind, Moderation, Role, RoomKind};
use crate::store::Admission;
use crate::{Error, now_millis};

/// An active ban refuses and a lapsed one does not; an invite-only room admits its members
/// and the invited and refuses everyone else; a refusal writes nothing; an unknown room is
/// an error.
pub async fn admission_checks_bans_and_invitations(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "open", RoomKind::Public).await;
    let until = now_millis() + 60_000;
    let ban = Moderation::on("bob").reason("spam").until(until);
    s.moderate(event("open", "ann", MessageKind::Ban, ban))
        .await
        .expect("ban");
    match s.admit("open", "bob", false, now_millis()).await {
        Ok(Admission::Banned(r)) => assert_eq!(
            (r.user.as_str(), r.reason.as_deref(), r.until),
            ("bob", Some("spam"), Some(until))
        ),
        other => panic!("a banned user was not refused: {other:?}"),
    }
    assert_eq!(s.member("open", "bob").await.expect("member"), None);
    let later = s.admit("open", "bob", false, until).await.expect("admit");
    assert_eq!(later, Admission::Member, "a timed ban lapses at its end");
    let member = s.member("open", "bob").await.expect("member");
    assert_eq!(member.map(|m| m.role), Some(Role::Member));

    create_room(s.as_ref(), "club", RoomKind::Private).await;
    s.add_member("club", "ann", Role::Owner).await.expect("add");
    let invite = Moderation::on("cy");
    s.moderate(event("club", "ann", MessageKind::Invite, invite))
        .await
        .expect("invite");
    let now = now_millis();
    assert_eq!(
        s.admit("club", "dan", true, now).await.expect("admit"),
        Admission::Uninvited
    );
    assert_eq!(s.member("club", "dan").await.expect("member"), None);
    assert_eq!(
        s.admit("club", "cy", true, now).await.expect("admit"),
        Admission::Member
    );
    assert!(s.member("club", "cy").await.expect("member").is_some());
    assert_eq!(
        s.admit("club", "ann", true, now).await.expect("admit"),
        Admission::Member
    );
    let owner = s.member("club", "ann").await.expect("member");
    assert_eq!(
        owner.map(|m| m.role),
        Some(Role::Owner),
        "a member keeps their role"
    );

    match s.admit("nowhere", "bob", false, now).await {
        Err(Error::UnknownRoom(room)) => assert_eq!(room, "nowhere"),
        other => panic!("an unknown room was not refused: {other:?}"),
    }
}

/// Joins and bans of the same user, started together in many rooms: whichever way each race
/// goes, no room ends with its banned user as a member, and a refused join said so.
pub async fn concurrent_bans_and_joins_never_both_win(f: &impl StoreFactory) {
    let s = f.open().await;
    for i in 0..40 {
        let room = format!("race{i}");
        create_room(s.as_ref(), &room, RoomKind::Public).await;
        let ban = event(&room, "ann", MessageKind::Ban, Moderation::on("bob"));
        let (admitted, banned) =
            tokio::join!(s.admit(&room, "bob", false, now_millis()), s.moderate(ban));
        banned.expect("ban");
        let member = s.member(&room, "bob").await.expect("member");
        assert_eq!(member, None, "{room}: the banned user is a member");
        match admitted.expect("admit") {
            // The join committed first and the ban ended its membership.
            Admission::Member => {}
            Admission::Banned(r) => assert_eq!(r.user, "bob"),
            other => panic!("{room}: unexpected admission {other:?}"),
        }
    }
}
