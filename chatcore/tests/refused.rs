//! Contract 6, "a command that fails changes nothing": for every command that can be refused,
//! a snapshot of the store (rooms, kinds, members and roles, messages) and of the hub's memory
//! (loaded rooms, sessions, who is online, messages committed) is taken before and after the
//! refusal, and must be equal. Includes 10,000 joins past the rooms-per-session limit.

use chatcore::protocol::{Command, Event, MessageKind, RoomKind};
use chatcore::store::{HistoryQuery, NewRoom};
use chatcore::{ErrorCode, Hub, Limits};
use chatcore_testkit::{SessionProbe, dm};

/// One room as stored: name, kind, last seq, members with roles, messages (seq, sender, text).
type RoomState = (
    String,
    RoomKind,
    u64,
    Vec<String>,
    Vec<(u64, String, String)>,
);

/// What the store and the hub's memory hold, as far as any command could change it.
#[derive(Debug, PartialEq)]
struct Snapshot {
    /// Every room: name, kind, last seq, members with roles, and its messages.
    rooms: Vec<RoomState>,
    /// Rooms loaded in memory and sessions connected.
    loaded_rooms: u64,
    sessions: u64,
    /// Messages committed from local senders.
    messages_in: u64,
    /// Who is online in each room.
    online: Vec<(String, Vec<String>)>,
}

/// The users whose views of the room list together see every room in these tests.
const VIEWERS: [&str; 3] = ["ann", "bob", "eve"];

async fn snapshot(hub: &Hub) -> Snapshot {
    let store = hub.store();
    let mut names = std::collections::BTreeSet::new();
    for viewer in VIEWERS {
        for room in store.list_rooms(Some(viewer)).await.expect("rooms") {
            names.insert(room.name);
        }
    }
    let mut rooms = Vec::new();
    let mut online = Vec::new();
    for name in names {
        let record = store
            .room(&name)
            .await
            .expect("room")
            .expect("listed room exists");
        let mut members: Vec<String> = store
            .members(&name)
            .await
            .expect("members")
            .into_iter()
            .map(|m| format!("{}:{:?}", m.user, m.role))
            .collect();
        members.sort();
        let query = HistoryQuery {
            before: None,
            after: Some(0),
            limit: 1000,
        };
        let messages = store
            .history(&name, query)
            .await
            .expect("history")
            .messages
            .into_iter()
            .map(|m| (m.seq, m.sender, m.text))
            .collect();
        online.push((
            name.clone(),
            hub.online(&name, None).await.unwrap_or_default(),
        ));
        rooms.push((name, record.kind, record.last_seq, members, messages));
    }
    let stats = hub.stats();
    Snapshot {
        rooms,
        loaded_rooms: stats.rooms,
        sessions: stats.sessions,
        messages_in: stats.messages_in,
        online,
    }
}

/// Sends `command`, expects the refusal `code`, and asserts that nothing changed.
async fn refused(hub: &Hub, c: &mut SessionProbe, command: Command, code: ErrorCode) {
    let before = snapshot(hub).await;
    let what = format!("{command:?}");
    let id = c.request(command).await;
    assert_eq!(c.error(id).await, code, "{what:.120}");
    assert_eq!(snapshot(hub).await, before, "{what:.120} changed state");
}

/// A hub with ann and bob in `r` (one message), a private room `secret` of bob's, and ann's
/// DM with bob.
async fn world(limits: Limits) -> (Hub, SessionProbe, SessionProbe) {
    let hub = Hub::builder().limits(limits).build().await.expect("hub");
    hub.store()
        .create_room(NewRoom {
            name: "secret".into(),
            kind: RoomKind::Private,
            creator: "bob".into(),
            created: 0,
        })
        .await
        .expect("private room");
    hub.store()
        .add_member("secret", "bob", chatcore::store::Role::Owner)
        .await
        .expect("member");
    let mut ann = SessionProbe::connect(&hub, "ann").await;
    let mut bob = SessionProbe::connect(&hub, "bob").await;
    bob.join("r").await;
    ann.join("r").await;
    ann.send("r", "hello").await;
    let id = ann.request(dm("bob", "psst")).await;
    let acked = ann.reply(id).await;
    assert!(matches!(acked, Event::Ack { .. }), "{acked:?}");
    (hub, ann, bob)
}

fn send(room: &str, text: &str, kind: MessageKind, nonce: Option<&str>) -> Command {
    Command::Send {
        room: room.into(),
        text: text.into(),
        nonce: nonce.map(str::to_owned),
        kind,
        reply_to: None,
        data: None,
    }
}

fn join(room: &str) -> Command {
    Command::Join {
        room: room.into(),
        resume_after: None,
    }
}

#[tokio::test]
async fn refused_joins_change_nothing() {
    let (hub, mut ann, _bob) = world(Limits::default()).await;
    for (room, code) in [
        ("bad room", ErrorCode::Invalid),
        ("", ErrorCode::Invalid),
        ("nul\0", ErrorCode::Invalid),
        ("dm:bob:eve", ErrorCode::Forbidden),
        ("secret", ErrorCode::Forbidden),
        ("r", ErrorCode::Invalid),
    ] {
        refused(&hub, &mut ann, join(room), code).await;
    }
}

#[tokio::test]
async fn ten_thousand_joins_past_the_room_limit_change_nothing() {
    let (hub, mut ann, _bob) = world(Limits::default()).await;
    let max = hub.limits().max_rooms_per_session;
    // ann is in r and her DM already.
    for i in 2..max {
        ann.join(&format!("mine-{i}")).await;
    }
    let before = snapshot(&hub).await;
    // In batches, reading the refusals, so the session's queue never overflows.
    for batch in 0..100 {
        let mut ids = Vec::new();
        for i in 0..100 {
            ids.push(ann.request(join(&format!("extra-{batch}-{i}"))).await);
        }
        for id in ids {
            assert_eq!(ann.error(id).await, ErrorCode::Invalid, "join {id}");
        }
    }
    assert_eq!(
        snapshot(&hub).await,
        before,
        "refused joins created rooms or members"
    );
    // The session still works, and a slot that frees is usable.
    ann.request(Command::Leave {
        room: "mine-2".into(),
    })
    .await;
    ann.join("extra-0-0").await;
}

#[tokio::test]
async fn refused_sends_and_dms_change_nothing() {
    let (hub, mut ann, _bob) = world(Limits::default()).await;
    let max = hub.limits().max_text_bytes;
    let long = "x".repeat(max + 1);
    let long_nonce = "n".repeat(1000);
    for (command, code) in [
        (send("r", "", MessageKind::Text, None), ErrorCode::Invalid),
        (
            send("r", " \n", MessageKind::Text, None),
            ErrorCode::Invalid,
        ),
        (
            send("r", &long, MessageKind::Text, None),
            ErrorCode::TooLarge,
        ),
        (
            send("r", "x", MessageKind::Text, Some("")),
            ErrorCode::Invalid,
        ),
        (
            send("r", "x", MessageKind::Text, Some(&long_nonce)),
            ErrorCode::Invalid,
        ),
        (
            send("r", "x", MessageKind::Unknown, None),
            ErrorCode::Invalid,
        ),
        (send("r", "x", MessageKind::Edit, None), ErrorCode::Invalid),
        (
            send("r", "x", MessageKind::Delete, None),
            ErrorCode::Invalid,
        ),
        (
            send("r", "👍", MessageKind::React, None),
            ErrorCode::Invalid,
        ),
        (
            send("r", "👍", MessageKind::Unreact, Some("n1")),
            ErrorCode::Invalid,
        ),
        (
            send("elsewhere", "x", MessageKind::Text, None),
            ErrorCode::NotMember,
        ),
        (
            send("secret", "x", MessageKind::Text, None),
            ErrorCode::NotMember,
        ),
        (dm("bad name", "x"), ErrorCode::Invalid),
        (
            Command::Dm {
                to: "eve".into(),
                text: String::new(),
                nonce: None,
            },
            ErrorCode::Invalid,
        ),
        (
            Command::Dm {
                to: "eve".into(),
                text: long.clone(),
                nonce: None,
            },
            ErrorCode::TooLarge,
        ),
    ] {
        refused(&hub, &mut ann, command, code).await;
    }
}

#[tokio::test]
async fn refused_leaves_typing_and_queries_change_nothing() {
    let (hub, mut ann, _bob) = world(Limits::default()).await;
    let history = |room: &str, before, after| Command::History {
        room: room.into(),
        before,
        after,
        limit: None,
    };
    for (command, code) in [
        (
            Command::Leave {
                room: "never".into(),
            },
            ErrorCode::NotMember,
        ),
        (
            Command::Leave {
                room: "secret".into(),
            },
            ErrorCode::NotMember,
        ),
        (
            Command::Typing {
                room: "never".into(),
                on: true,
            },
            ErrorCode::NotMember,
        ),
        (
            Command::Typing {
                room: "secret".into(),
                on: true,
            },
            ErrorCode::NotMember,
        ),
        (history("ghost", None, None), ErrorCode::UnknownRoom),
        (history("r", Some(3), Some(5)), ErrorCode::BadCursor),
        (
            Command::Who {
                room: "ghost".into(),
            },
            ErrorCode::UnknownRoom,
        ),
    ] {
        refused(&hub, &mut ann, command, code).await;
    }
}
