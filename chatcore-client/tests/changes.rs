//! Edits, deletes, reactions and threads through the client over real sockets, merged into a
//! `RoomView` from live events and history pages.

mod common;

use chatcore_client::{
    Client, ClientEvent, ErrorCode, HistoryQuery, MessageKind, OutgoingMessage, RoomView,
};
use chatcore_testkit::*;
use common::*;

#[tokio::test]
async fn changes_reach_a_room_view_once_from_pages_and_live_events() {
    let server = TestServer::start().await;
    let (ann, _ann_events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("ann");
    let (bob, mut bob_events) = Client::connect(config(&server.url(""), "bob"))
        .await
        .expect("bob");
    ann.join("r").await.expect("join");
    bob.join("r").await.expect("join");
    let first = ann.send("r", "hello wrld").await.expect("send");
    let second = ann.send("r", "oops").await.expect("send");
    let edited = ann.edit("r", first.seq, "hello world").await.expect("edit");
    let reacted = bob.react("r", first.seq, "👍").await.expect("react");
    ann.delete("r", second.seq).await.expect("delete");
    let mut reply = OutgoingMessage::new("r", "indeed");
    reply.reply_to = Some(first.seq);
    let replied = bob.send_message(reply).await.expect("reply");

    // A page read now is current to the newest seq; the live events that trail it are
    // skipped by the view, not applied a second time.
    let page = bob
        .history("r", HistoryQuery::latest())
        .await
        .expect("history");
    assert_eq!(page.current_to, replied.seq);
    let mut view = RoomView::new("bob");
    view.apply_page(page.messages, page.current_to);
    for _ in 0..6 {
        view.apply_event(next_message(&mut bob_events).await);
    }
    let one = view.get(first.seq).expect("first");
    assert_eq!(one.text, "hello world");
    assert_eq!(one.edited_ts, Some(edited.ts));
    assert_eq!(one.reactions.len(), 1);
    assert_eq!((one.reactions[0].count, one.reactions[0].me), (1, true));
    assert_eq!(one.thread.as_ref().map(|t| t.replies), Some(1));
    let two = view.get(second.seq).expect("second");
    assert!(two.deleted.is_some() && two.text.is_empty());
    assert_eq!(
        view.get(reacted.seq).map(|m| m.kind.clone()),
        Some(MessageKind::React)
    );

    let thread = ann
        .thread("r", first.seq, None, Some(10))
        .await
        .expect("thread");
    assert_eq!(
        thread.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [replied.seq]
    );

    let refused = bob
        .edit("r", first.seq, "not mine")
        .await
        .expect_err("bob edits ann's");
    assert_eq!(refused.code(), Some(ErrorCode::Forbidden));
    let refused = bob.react("r", first.seq, "👍").await.expect_err("twice");
    assert_eq!(refused.code(), Some(ErrorCode::Invalid));
}

#[tokio::test]
async fn a_read_marked_without_an_answer_reaches_the_users_other_device() {
    let server = TestServer::start().await;
    let (ann, _ann_events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("ann");
    let (phone, _phone_events) = Client::connect(config(&server.url(""), "bob"))
        .await
        .expect("phone");
    let (laptop, mut laptop_events) = Client::connect(config(&server.url(""), "bob"))
        .await
        .expect("laptop");
    ann.join("r").await.expect("join");
    phone.join("r").await.expect("join");
    let sent = ann.send("r", "hi @bob").await.expect("send");
    phone.mark_read("r", sent.seq).expect("mark");
    let moved = next_matching(&mut laptop_events, |e| match e {
        ClientEvent::Read { room, seq } => Some((room, seq)),
        _ => None,
    })
    .await;
    assert_eq!(moved, ("r".to_owned(), sent.seq));
    let badge = laptop.rooms().await.expect("rooms");
    let r = badge.iter().find(|r| r.name == "r").expect("listed");
    assert_eq!((r.unread, r.mentions), (0, 0));
}
