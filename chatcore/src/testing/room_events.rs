//! The [`Store`](crate::store::Store) contract for room events beyond plain messages
//! (PROTOCOL.md, "Room events"): changes to earlier messages and moderation actions. Every
//! case takes a [`StoreFactory`] and panics on a violation.

use super::StoreFactory;
use super::fixtures::{create_room, new_message as msg};
use crate::protocol::{MessageKind, Moderation, Role, RoomKind};
use crate::store::{HistoryQuery, NewMessage};

/// A change event's target, a moderation event's details and a message's mentions are
/// stored with the event and read back exactly, by history and by a nonce retry; a
/// message without them reads back without them.
pub async fn event_fields_round_trip(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "mods", RoomKind::Public).await;
    let mut hello = msg("mods", "ann", "hi @bob and @cy", None);
    hello.mentions = vec!["bob".into(), "cy".into()];
    let mut react = msg("mods", "bob", "👍", None);
    react.kind = MessageKind::React;
    react.target = Some(1);
    let mut ban = msg(
        "mods",
        "ann",
        "ann banned dan until later: spam",
        Some("ban-1"),
    );
    ban.kind = MessageKind::Ban;
    ban.moderation = Some(Moderation::on("dan").reason("spam").until(i64::MAX));
    let mut promote = msg("mods", "ann", "ann made bob an admin", None);
    promote.kind = MessageKind::SetRole;
    promote.moderation = Some(Moderation::on("bob").role(Role::Admin));
    let plain = msg("mods", "cy", "plain", None);
    let sent: Vec<NewMessage> = vec![hello, react, ban.clone(), promote, plain];
    let mut stored = Vec::new();
    for m in &sent {
        stored.push(s.append(m.clone()).await.expect("append").message);
    }
    for (m, back) in sent.iter().zip(&stored) {
        assert_eq!(
            (
                &back.kind,
                back.target,
                back.moderation.as_deref(),
                &back.mentions
            ),
            (&m.kind, m.target, m.moderation.as_ref(), &m.mentions),
            "the append's answer carries the event's fields"
        );
    }
    let page = s
        .history("mods", HistoryQuery::latest(10))
        .await
        .expect("history");
    assert_eq!(page.messages, stored, "history reads every field back");
    assert_eq!(page.messages[4].target, None);
    assert_eq!(page.messages[4].moderation, None);
    assert!(page.messages[4].mentions.is_empty());

    let mut retry = ban;
    retry.moderation = Some(Moderation::on("eve"));
    let again = s.append(retry).await.expect("retry");
    assert!(again.duplicate);
    assert_eq!(
        again.message, stored[2],
        "the original's details, not the retry's"
    );
}
