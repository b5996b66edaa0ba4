//! The [`RoomAuthority`](crate::store::RoomAuthority) contract: moderation events applied,
//! audited and sequenced in one transaction; bans, mutes, invitations, roles, the topic and
//! direct-message blocks. Every case takes a [`StoreFactory`] and panics on a violation.

use super::StoreFactory;
use super::fixtures::{create_room, new_message as msg};
use crate::protocol::{MessageKind, Moderation, Role, RoomKind};
use crate::store::{HistoryQuery, NewMessage, Store};
use crate::{Error, now_millis};

/// A moderation event from `actor` of `kind` with `details`.
pub fn event(room: &str, actor: &str, kind: MessageKind, details: Moderation) -> NewMessage {
    let mut m = msg(room, actor, &format!("{actor} did {}", kind.as_str()), None);
    m.kind = kind;
    m.moderation = Some(details);
    m
}

async fn room_with(s: &dyn Store, room: &str, kind: RoomKind, members: &[(&str, Role)]) {
    create_room(s, room, kind).await;
    for (user, role) in members {
        s.add_member(room, user, *role).await.expect("add_member");
    }
}

/// A kick is the room's next event, ends the membership and leaves one audit row saying
/// who, what, whom, when and why.
pub async fn kick_is_one_event_with_its_audit_row(f: &impl StoreFactory) {
    let s = f.open().await;
    let members = [("ann", Role::Owner), ("bob", Role::Member)];
    room_with(s.as_ref(), "mods", RoomKind::Public, &members).await;
    s.append(msg("mods", "bob", "spam spam", None))
        .await
        .expect("append");
    let kick = event(
        "mods",
        "ann",
        MessageKind::Kick,
        Moderation::on("bob").reason("spam"),
    );
    let stored = s.moderate(kick).await.expect("kick").message;
    assert_eq!((stored.seq, &stored.kind), (2, &MessageKind::Kick));
    let page = s
        .history("mods", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert_eq!(
        page.messages.last(),
        Some(&stored),
        "the event is in history"
    );
    assert_eq!(s.member("mods", "bob").await.expect("member"), None);
    let audit = s.audit("mods", None, 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    let row = &audit[0];
    assert_eq!(
        (
            row.seq,
            row.actor.as_str(),
            &row.action,
            row.user.as_deref(),
            row.reason.as_deref(),
            row.ts
        ),
        (
            2,
            "ann",
            &MessageKind::Kick,
            Some("bob"),
            Some("spam"),
            stored.ts
        )
    );
}

/// Bans end membership and invitation and are lifted by `unban`; mutes are recorded and
/// lifted; a timed restriction lapses by itself; invitations are recorded.
pub async fn bans_mutes_and_invitations(f: &impl StoreFactory) {
    let s = f.open().await;
    let members = [("ann", Role::Owner), ("bob", Role::Member)];
    room_with(s.as_ref(), "club", RoomKind::Private, &members).await;
    let invite = event("club", "ann", MessageKind::Invite, Moderation::on("cy"));
    s.moderate(invite).await.expect("invite");
    assert!(s.invited("club", "cy").await.expect("invited"));
    assert!(!s.invited("club", "bob").await.expect("invited"));

    let until = now_millis() + 60_000;
    let ban = event(
        "club",
        "ann",
        MessageKind::Ban,
        Moderation::on("cy").reason("abuse").until(until),
    );
    s.moderate(ban).await.expect("ban");
    let stored = s.ban("club", "cy").await.expect("ban").expect("a ban");
    assert_eq!(
        (
            stored.by.as_str(),
            stored.reason.as_deref(),
            stored.until,
            stored.active_at(now_millis())
        ),
        ("ann", Some("abuse"), Some(until), true)
    );
    assert!(!stored.active_at(until), "a timed ban lapses at its end");
    assert!(
        !s.invited("club", "cy").await.expect("invited"),
        "a ban takes the invitation back"
    );
    let unban = event("club", "ann", MessageKind::Unban, Moderation::on("cy"));
    s.moderate(unban).await.expect("unban");
    assert_eq!(s.ban("club", "cy").await.expect("ban"), None);

    let ban_bob = event("club", "ann", MessageKind::Ban, Moderation::on("bob"));
    s.moderate(ban_bob).await.expect("ban");
    assert_eq!(s.member("club", "bob").await.expect("member"), None);
    let forever = s.ban("club", "bob").await.expect("ban").expect("a ban");
    assert_eq!(forever.until, None);
    assert!(forever.active_at(i64::MAX));

    let mute = event(
        "club",
        "ann",
        MessageKind::Mute,
        Moderation::on("dan").until(5),
    );
    s.moderate(mute).await.expect("mute");
    let m = s.mute("club", "dan").await.expect("mute").expect("a mute");
    assert_eq!(
        (m.until, m.active_at(4), m.active_at(5)),
        (Some(5), true, false)
    );
    let unmute = event("club", "ann", MessageKind::Unmute, Moderation::on("dan"));
    s.moderate(unmute).await.expect("unmute");
    assert_eq!(s.mute("club", "dan").await.expect("mute"), None);
    assert_eq!(s.mute("other", "dan").await.expect("mute"), None);

    let audit = s.audit("club", None, 100).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["unmute", "mute", "ban", "unban", "ban", "invite"],
        "newest first"
    );
    let seqs: Vec<u64> = audit.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [6, 5, 4, 3, 2, 1]);
    assert_eq!(s.audit("club", None, 2).await.expect("audit").len(), 2);
}

/// A role change updates the membership; giving ownership away makes the old owner an
/// admin; a role change of a non-member is refused and writes nothing.
pub async fn roles_and_ownership_transfer(f: &impl StoreFactory) {
    let s = f.open().await;
    let members = [("ann", Role::Owner), ("bob", Role::Member)];
    room_with(s.as_ref(), "team", RoomKind::Public, &members).await;
    let promote = event(
        "team",
        "ann",
        MessageKind::SetRole,
        Moderation::on("bob").role(Role::Moderator),
    );
    s.moderate(promote).await.expect("promote");
    let role = |u: &'static str| {
        let s = s.clone();
        async move { s.member("team", u).await.expect("member").map(|m| m.role) }
    };
    assert_eq!(role("bob").await, Some(Role::Moderator));
    let transfer = event(
        "team",
        "ann",
        MessageKind::SetRole,
        Moderation::on("bob").role(Role::Owner),
    );
    s.moderate(transfer).await.expect("transfer");
    assert_eq!(
        (role("ann").await, role("bob").await),
        (Some(Role::Admin), Some(Role::Owner))
    );
    let stranger = event(
        "team",
        "bob",
        MessageKind::SetRole,
        Moderation::on("zed").role(Role::Admin),
    );
    let refused = s.moderate(stranger).await;
    assert!(matches!(refused, Err(Error::NotMember(_))), "{refused:?}");
    assert_eq!(s.last_seq("team").await.expect("last_seq"), 2);
    assert_eq!(s.audit("team", None, 10).await.expect("audit").len(), 2);
    assert_eq!(role("zed").await, None);
}

/// The topic event sets the room's topic; an empty one clears it.
pub async fn topic_is_set_by_its_event(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "talk", RoomKind::Public).await;
    let mut topic = event("talk", "ann", MessageKind::Topic, Moderation::default());
    topic.moderation = None;
    topic.text = "Rust & <chat> 🚀".into();
    s.moderate(topic.clone()).await.expect("topic");
    let room = s.room("talk").await.expect("room").expect("exists");
    assert_eq!(room.topic.as_deref(), Some("Rust & <chat> 🚀"));
    topic.id = ulid::Ulid::generate().to_string();
    topic.text = String::new();
    s.moderate(topic).await.expect("clear");
    let room = s.room("talk").await.expect("room").expect("exists");
    assert_eq!(room.topic, None);
    let audit = s.audit("talk", None, 10).await.expect("audit");
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].user, None);
}

/// Refused events (unknown room, not a moderation kind, no user, a nonce) write nothing:
/// no seq, no audit row, no state.
pub async fn refused_actions_write_nothing(f: &impl StoreFactory) {
    let s = f.open().await;
    let members = [("ann", Role::Owner), ("bob", Role::Member)];
    room_with(s.as_ref(), "safe", RoomKind::Public, &members).await;
    let ghost = event("ghost", "ann", MessageKind::Ban, Moderation::on("bob"));
    assert!(matches!(
        s.moderate(ghost).await,
        Err(Error::UnknownRoom(_))
    ));
    let mut text = event("safe", "ann", MessageKind::Text, Moderation::on("bob"));
    text.text = "not an action".into();
    let mut nobody = event("safe", "ann", MessageKind::Kick, Moderation::default());
    nobody.moderation = None;
    let mut nonced = event("safe", "ann", MessageKind::Kick, Moderation::on("bob"));
    nonced.nonce = Some("n-1".into());
    let no_role = event("safe", "ann", MessageKind::SetRole, Moderation::on("bob"));
    for bad in [text, nobody, nonced, no_role] {
        let answer = s.moderate(bad.clone()).await;
        assert!(
            matches!(answer, Err(Error::Invalid { .. })),
            "{bad:?}: {answer:?}"
        );
    }
    assert_eq!(s.last_seq("safe").await.expect("last_seq"), 0);
    assert!(s.audit("safe", None, 10).await.expect("audit").is_empty());
    assert!(s.member("safe", "bob").await.expect("member").is_some());
}

/// Moderation events and appends share the room's one gapless sequence, also when they
/// race each other.
pub async fn moderation_and_appends_share_one_sequence(f: &impl StoreFactory) {
    let s = f.open().await;
    let members = [("ann", Role::Owner), ("bob", Role::Member)];
    room_with(s.as_ref(), "line", RoomKind::Public, &members).await;
    let mut racing = Vec::new();
    for i in 0..10 {
        let (s1, s2) = (s.clone(), s.clone());
        racing.push(tokio::spawn(async move {
            s1.append(msg("line", "bob", &format!("m{i}"), None)).await
        }));
        racing.push(tokio::spawn(async move {
            let kind = if i % 2 == 0 {
                MessageKind::Mute
            } else {
                MessageKind::Unmute
            };
            s2.moderate(event("line", "ann", kind, Moderation::on("bob")))
                .await
        }));
    }
    let mut seqs = Vec::new();
    for task in racing {
        seqs.push(task.await.expect("task").expect("stored").message.seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<u64>>());
    let page = s
        .history("line", HistoryQuery::latest(50))
        .await
        .expect("history");
    let stored: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(stored, (1..=20).collect::<Vec<u64>>());
    assert_eq!(s.audit("line", None, 50).await.expect("audit").len(), 10);
}

/// A user blocks and unblocks another's direct messages; blocks are one-way.
pub async fn dm_blocks(f: &impl StoreFactory) {
    let s = f.open().await;
    assert!(!s.blocks("ann", "bob").await.expect("blocks"));
    s.set_block("ann", "bob", true).await.expect("block");
    s.set_block("ann", "bob", true).await.expect("idempotent");
    assert!(s.blocks("ann", "bob").await.expect("blocks"));
    assert!(!s.blocks("bob", "ann").await.expect("one-way"));
    s.set_block("ann", "bob", false).await.expect("unblock");
    assert!(!s.blocks("ann", "bob").await.expect("blocks"));
}
