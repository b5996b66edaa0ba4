//! Custom payloads: an application's namespaced kind with a JSON `data` object reaches every
//! member in both codecs, is stored, replayed and streamed as it was sent; bad payloads get
//! their exact error and store nothing; a policy may attach metadata, and the size limit
//! counts it.

use std::time::Duration;

use chatcore::auth::Identity;
use chatcore::events::StreamConfig;
use chatcore::policy::{Draft, Policy};
use chatcore::protocol::{
    Codec, Command, Data, Event, MAX_DATA_DEPTH, Message, MessageKind, Request, RoomKind,
};
use chatcore::store::HistoryQuery;
use chatcore::{ErrorCode, HostPost, Hub, Limits, Result};
use chatcore_testkit::fixtures::card;
use chatcore_testkit::{SessionProbe, memory_hub, send_card};

fn object(value: serde_json::Value) -> Data {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// `{"a":{"a":…{}…}}`, `levels` objects deep, built without recursion.
fn nested(levels: usize) -> Data {
    let mut inner = Data::new();
    for _ in 1..levels {
        let mut outer = Data::new();
        outer.insert("a".into(), serde_json::Value::Object(inner));
        inner = outer;
    }
    inner
}

/// Takes a deeply nested value apart level by level (serde_json drops it recursively).
fn dismantle(mut data: Data) {
    while let Some(serde_json::Value::Object(inner)) = data.remove("a") {
        data = inner;
    }
}

async fn error_of(c: &mut SessionProbe) -> (Option<u64>, ErrorCode, String) {
    match c.event().await {
        Event::Error {
            id, code, message, ..
        } => (id, code, message),
        e => panic!("expected an error, got {e:?}"),
    }
}

#[tokio::test]
async fn a_card_reaches_every_member_in_both_codecs_and_is_stored_replayed_and_streamed() {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect_with(&hub, "bob", Codec::MsgPack).await;
    ann.join("shop").await;
    bob.join("shop").await;
    let mut stream = hub
        .event_stream(StreamConfig::new("indexer"))
        .expect("stream");
    let id = ann
        .request(send_card(
            "shop",
            "shop.order",
            "Order 7: shipped",
            Some(card(7)),
        ))
        .await;
    // The sender's echo comes before its ack.
    let Event::Message(echo) = ann.until(|e| matches!(e, Event::Message(_))).await else {
        panic!("no echo");
    };
    let Event::Ack { seq, .. } = ann.reply(id).await else {
        panic!("no ack");
    };
    let expect = |m: &Message| {
        assert_eq!(m.seq, seq);
        assert_eq!(m.kind, MessageKind::Custom("shop.order".into()));
        assert_eq!(m.kind.as_str(), "shop.order");
        assert_eq!(m.text, "Order 7: shipped");
        assert_eq!(m.data, Some(card(7)), "data arrives exactly as sent");
    };
    expect(&echo);
    expect(&bob.messages("shop", 1).await[0]);
    let page = hub
        .read_history("shop", HistoryQuery::latest(5))
        .await
        .expect("history");
    expect(&page.messages[0]);
    expect(&stream.next().await.expect("streamed"));
    let mut carl = SessionProbe::connect_with(&hub, "carl", Codec::MsgPack).await;
    match carl.join_from("shop", Some(0)).await {
        Event::Joined { history, .. } => expect(&history[0]),
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn bad_payloads_get_their_exact_errors_and_store_nothing() {
    let hub = memory_hub().await;
    let mut c = SessionProbe::connect(&hub, "ann").await;
    c.join("shop").await;
    let max = hub.limits().max_data_bytes;
    assert_eq!(max, 4096, "the documented default");
    let raw: Vec<(String, Option<u64>, ErrorCode, &str)> = vec![
        (
            r#"{"type":"send","id":1,"room":"shop","text":"t","data":[1,2]}"#.into(),
            Some(1),
            ErrorCode::BadRequest,
            "expected a map",
        ),
        (
            r#"{"type":"send","id":2,"room":"shop","text":"t","data":"card"}"#.into(),
            Some(2),
            ErrorCode::BadRequest,
            "expected a map",
        ),
        (
            r#"{"type":"send","id":3,"room":"shop","text":"t","kind":"order"}"#.into(),
            Some(3),
            ErrorCode::Invalid,
            "needs a namespace, as `shop.order`",
        ),
        (
            r#"{"type":"send","id":4,"room":"shop","text":"t","kind":"Shop.Order"}"#.into(),
            Some(4),
            ErrorCode::Invalid,
            "needs a namespace",
        ),
        (
            format!(
                r#"{{"type":"send","id":5,"room":"shop","text":"t","kind":"shop.x","data":{}{}{}}}"#,
                r#"{"a":"#.repeat(10_000),
                "{}",
                "}".repeat(10_000)
            ),
            Some(5),
            ErrorCode::BadRequest,
            "recursion limit exceeded",
        ),
        (
            format!(
                r#"{{"type":"send","id":6,"room":"shop","text":"t","kind":"shop.x","data":{}{}{}}}"#,
                r#"{"a":"#.repeat(MAX_DATA_DEPTH),
                "{}",
                "}".repeat(MAX_DATA_DEPTH)
            ),
            Some(6),
            ErrorCode::Invalid,
            "data: nested deeper than 16 levels",
        ),
        (
            format!(
                r#"{{"type":"send","id":7,"room":"shop","text":"t","kind":"shop.x","data":{{"s":"{}"}}}}"#,
                "x".repeat(max - 7)
            ),
            Some(7),
            ErrorCode::TooLarge,
            "data",
        ),
    ];
    for (frame, id, code, says) in &raw {
        c.session.handle_frame(frame.as_bytes()).await;
        let (got_id, got_code, message) = error_of(&mut c).await;
        assert_eq!((got_id, got_code), (*id, *code), "{message}");
        assert!(message.contains(says), "{id:?}: {message}");
    }
    // Exactly at the limits: accepted.
    let at_limit = object(serde_json::json!({ "s": "x".repeat(max - 8) }));
    let id = c
        .request(send_card("shop", "shop.x", "t", Some(at_limit)))
        .await;
    assert!(matches!(c.reply(id).await, Event::Ack { seq: 1, .. }));
    let id = c
        .request(send_card(
            "shop",
            "shop.x",
            "t",
            Some(nested(MAX_DATA_DEPTH)),
        ))
        .await;
    assert!(matches!(c.reply(id).await, Event::Ack { seq: 2, .. }));
    // Refused sends took no seq, and the session still works.
    assert_eq!(hub.store().last_seq("shop").await.expect("seq"), 2);
    c.send("shop", "still here").await;
}

#[tokio::test]
async fn ten_thousand_levels_in_messagepack_are_a_bad_frame() {
    let hub = memory_hub().await;
    let mut c = SessionProbe::connect_with(&hub, "ann", Codec::MsgPack).await;
    c.join("shop").await;
    // {"type":"send","room":"shop","text":"t","data":{"a":{"a":…}}}, by hand: encoding a
    // value this deep with serde would recurse.
    let fixstr = |b: &mut Vec<u8>, s: &str| {
        b.push(0xa0 | s.len() as u8);
        b.extend_from_slice(s.as_bytes());
    };
    let mut frame = vec![0x84];
    for (k, v) in [("type", "send"), ("room", "shop"), ("text", "t")] {
        fixstr(&mut frame, k);
        fixstr(&mut frame, v);
    }
    fixstr(&mut frame, "data");
    for _ in 0..10_000 {
        frame.push(0x81);
        fixstr(&mut frame, "a");
    }
    frame.push(0x80);
    c.session.handle_frame(&frame).await;
    let (id, code, message) = error_of(&mut c).await;
    assert_eq!((id, code), (None, ErrorCode::BadFrame), "{message}");
    assert!(message.contains("depth limit exceeded"), "{message}");
    let ping = Codec::MsgPack.encode(&Request::new(9, Command::Ping {}));
    c.session.handle_frame(&ping).await;
    assert_eq!(c.event().await, Event::Pong { id: Some(9) });
    assert_eq!(hub.store().last_seq("shop").await.expect("seq"), 0);
}

#[tokio::test]
async fn the_host_posts_cards_and_bad_ones_change_nothing() {
    let hub = memory_hub().await;
    hub.create_room("shop", RoomKind::Public)
        .await
        .expect("room");
    let posted = hub
        .post(
            HostPost::system("shop", "Order 3: paid")
                .with_kind(MessageKind::from_name("shop.order"))
                .with_data(card(3))
                .with_nonce("order-3-paid"),
        )
        .await
        .expect("post");
    assert_eq!(posted.message.kind.as_str(), "shop.order");
    assert_eq!(posted.message.data, Some(card(3)));
    let deep = hub
        .post(
            HostPost::system("shop", "deep")
                .with_kind(MessageKind::from_name("shop.order"))
                .with_data(nested(10_000)),
        )
        .await
        .expect_err("10,000 levels");
    assert_eq!(deep.code(), ErrorCode::Invalid);
    assert_eq!(
        deep.to_string(),
        "invalid data: nested deeper than 16 levels"
    );
    let cases = [
        (
            HostPost::system("shop", "big").with_data(object(serde_json::json!({
                "s": "x".repeat(hub.limits().max_data_bytes)
            }))),
            ErrorCode::TooLarge,
        ),
        (
            HostPost::system("shop", "t").with_kind(MessageKind::from_name("order")),
            ErrorCode::Invalid,
        ),
        (
            HostPost::system("nowhere", "t").with_data(card(1)),
            ErrorCode::UnknownRoom,
        ),
    ];
    for (post, code) in cases {
        let err = hub.post(post).await.expect_err("refused");
        assert_eq!(err.code(), code, "{err}");
    }
    assert_eq!(hub.store().last_seq("shop").await.expect("seq"), 1);
    let page = hub
        .read_history("shop", HistoryQuery::latest(5))
        .await
        .expect("history");
    assert_eq!(page.messages, [posted.message]);
    // The test's own deep value is dropped without recursion too.
    dismantle(nested(10_000));
}

/// Tags every message with who screened it; "bloat" attaches more than the limit allows.
struct Tagger;

#[async_trait::async_trait]
impl Policy for Tagger {
    async fn send(&self, who: &Identity, _room: &str, draft: &mut Draft) -> Result<()> {
        draft.attach("screened_for", who.user.clone());
        draft.attach("client", "overwritten");
        if draft.text == "bloat" {
            draft.attach("blob", "x".repeat(5000));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_policy_attaches_metadata_and_the_limit_counts_it() {
    let hub = Hub::builder()
        .policy(Tagger)
        .limits(Limits::default().with_max_data_bytes(4096).expect("limits"))
        .build()
        .await
        .expect("hub");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    ann.join("shop").await;
    let sent = object(serde_json::json!({"order": 5, "client": "web"}));
    let id = ann
        .request(send_card("shop", "shop.order", "Order 5", Some(sent)))
        .await;
    let Event::Message(got) = ann.until(|e| matches!(e, Event::Message(_))).await else {
        panic!("no echo");
    };
    assert!(matches!(ann.reply(id).await, Event::Ack { .. }));
    assert_eq!(
        got.data,
        Some(object(serde_json::json!({
            "order": 5,
            "client": "overwritten",
            "screened_for": "ann",
        })))
    );
    // A plain text message gets data of its own.
    let id = ann.send_nowait("shop", "hello", None).await;
    let Event::Message(plain) = ann.until(|e| matches!(e, Event::Message(_))).await else {
        panic!("no echo");
    };
    assert!(matches!(ann.reply(id).await, Event::Ack { .. }));
    assert_eq!(
        plain.data,
        Some(object(
            serde_json::json!({"screened_for": "ann", "client": "overwritten"})
        ))
    );
    // Metadata past the limit: refused with too_large, nothing stored.
    let id = ann.send_nowait("shop", "bloat", None).await;
    let (got_id, code, message) = error_of(&mut ann).await;
    assert_eq!((got_id, code), (Some(id), ErrorCode::TooLarge), "{message}");
    assert_eq!(hub.store().last_seq("shop").await.expect("seq"), 2);
    assert!(
        tokio::time::timeout(Duration::from_millis(100), ann.event())
            .await
            .is_err(),
        "no message was delivered"
    );
}

/// `welcome` tells a client how large a card's data may be, as it tells the text limit.
#[tokio::test]
async fn welcome_says_how_large_data_may_be() {
    let limits = Limits::default().with_max_data_bytes(1000).expect("limits");
    let hub = Hub::builder().limits(limits).build().await.expect("hub");
    let ann = SessionProbe::connect(&hub, "ann").await;
    match ann.welcome {
        Some(Event::Welcome {
            max_text_bytes,
            max_data_bytes,
            ..
        }) => assert_eq!(
            (max_text_bytes, max_data_bytes),
            (hub.limits().max_text_bytes, 1000)
        ),
        other => panic!("{other:?}"),
    }
}
