//! The [`Store`](crate::store::Store) contract for read positions as badges: unread and
//! mention counts (issue #13, "Read receipts and unread counts"). Every case takes a
//! [`StoreFactory`] and panics on a violation.

use super::StoreFactory;
use super::fixtures::{create_room, new_message as msg};
use crate::protocol::{MessageKind, Moderation, RoomKind};
use crate::store::{MAX_UNREAD, NewMessage, ReadMark, Unread};

fn counts(room: &str, unread: u64, mentions: u64) -> Unread {
    Unread {
        room: room.to_owned(),
        unread,
        mentions,
    }
}

fn mentioning(room: &str, sender: &str, text: &str, who: &[&str]) -> NewMessage {
    let mut m = msg(room, sender, text, None);
    m.mentions = who.iter().map(|u| (*u).to_owned()).collect();
    m
}

/// Only others' messages after the read position count; change and moderation events and
/// the user's own messages never do; mentions count only the user's own name; the read
/// position clears both; an unknown room counts 0; rooms come back in the order asked.
pub async fn unread_counts_follow_the_read_position(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "a", RoomKind::Public).await;
    create_room(s.as_ref(), "b", RoomKind::Private).await;
    let mut edit = msg("a", "ann", "fixed", None);
    edit.kind = MessageKind::Edit;
    edit.target = Some(1);
    let mut react = msg("a", "cy", "👍", None);
    react.kind = MessageKind::React;
    react.target = Some(1);
    let mut kick = msg("a", "ann", "ann kicked dan", None);
    kick.kind = MessageKind::Kick;
    kick.moderation = Some(Moderation::on("dan"));
    let mut custom = msg("a", "shop", "order placed", None);
    custom.kind = MessageKind::Custom("shop.order".into());
    let appends = [
        mentioning("a", "ann", "hi @bob", &["bob"]),
        msg("a", "bob", "my own", None),
        edit,
        react,
        kick,
        mentioning("a", "cy", "@bobby and @ann", &["ann", "bobby"]),
        custom,
        mentioning("b", "ann", "@bob private", &["bob"]),
    ];
    for m in appends {
        s.append(m).await.expect("append");
    }
    let rooms = ["b".to_owned(), "a".to_owned(), "ghost".to_owned()];
    assert_eq!(
        s.unread("bob", &rooms).await.expect("unread"),
        [counts("b", 1, 1), counts("a", 3, 1), counts("ghost", 0, 0)],
        "ann's two messages and the custom one; one mention of bob, not of bobby"
    );
    assert_eq!(
        s.unread("ann", &rooms[1..2]).await.expect("unread"),
        [counts("a", 3, 1)],
        "bob's, cy's and the shop's messages for ann, and cy's mention"
    );
    s.set_read("a", "bob", 1).await.expect("read");
    assert_eq!(
        s.unread("bob", &rooms[1..2]).await.expect("unread"),
        [counts("a", 2, 0)],
        "the mention at seq 1 is read"
    );
    s.set_read("a", "bob", 7).await.expect("read");
    s.set_read("b", "bob", 1).await.expect("read");
    assert_eq!(
        s.unread("bob", &rooms[..2]).await.expect("unread"),
        [counts("b", 0, 0), counts("a", 0, 0)]
    );
    assert!(s.unread("bob", &[]).await.expect("unread").is_empty());
}

/// A reader far behind sees at most [`MAX_UNREAD`]: the count's work is bounded.
pub async fn unread_counts_are_capped(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "busy", RoomKind::Public).await;
    let mut pending = Vec::new();
    for i in 0..MAX_UNREAD + 5 {
        pending.push(s.append(msg("busy", "ann", &format!("m{i}"), None)));
    }
    for p in pending {
        p.await.expect("append");
    }
    let got = s.unread("bob", &["busy".to_owned()]).await.expect("unread");
    assert_eq!(got, [counts("busy", MAX_UNREAD, 0)]);
    s.set_read("busy", "bob", 100).await.expect("read");
    let got = s.unread("bob", &["busy".to_owned()]).await.expect("unread");
    assert_eq!(got, [counts("busy", MAX_UNREAD + 5 - 100, 0)]);
}

/// A batch of read positions ([`set_reads`](crate::store::Store::set_reads)) moves each pair
/// forwards only, the same pair twice keeps the higher seq, and a room that does not exist
/// is skipped without failing the batch or touching the others.
pub async fn read_batches_move_forward_and_skip_unknown_rooms(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "a", RoomKind::Public).await;
    create_room(s.as_ref(), "b", RoomKind::Public).await;
    s.set_read("a", "bob", 5).await.expect("read");
    let mark = |room: &str, user: &str, seq| ReadMark {
        room: room.to_owned(),
        user: user.to_owned(),
        seq,
    };
    s.set_reads(&[
        mark("a", "bob", 3),
        mark("b", "bob", 7),
        mark("nowhere", "bob", 9),
        mark("b", "cat", 2),
        mark("b", "cat", 4),
        mark("a", "cat", 1),
    ])
    .await
    .expect("a batch with an unknown room");
    let at = |room: &'static str, user: &'static str| {
        let s = &s;
        async move { s.read_position(room, user).await.expect("position") }
    };
    assert_eq!(at("a", "bob").await, 5, "never backwards");
    assert_eq!(at("b", "bob").await, 7);
    assert_eq!(at("b", "cat").await, 4, "the higher of one pair's two");
    assert_eq!(at("a", "cat").await, 1);
    assert_eq!(at("nowhere", "bob").await, 0);
    s.set_reads(&[]).await.expect("an empty batch");
}
