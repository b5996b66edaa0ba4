//! The `edit`, `delete`, `react`, `unreact` and `thread` commands through real sessions:
//! who may do what, the stable code of every refusal (with nothing stored), hostile input,
//! live delivery of change events, resume after missing them, and the current state in
//! `history` and `thread` answers.

use std::sync::Arc;

use chatcore::auth::Identity;
use chatcore::protocol::{Codec, Command, Event, Message, MessageKind};
use chatcore::store::{MemoryStore, Role};
use chatcore::{ErrorCode, Hub};
use chatcore_testkit::{CallLog, HookedStore, SessionProbe, memory_hub};

fn edit(target: u64, text: &str) -> Command {
    Command::Edit {
        room: "r".into(),
        target,
        text: text.into(),
    }
}

fn delete(target: u64) -> Command {
    Command::Delete {
        room: "r".into(),
        target,
    }
}

fn react(target: u64, emoji: &str) -> Command {
    Command::React {
        room: "r".into(),
        target,
        emoji: emoji.into(),
    }
}

fn unreact(target: u64, emoji: &str) -> Command {
    Command::Unreact {
        room: "r".into(),
        target,
        emoji: emoji.into(),
    }
}

async fn acked(c: &mut SessionProbe, command: Command) -> u64 {
    let what = format!("{command:?}");
    let id = c.request(command).await;
    match c.reply(id).await {
        Event::Ack { seq, .. } => seq,
        e => panic!("{what}: {e:?}"),
    }
}

async fn refused(hub: &Hub, c: &mut SessionProbe, command: Command, code: ErrorCode) {
    let before = hub.store().last_seq("r").await.expect("last_seq");
    let what = format!("{command:?}");
    let id = c.request(command).await;
    assert_eq!(c.error(id).await, code, "{what:.120}");
    assert_eq!(
        hub.store().last_seq("r").await.expect("last_seq"),
        before,
        "{what:.120} stored something"
    );
}

/// ann and bob in `r`; ann's message 1, bob's message 2.
async fn world() -> (Hub, SessionProbe, SessionProbe) {
    let hub = memory_hub().await;
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    ann.join("r").await;
    bob.join("r").await;
    ann.send("r", "hello world").await;
    bob.send("r", "hi ann").await;
    (hub, ann, bob)
}

fn current(page: &Event, seq: u64) -> Message {
    match page {
        Event::History { messages, .. }
        | Event::Joined {
            history: messages, ..
        } => messages
            .iter()
            .find(|m| m.seq == seq)
            .cloned()
            .expect("message in page"),
        e => panic!("not a page: {e:?}"),
    }
}

#[tokio::test]
async fn changes_are_delivered_live_and_shown_in_history() {
    let (hub, mut ann, mut bob) = world().await;
    let mut cy = SessionProbe::connect(&hub, "cy").await;
    cy.join("r").await;
    let e = acked(&mut ann, edit(1, "hello there")).await;
    let r = acked(&mut bob, react(1, "👍")).await;
    let d = acked(&mut bob, delete(2)).await;
    let live = cy.messages("r", 3).await;
    let got: Vec<_> = live
        .iter()
        .map(|m| (m.seq, m.kind.clone(), m.target, m.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (e, MessageKind::Edit, Some(1), "hello there"),
            (r, MessageKind::React, Some(1), "👍"),
            (d, MessageKind::Delete, Some(2), ""),
        ]
    );
    let id = ann
        .request(Command::History {
            room: "r".into(),
            before: None,
            after: None,
            limit: None,
        })
        .await;
    let page = ann.reply(id).await;
    let Event::History { current_to, .. } = &page else {
        panic!("{page:?}")
    };
    assert_eq!(*current_to, Some(d));
    let one = current(&page, 1);
    assert_eq!(one.text, "hello there");
    assert!(one.edited_ts.is_some());
    assert_eq!(one.reactions.len(), 1);
    assert!(!one.reactions[0].me, "ann did not react");
    let two = current(&page, 2);
    assert_eq!(
        (two.text.as_str(), two.deleted.map(|t| t.by)),
        ("", Some("bob".into()))
    );
}

#[tokio::test]
async fn a_resumed_session_gets_each_missed_change_once_in_order() {
    let (hub, mut ann, bob) = world().await;
    drop(bob);
    let e = acked(&mut ann, edit(1, "edited")).await;
    let d = acked(&mut ann, delete(1)).await;
    let mut cy = SessionProbe::connect(&hub, "cy").await;
    cy.join("r").await;
    let r1 = acked(&mut cy, react(2, "👍")).await;
    let r2 = acked(&mut ann, react(2, "🎉")).await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    let joined = bob.join_from("r", Some(2)).await;
    let Event::Joined {
        history,
        current_to,
        ..
    } = &joined
    else {
        panic!("{joined:?}")
    };
    let seqs: Vec<(u64, MessageKind)> = history.iter().map(|m| (m.seq, m.kind.clone())).collect();
    assert_eq!(
        seqs,
        vec![
            (e, MessageKind::Edit),
            (d, MessageKind::Delete),
            (r1, MessageKind::React),
            (r2, MessageKind::React),
        ]
    );
    assert_eq!(*current_to, Some(r2));
    bob.quiet("r", 0).await;
}

#[tokio::test]
async fn refusals_have_stable_codes_and_store_nothing() {
    let (hub, mut ann, mut bob) = world().await;
    let max = hub.limits().max_text_bytes;
    acked(&mut bob, react(1, "👍")).await;
    let event = hub.store().last_seq("r").await.expect("seq");
    for (command, code) in [
        (edit(2, "not mine"), ErrorCode::Forbidden),
        (delete(2), ErrorCode::Forbidden),
        (edit(99, "x"), ErrorCode::Invalid),
        (edit(0, "x"), ErrorCode::Invalid),
        (edit(u64::MAX, "x"), ErrorCode::Invalid),
        (edit(1, ""), ErrorCode::Invalid),
        (edit(1, "   "), ErrorCode::Invalid),
        (edit(1, &"x".repeat(max + 1)), ErrorCode::TooLarge),
        (edit(event, "x"), ErrorCode::Invalid),
        (react(event, "👍"), ErrorCode::Invalid),
        (react(1, "ok"), ErrorCode::Invalid),
        (react(1, ""), ErrorCode::Invalid),
        (react(1, "\0"), ErrorCode::Invalid),
        (react(1, &"👍".repeat(1000)), ErrorCode::Invalid),
        (unreact(1, "👍"), ErrorCode::Invalid),
        (
            Command::Edit {
                room: "elsewhere".into(),
                target: 1,
                text: "x".into(),
            },
            ErrorCode::NotMember,
        ),
    ] {
        refused(&hub, &mut ann, command, code).await;
    }
    refused(&hub, &mut bob, react(1, "👍"), ErrorCode::Invalid).await;
    acked(&mut ann, delete(1)).await;
    for command in [edit(1, "back"), delete(1), react(1, "🎉"), unreact(1, "👍")] {
        refused(&hub, &mut ann, command, ErrorCode::Invalid).await;
    }
    // The sessions still work.
    acked(&mut bob, react(2, "👍")).await;
    acked(&mut bob, unreact(2, "👍")).await;
}

#[tokio::test]
async fn moderators_and_admins_delete_others_messages() {
    let (hub, _ann, mut bob) = world().await;
    refused(&hub, &mut bob, delete(1), ErrorCode::Forbidden).await;
    hub.store().remove_member("r", "bob").await.expect("remove");
    hub.store()
        .add_member("r", "bob", Role::Moderator)
        .await
        .expect("moderator");
    acked(&mut bob, delete(1)).await;
    let mut claims = serde_json::Map::new();
    claims.insert("admin".into(), serde_json::Value::Bool(true));
    let root = Identity::new("root").with_claims(claims);
    let mut root = SessionProbe::connect_as(&hub, root, Codec::Json).await;
    root.join("r").await;
    acked(&mut root, delete(2)).await;
    refused(&hub, &mut root, edit(2, "x"), ErrorCode::Forbidden).await;
    refused(&hub, &mut root, react(2, "🎉"), ErrorCode::Invalid).await;
}

#[tokio::test]
async fn thread_pages_replies_by_cursor() {
    let (_hub, mut ann, mut bob) = world().await;
    let mut replies = Vec::new();
    for i in 0..3 {
        let id = bob
            .request(Command::Send {
                room: "r".into(),
                text: format!("reply {i}"),
                nonce: None,
                kind: MessageKind::Text,
                reply_to: Some(1),
                data: None,
            })
            .await;
        match bob.reply(id).await {
            Event::Ack { seq, .. } => replies.push(seq),
            e => panic!("{e:?}"),
        }
    }
    let page = |after: Option<u64>| Command::Thread {
        room: "r".into(),
        root: 1,
        after,
        limit: Some(2),
    };
    let id = ann.request(page(None)).await;
    let Event::Thread {
        messages, has_more, ..
    } = ann.reply(id).await
    else {
        panic!("not a thread page")
    };
    assert_eq!(
        messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        replies[..2]
    );
    assert!(has_more);
    let id = ann.request(page(Some(replies[1]))).await;
    let Event::Thread {
        messages, has_more, ..
    } = ann.reply(id).await
    else {
        panic!("not a thread page")
    };
    assert_eq!(
        messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        replies[2..]
    );
    assert!(!has_more);
    let id = ann
        .request(Command::History {
            room: "r".into(),
            before: None,
            after: Some(0),
            limit: Some(1),
        })
        .await;
    let root = current(&ann.reply(id).await, 1);
    let summary = root.thread.expect("summary");
    assert_eq!((summary.replies, summary.last_seq), (3, replies[2]));
    assert_eq!(summary.participants, vec!["bob"]);
}

/// An edit, a reaction and its removal cost one store call each, the append that checks
/// them (as a `send` does); even a refused one asks nothing more. A delete of another's
/// message reads the target and the deleter's role first.
#[tokio::test]
async fn edits_and_reactions_ask_the_store_only_to_append() {
    let hooked = Arc::new(HookedStore::new(
        Arc::new(MemoryStore::new()),
        CallLog::default(),
    ));
    let hub = Hub::builder()
        .shared_store(hooked.clone())
        .build()
        .await
        .expect("hub");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    ann.join("r").await;
    bob.join("r").await;
    let first = ann.send("r", "hello wrld").await;
    hooked.hook().take();
    for command in [
        edit(first, "hello world"),
        react(first, "👍"),
        unreact(first, "👍"),
    ] {
        acked(&mut ann, command).await;
        assert_eq!(hooked.hook().take(), ["append"]);
    }
    let id = bob.request(edit(first, "mine now")).await;
    assert_eq!(bob.error(id).await, ErrorCode::Forbidden);
    assert_eq!(hooked.hook().take(), ["append"]);
    let id = bob.request(delete(first)).await;
    assert_eq!(bob.error(id).await, ErrorCode::Forbidden);
    assert_eq!(hooked.hook().take(), ["history", "member"]);
}
