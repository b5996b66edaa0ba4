//! The [`Store`] contract for change events (issue #13): edits, deletes
//! and reactions are checked and applied at commit, history shows current state, search sees
//! current text only, threads page by cursor. Every case takes a [`StoreFactory`] and panics
//! on a violation.

use std::sync::Arc;

use super::StoreFactory;
use super::fixtures::{create_room, new_message as msg};
use crate::protocol::{Message, MessageKind, ReactionCount, RoomKind};
use crate::store::{HistoryQuery, MAX_REACTION_EMOJI, NewMessage, SearchQuery, Store};
use crate::{Error, ErrorCode};

/// A change event of `kind` by `sender` on `target`.
fn change(room: &str, sender: &str, kind: MessageKind, target: u64, text: &str) -> NewMessage {
    let mut m = msg(room, sender, text, None);
    m.kind = kind;
    m.target = Some(target);
    m
}

async fn store_ok(s: &Arc<dyn Store>, m: NewMessage) -> Message {
    let appended = s.append(m).await.expect("append");
    assert!(!appended.duplicate);
    appended.message
}

fn reaction(emoji: &str, count: u64, me: bool) -> ReactionCount {
    ReactionCount {
        emoji: emoji.into(),
        count,
        me,
    }
}

/// A client that resumes after missing an edit, a delete and two reactions reads each change
/// exactly once, in seq order, after its resume point; a page with current state afterwards
/// shows the edited text, the tombstone and the reactions counted (with `me` for the reader),
/// and says up to which seq it is current.
pub async fn resume_sees_each_change_once_then_current_state(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "life", RoomKind::Public).await;
    let first = store_ok(&s, msg("life", "ann", "hello world", None)).await;
    let second = store_ok(&s, msg("life", "bob", "to be removed", None)).await;
    let seen = second.seq;
    let edit = store_ok(
        &s,
        change("life", "ann", MessageKind::Edit, 1, "hello there"),
    )
    .await;
    let delete = store_ok(&s, change("life", "bob", MessageKind::Delete, 2, "")).await;
    let r1 = store_ok(&s, change("life", "bob", MessageKind::React, 1, "👍")).await;
    let r2 = store_ok(&s, change("life", "cy", MessageKind::React, 1, "👍")).await;

    let missed = s
        .history("life", HistoryQuery::after(seen, 100))
        .await
        .expect("resume page");
    let got: Vec<(u64, MessageKind, Option<u64>)> = missed
        .messages
        .iter()
        .map(|m| (m.seq, m.kind.clone(), m.target))
        .collect();
    assert_eq!(
        got,
        vec![
            (edit.seq, MessageKind::Edit, Some(1)),
            (delete.seq, MessageKind::Delete, Some(2)),
            (r1.seq, MessageKind::React, Some(1)),
            (r2.seq, MessageKind::React, Some(1)),
        ],
        "each change once, in seq order"
    );
    assert_eq!(
        missed.messages[0].text, "hello there",
        "the edit carries its text"
    );

    let page = s
        .history_current("life", HistoryQuery::latest(10), Some("cy"))
        .await
        .expect("current page");
    assert_eq!(page.current_to, r2.seq, "current up to the newest seq");
    assert_eq!(page.messages.len(), 6, "change events stay in the page");
    let one = &page.messages[0];
    assert_eq!(one.text, "hello there");
    assert_eq!(one.edited_ts, Some(edit.ts));
    assert_eq!(one.reactions, vec![reaction("👍", 2, true)]);
    assert_eq!(one.id, first.id);
    let two = &page.messages[1];
    assert_eq!(two.text, "", "a deleted message has no text");
    assert_eq!(two.data, None);
    let tomb = two.deleted.as_deref().expect("tombstone");
    assert_eq!((tomb.by.as_str(), tomb.ts), ("bob", delete.ts));
    let as_ann = s
        .history_current("life", HistoryQuery::latest(10), Some("ann"))
        .await
        .expect("page for ann");
    assert_eq!(as_ann.messages[0].reactions, vec![reaction("👍", 2, false)]);
    let raw = s
        .history("life", HistoryQuery::latest(10))
        .await
        .expect("raw page");
    assert!(
        raw.messages
            .iter()
            .all(|m| m.reactions.is_empty() && m.deleted.is_none())
    );
}

/// Every refused change answers with its stable code and stores nothing: a missing target,
/// an event as target, someone else's edit, any change of a deleted message, a repeated
/// react, an unreact of nothing, one emoji past the bound.
pub async fn refused_changes_store_nothing(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "rules", RoomKind::Public).await;
    store_ok(&s, msg("rules", "ann", "mine", None)).await;
    store_ok(&s, msg("rules", "bob", "gone soon", None)).await;
    store_ok(&s, change("rules", "bob", MessageKind::React, 1, "👍")).await;
    store_ok(&s, change("rules", "bob", MessageKind::Delete, 2, "")).await;
    let head = s.last_seq("rules").await.expect("last_seq");
    let refusals = [
        (
            change("rules", "ann", MessageKind::Edit, 99, "x"),
            ErrorCode::Invalid,
        ),
        (
            change("rules", "ann", MessageKind::Edit, 0, "x"),
            ErrorCode::Invalid,
        ),
        (
            change("rules", "bob", MessageKind::React, 3, "👍"),
            ErrorCode::Invalid,
        ),
        (
            change("rules", "bob", MessageKind::Edit, 1, "hijack"),
            ErrorCode::Forbidden,
        ),
        (
            change("rules", "bob", MessageKind::Edit, 2, "back"),
            ErrorCode::Invalid,
        ),
        (
            change("rules", "bob", MessageKind::Delete, 2, ""),
            ErrorCode::Invalid,
        ),
        (
            change("rules", "ann", MessageKind::React, 2, "👍"),
            ErrorCode::Invalid,
        ),
        (
            change("rules", "bob", MessageKind::React, 1, "👍"),
            ErrorCode::Invalid,
        ),
        (
            change("rules", "cy", MessageKind::Unreact, 1, "👍"),
            ErrorCode::Invalid,
        ),
    ];
    for (m, code) in refusals {
        let what = format!("{} of {:?} by {}", m.kind.as_str(), m.target, m.sender);
        match s.append(m).await {
            Err(e) => assert_eq!(e.code(), code, "{what}: {e}"),
            Ok(a) => panic!("{what} must be refused, stored seq {}", a.message.seq),
        }
        assert_eq!(s.last_seq("rules").await.expect("last_seq"), head, "{what}");
    }
    let emoji: Vec<String> = (0..=MAX_REACTION_EMOJI as u32)
        .map(|i| char::from_u32(0x1F600 + i).expect("emoji").to_string())
        .collect();
    for e in &emoji[1..MAX_REACTION_EMOJI] {
        store_ok(&s, change("rules", "cy", MessageKind::React, 1, e)).await;
    }
    let past = change(
        "rules",
        "cy",
        MessageKind::React,
        1,
        &emoji[MAX_REACTION_EMOJI],
    );
    let refused = s.append(past).await.map(|a| a.message.seq);
    assert!(
        matches!(refused, Err(Error::Invalid { field: "emoji", .. })),
        "emoji {} past the bound: {refused:?}",
        MAX_REACTION_EMOJI + 1
    );
    store_ok(&s, change("rules", "dan", MessageKind::React, 1, &emoji[1])).await;
    let page = s
        .history_current("rules", HistoryQuery::latest(1000), None)
        .await
        .expect("page");
    assert_eq!(page.messages[0].reactions.len(), MAX_REACTION_EMOJI);
}

/// Search finds a message by its current text only: never by a replaced word, never a
/// deleted message, never a change event; an edited message is found once, at its own seq.
pub async fn search_sees_current_text_only(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "find", RoomKind::Public).await;
    store_ok(&s, msg("find", "ann", "alpha beta", None)).await;
    store_ok(&s, msg("find", "bob", "delta secret", None)).await;
    store_ok(
        &s,
        change("find", "ann", MessageKind::Edit, 1, "gamma beta"),
    )
    .await;
    store_ok(
        &s,
        change("find", "ann", MessageKind::Edit, 1, "epsilon beta"),
    )
    .await;
    store_ok(
        &s,
        change("find", "bob", MessageKind::Edit, 2, "delta hidden"),
    )
    .await;
    store_ok(&s, change("find", "bob", MessageKind::Delete, 2, "")).await;
    let find = |text: &str| {
        let s = Arc::clone(&s);
        let text = text.to_owned();
        async move {
            s.search(SearchQuery {
                room: Some("find".into()),
                text,
                limit: 10,
            })
            .await
            .expect("search")
            .into_iter()
            .map(|m| (m.seq, m.text))
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("alpha").await, vec![], "pre-edit text");
    assert_eq!(find("gamma").await, vec![], "an earlier edit's text");
    assert_eq!(find("epsilon").await, vec![(1, "epsilon beta".to_owned())]);
    assert_eq!(
        find("beta").await,
        vec![(1, "epsilon beta".to_owned())],
        "once"
    );
    for word in ["delta", "secret", "hidden"] {
        assert_eq!(find(word).await, vec![], "deleted text: {word}");
    }
    let raw = s
        .history("find", HistoryQuery::latest(10))
        .await
        .expect("page");
    assert!(
        raw.messages.iter().all(|m| !m.text.contains("delta")),
        "a delete removes the text from the store, its earlier edits included"
    );
}

/// `thread` pages a root's replies by cursor, with current state, and the root's summary in
/// history counts them.
pub async fn threads_page_by_cursor(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "t", RoomKind::Public).await;
    store_ok(&s, msg("t", "ann", "root", None)).await;
    let mut replies = Vec::new();
    for (i, who) in ["bob", "cy", "bob", "dan", "eve"].iter().enumerate() {
        let mut reply = msg("t", who, &format!("reply {i}"), None);
        reply.reply_to = Some(1);
        replies.push(store_ok(&s, reply).await);
        store_ok(&s, msg("t", "zed", "elsewhere", None)).await;
    }
    store_ok(
        &s,
        change("t", "ann", MessageKind::React, replies[0].seq, "🎉"),
    )
    .await;
    let first = s
        .thread("t", 1, HistoryQuery::latest(2), Some("ann"))
        .await
        .expect("first page");
    let seqs = |p: &crate::store::HistoryPage| p.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&first), vec![replies[0].seq, replies[1].seq]);
    assert!(first.has_more);
    assert_eq!(first.messages[0].reactions, vec![reaction("🎉", 1, true)]);
    let next = s
        .thread("t", 1, HistoryQuery::after(replies[1].seq, 10), Some("ann"))
        .await
        .expect("next page");
    assert_eq!(
        seqs(&next),
        replies[2..].iter().map(|m| m.seq).collect::<Vec<_>>()
    );
    assert!(!next.has_more);
    let root = s
        .history_current("t", HistoryQuery::after(0, 1), None)
        .await
        .expect("root");
    let summary = root.messages[0].thread.as_deref().expect("summary");
    assert_eq!(summary.replies, 5);
    assert_eq!(summary.last_seq, replies[4].seq);
    assert_eq!(summary.last_ts, replies[4].ts);
    assert_eq!(summary.participants, vec!["bob", "cy", "dan", "eve"]);
    let none = s
        .thread("t", 2, HistoryQuery::latest(10), None)
        .await
        .expect("no replies");
    assert!(none.messages.is_empty() && !none.has_more);
}

/// Changes to one message from many writers at once keep the room's seq gapless, and the
/// rules hold across them: of many identical reactions by one user exactly one is stored.
pub async fn concurrent_changes_are_gapless_and_unique(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "busy", RoomKind::Public).await;
    store_ok(&s, msg("busy", "ann", "popular", None)).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let me = format!("u{i}");
            let mine = s.append(change("busy", &me, MessageKind::React, 1, "👍"));
            let same = s.append(change("busy", "dup", MessageKind::React, 1, "❤️"));
            (mine.await.is_ok(), same.await.is_ok())
        }));
    }
    let mut dup_stored = 0;
    for t in tasks {
        let (mine, same) = t.await.expect("task");
        assert!(mine, "a user's first reaction is stored");
        dup_stored += usize::from(same);
    }
    assert_eq!(dup_stored, 1, "one reaction per user per emoji");
    let page = s
        .history("busy", HistoryQuery::latest(100))
        .await
        .expect("page");
    let seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=18).collect::<Vec<u64>>(), "gapless");
    let current = s
        .history_current("busy", HistoryQuery::after(0, 1), Some("dup"))
        .await
        .expect("current");
    let mut counted = current.messages[0].reactions.clone();
    counted.sort_by(|a, b| a.emoji.cmp(&b.emoji));
    let mut want = vec![reaction("👍", 16, false), reaction("❤️", 1, true)];
    want.sort_by(|a, b| a.emoji.cmp(&b.emoji));
    assert_eq!(
        counted, want,
        "order of first use depends on the race; the counts do not"
    );
}
