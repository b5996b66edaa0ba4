//! Chatting over real sockets: rooms, presence, typing, DMs, history, resume, both codecs.

use chatcore::protocol::{Codec, Command, Event};
use chatcore::{Hub, Limits};
use chatcore_testkit::*;

#[tokio::test]
async fn two_clients_chat_in_a_room() {
    let server = TestServer::start().await;
    let mut ann = Probe::guest(&server, "ann").await;
    let mut bob = Probe::guest(&server, "bob").await;
    ann.join("general").await;
    bob.join("general").await;

    let seq = ann.say("general", "hello bob").await;
    let m = bob.message_from("ann").await;
    assert_eq!(
        (m.room.as_str(), m.seq, m.text.as_str()),
        ("general", seq, "hello bob")
    );

    let seq2 = bob.say("general", "hi ann").await;
    assert_eq!(seq2, seq + 1, "one gapless sequence per room");
    let m = ann.message_from("bob").await;
    assert_eq!((m.seq, m.text.as_str()), (seq2, "hi ann"));
}

#[tokio::test]
async fn presence_and_join_leave_notices() {
    let server = TestServer::start().await;
    let mut ann = Probe::guest(&server, "ann").await;
    ann.join("lobby").await;
    let mut bob = Probe::guest(&server, "bob").await;
    match bob.join("lobby").await {
        Event::Joined { online, .. } => assert_eq!(online, ["ann", "bob"]),
        other => panic!("{other:?}"),
    }
    ann.until(|ev| match ev {
        Event::UserJoined { room, user } if room == "lobby" && user == "bob" => Some(()),
        _ => None,
    })
    .await;

    let id = ann
        .request(Command::Who {
            room: "lobby".into(),
        })
        .await;
    match ann.reply(id).await {
        Event::Presence { online, .. } => assert_eq!(online, ["ann", "bob"]),
        other => panic!("{other:?}"),
    }

    // Leaving announces it; so does dropping the connection.
    let id = bob
        .request(Command::Leave {
            room: "lobby".into(),
        })
        .await;
    assert!(matches!(bob.reply(id).await, Event::Left { .. }));
    ann.until(|ev| match ev {
        Event::UserLeft { user, .. } if user == "bob" => Some(()),
        _ => None,
    })
    .await;
    bob.join("lobby").await;
    ann.until(|ev| matches!(ev, Event::UserJoined { ref user, .. } if user == "bob").then_some(()))
        .await;
    drop(bob);
    ann.until(|ev| matches!(ev, Event::UserLeft { ref user, .. } if user == "bob").then_some(()))
        .await;
}

#[tokio::test]
async fn typing_reaches_the_others_only() {
    let server = TestServer::start().await;
    let mut ann = Probe::guest(&server, "ann").await;
    let mut bob = Probe::guest(&server, "bob").await;
    ann.join("room").await;
    bob.join("room").await;
    ann.request(Command::Typing {
        room: "room".into(),
        on: true,
    })
    .await;
    let (user, on) = bob
        .until(|ev| match ev {
            Event::Typing { user, on, .. } => Some((user, on)),
            _ => None,
        })
        .await;
    assert_eq!((user.as_str(), on), ("ann", true));
    // Ann's own indicator is not echoed: her next reply comes with no typing frame before it.
    let id = ann.request(Command::Ping {}).await;
    loop {
        match ann.next().await.expect("open") {
            Event::Typing { .. } => panic!("typing echoed to its sender"),
            Event::Pong { id: got } if got == Some(id) => break,
            _ => {}
        }
    }
}

#[tokio::test]
async fn direct_messages_are_private() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(false)), ws_config()).await;
    let mut ann = Probe::with_token(&server, "ann").await;
    // Bob presents his token in the Authorization header instead of the query string.
    let bearer = format!("Bearer {}", token("bob"));
    let ws = open(&server.ws_url(""), None, &[("Authorization", &bearer)])
        .await
        .expect("bob");
    let mut bob = Probe::from_ws(ws, Codec::Json).await;
    let mut carol = Probe::with_token(&server, "carol").await;

    let id = ann.request(dm("bob", "psst")).await;
    assert!(matches!(ann.reply(id).await, Event::Ack { .. }));
    let m = bob.message_from("ann").await;
    assert_eq!((m.room.as_str(), m.text.as_str()), ("dm:ann:bob", "psst"));

    // Carol can neither join the conversation nor read it, over the socket or REST.
    let id = carol
        .request(Command::Join {
            room: "dm:ann:bob".into(),
            resume_after: None,
        })
        .await;
    assert_eq!(error_code(&carol.reply(id).await), Some("forbidden"));
    let id = carol
        .request(Command::History {
            room: "dm:ann:bob".into(),
            before: None,
            after: None,
            limit: None,
        })
        .await;
    assert_eq!(error_code(&carol.reply(id).await), Some("forbidden"));
    let path = "/api/rooms/dm:ann:bob/messages";
    let r = get_as(server.addr, path, &token("carol")).await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = get(server.addr, path).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    let rooms = get_as(server.addr, "/api/rooms", &token("carol"))
        .await
        .json();
    assert!(!rooms.to_string().contains("dm:ann:bob"), "{rooms}");

    // The members can.
    let r = get_as(server.addr, path, &token("bob")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["messages"][0]["text"], "psst");
    let rooms = get_as(server.addr, "/api/rooms", &token("ann"))
        .await
        .json();
    assert!(rooms.to_string().contains("dm:ann:bob"), "{rooms}");
    still_serves_with_token(&server).await;
}

async fn still_serves_with_token(server: &TestServer) {
    let mut c = Probe::with_token(server, "probe").await;
    c.join("probe").await;
    c.say("probe", "ok").await;
}

#[tokio::test]
async fn history_on_join_and_paging() {
    let limits = chatcore::Limits::default()
        .with_history_on_join(10)
        .expect("limits");
    let server = TestServer::with(Hub::builder().limits(limits), ws_config()).await;
    let mut ann = Probe::guest(&server, "ann").await;
    ann.join("log").await;
    for i in 1..=30 {
        ann.say("log", &format!("m{i}")).await;
    }
    let mut bob = Probe::guest(&server, "bob").await;
    match bob.join("log").await {
        Event::Joined {
            last_seq,
            history,
            complete,
            ..
        } => {
            assert_eq!(last_seq, 30);
            assert!(complete);
            let seqs: Vec<u64> = history.iter().map(|m| m.seq).collect();
            assert_eq!(seqs, (21..=30).collect::<Vec<_>>());
        }
        other => panic!("{other:?}"),
    }
    let page = |before, after, limit| Command::History {
        room: "log".into(),
        before,
        after,
        limit,
    };
    let seqs_of = async |c: &mut Probe, cmd| {
        let id = c.request(cmd).await;
        match c.reply(id).await {
            Event::History {
                messages, has_more, ..
            } => (messages.iter().map(|m| m.seq).collect::<Vec<_>>(), has_more),
            other => panic!("{other:?}"),
        }
    };
    let (s, more) = seqs_of(&mut bob, page(Some(21), None, Some(10))).await;
    assert_eq!((s, more), ((11..=20).collect(), true));
    let (s, more) = seqs_of(&mut bob, page(Some(11), None, Some(10))).await;
    assert_eq!((s, more), ((1..=10).collect(), false));
    let (s, more) = seqs_of(&mut bob, page(None, Some(25), Some(10))).await;
    assert_eq!((s, more), ((26..=30).collect(), false));
    let id = bob.request(page(Some(3), Some(5), None)).await;
    assert_eq!(error_code(&bob.reply(id).await), Some("bad_cursor"));
}

#[tokio::test]
async fn resume_after_a_dropped_connection_has_no_gap_and_no_duplicate() {
    const TOTAL: u64 = 150;
    // Ann sends faster than a person may (10 a second): this test is about resume, not limits.
    let limits = Limits::default().without_rate_limits();
    let server = TestServer::with(Hub::builder().limits(limits), ws_config()).await;
    let mut bob = Probe::guest(&server, "bob").await;
    bob.join("busy").await;
    let mut ann = Probe::guest(&server, "ann").await;
    ann.join("busy").await;

    // Ann keeps sending the whole time, each message acknowledged before the next.
    let sender = tokio::spawn(async move {
        for i in 1..=TOTAL {
            ann.say("busy", &format!("n{i}")).await;
        }
        ann
    });

    let mut seen = Vec::new();
    while seen.len() < 20 {
        let m = bob.message_from("ann").await;
        seen.push(m.seq);
    }
    // The network drops: no close frame, the socket just goes away.
    drop(bob);

    let mut bob = Probe::guest(&server, "bob").await;
    let last = *seen.last().expect("some");
    match bob.join_after("busy", Some(last)).await {
        Event::Joined {
            history, complete, ..
        } => {
            assert!(complete);
            seen.extend(history.iter().map(|m| m.seq));
        }
        other => panic!("{other:?}"),
    }
    while seen.last() != Some(&TOTAL) {
        let m = bob.message_from("ann").await;
        seen.push(m.seq);
    }
    assert_eq!(
        seen,
        (1..=TOTAL).collect::<Vec<_>>(),
        "every seq exactly once, in order"
    );
    tokio::time::timeout(BOUND, sender)
        .await
        .expect("sender done")
        .expect("sender");
}

#[tokio::test]
async fn json_and_msgpack_clients_chat_together() {
    let server = TestServer::start().await;
    let mut ann = Probe::open(&server, "?user=ann", Codec::MsgPack, true).await;
    let mut bob = Probe::open(&server, "?user=bob", Codec::Json, true).await;
    ann.join("mixed").await;
    bob.join("mixed").await;
    let seq = ann.say("mixed", "from msgpack ✓").await;
    let m = bob.message_from("ann").await;
    assert_eq!((m.seq, m.text.as_str()), (seq, "from msgpack ✓"));
    bob.say("mixed", "from json 👋").await;
    let m = ann.message_from("bob").await;
    assert_eq!(m.text, "from json 👋");
}
