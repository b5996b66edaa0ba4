//! The client against a real server over real sockets: commands and events — chat between
//! clients, direct messages, both codecs, cards, and a repeated nonce's ack.

mod common;

use chatcore_client::{
    Client, ClientEvent, Codec, Error, ErrorCode, HistoryQuery, OutgoingMessage, RoomKind,
};
use chatcore_testkit::*;
use common::*;

#[tokio::test]
async fn two_clients_chat() {
    let server = TestServer::start().await;
    let (ann, mut ann_events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("ann");
    let (bob, mut bob_events) = Client::connect(config(&server.url(""), "bob"))
        .await
        .expect("bob");
    assert_eq!(ann.session().map(|s| s.user), Some("ann".to_owned()));

    let joined = ann.join("general").await.expect("join");
    assert_eq!((joined.kind, joined.last_seq), (RoomKind::Public, 0));
    bob.join("general").await.expect("bob joins");
    let user = next_matching(&mut ann_events, |e| match e {
        ClientEvent::UserJoined { user, .. } => Some(user),
        _ => None,
    })
    .await;
    assert_eq!(user, "bob");

    let ack = ann.send("general", "hello bob").await.expect("send");
    assert_eq!((ack.seq, ack.duplicate), (1, false));
    let m = next_message(&mut bob_events).await;
    assert_eq!(
        (m.seq, m.sender.as_str(), m.text.as_str()),
        (1, "ann", "hello bob")
    );
    assert_eq!(m.nonce.as_deref(), Some(ack.nonce.as_str()));
    // The sender sees its own message too, matched by nonce.
    let own = next_message(&mut ann_events).await;
    assert_eq!(own.id, ack.msg_id);

    bob.typing("general", true).expect("typing");
    let typing = next_matching(&mut ann_events, |e| match e {
        ClientEvent::Typing { user, on, .. } => Some((user, on)),
        _ => None,
    })
    .await;
    assert_eq!(typing, ("bob".to_owned(), true));

    let reply = OutgoingMessage::new("general", "waves").emote().reply_to(1);
    let ack2 = bob.send_message(reply).await.expect("emote");
    assert_eq!(ack2.seq, 2);
    let m2 = next_message(&mut ann_events).await;
    assert_eq!(
        (m2.kind, m2.reply_to),
        (chatcore_client::MessageKind::Emote, Some(1))
    );

    assert_eq!(ann.who("general").await.expect("who"), ["ann", "bob"]);
    let rooms = ann.rooms().await.expect("rooms");
    assert_eq!(
        rooms
            .iter()
            .map(|r| (r.name.as_str(), r.last_seq))
            .collect::<Vec<_>>(),
        [("general", 2)]
    );
    let page = bob
        .history("general", HistoryQuery::before(3).with_limit(1))
        .await
        .expect("history");
    assert_eq!(
        (page.messages.len(), page.messages[0].seq, page.has_more),
        (1, 2, true)
    );
    assert!(ann.ping().await.expect("ping") < BOUND);
    assert_eq!(ann.joined_rooms(), [("general".to_owned(), 2)]);

    // A late joiner gets recent history in the reply, not on the stream.
    let (carol, _carol_events) = Client::connect(config(&server.url(""), "carol"))
        .await
        .expect("carol");
    let joined = carol.join("general").await.expect("join");
    assert_eq!(
        joined.history.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2]
    );

    bob.leave("general").await.expect("leave");
    let left = next_matching(&mut ann_events, |e| match e {
        ClientEvent::UserLeft { user, .. } => Some(user),
        _ => None,
    })
    .await;
    assert_eq!(left, "bob");
    assert!(bob.joined_rooms().is_empty());
    ann.close().await.expect("close");
    bob.close().await.expect("close");
}

#[tokio::test]
async fn direct_messages_join_both_sides() {
    let server = TestServer::start().await;
    let (ann, mut ann_events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("ann");
    let (_bob, mut bob_events) = Client::connect(config(&server.url(""), "bob"))
        .await
        .expect("bob");
    let ack = ann.dm("bob", "psst").await.expect("dm");
    assert_eq!(ack.room, "dm:ann:bob");
    for events in [&mut ann_events, &mut bob_events] {
        let joined = next_matching(events, |e| match e {
            ClientEvent::Joined(j) => Some(j),
            _ => None,
        })
        .await;
        assert_eq!(
            (joined.room.as_str(), joined.kind),
            ("dm:ann:bob", RoomKind::Direct)
        );
        let m = next_message(events).await;
        assert_eq!(m.text, "psst");
    }
    assert_eq!(ann.joined_rooms(), [("dm:ann:bob".to_owned(), 1)]);
}

#[tokio::test]
async fn msgpack_codec_works_end_to_end() {
    let server = TestServer::start().await;
    let cfg = config(&server.url(""), "ann").with_codec(Codec::MsgPack);
    let (ann, mut events) = Client::connect(cfg).await.expect("connect");
    ann.join("general").await.expect("join");
    let ack = ann.send("general", "héllo 👋").await.expect("send");
    let m = next_message(&mut events).await;
    assert_eq!((m.seq, m.text.as_str()), (ack.seq, "héllo 👋"));
}

/// A bot sends an application's card over MessagePack; a JSON client receives the kind and
/// the data exactly, and a kind without a namespace is refused by the server.
#[tokio::test]
async fn cards_travel_between_codecs_over_real_sockets() {
    let server = TestServer::start().await;
    let cfg = config(&server.url(""), "shopbot").with_codec(Codec::MsgPack);
    let (bot, _bot_events) = Client::connect(cfg).await.expect("bot");
    let (ann, mut ann_events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("ann");
    bot.join("general").await.expect("join");
    ann.join("general").await.expect("join");
    // The welcome said how large a card may be, in both codecs.
    for c in [&bot, &ann] {
        assert_eq!(c.session().expect("session").max_data_bytes, 4096);
    }
    let card = chatcore_testkit::fixtures::card(12);
    let ack = bot
        .send_message(
            OutgoingMessage::new("general", "Order 12 shipped").card("shop.order", card.clone()),
        )
        .await
        .expect("card");
    let m = next_message(&mut ann_events).await;
    assert_eq!(m.seq, ack.seq);
    assert_eq!(m.kind.as_str(), "shop.order");
    assert_eq!(m.data, Some(card.clone()));
    assert_eq!(m.text, "Order 12 shipped");
    match bot
        .send_message(OutgoingMessage::new("general", "x").card("order", card))
        .await
    {
        Err(Error::Server { code, .. }) => assert_eq!(code, ErrorCode::Invalid),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn a_repeated_nonce_returns_the_original_ack() {
    let server = TestServer::start().await;
    let (ann, _events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("connect");
    ann.join("general").await.expect("join");
    let first = ann
        .send_message(OutgoingMessage::new("general", "once").with_nonce("n-1"))
        .await
        .expect("send");
    let again = ann
        .send_message(OutgoingMessage::new("general", "once").with_nonce("n-1"))
        .await
        .expect("retry");
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!((again.seq, &again.msg_id), (first.seq, &first.msg_id));
    assert_eq!(server.stored("general").await.len(), 1);
}
