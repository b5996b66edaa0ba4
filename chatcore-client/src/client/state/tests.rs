//! Tests of the shared state: calls, reconnects, and the routing of incoming events.

use chatcore::ErrorCode;
use chatcore::protocol::{Message, Receipt, RoomKind};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::*;
use crate::events::ClientEvent;

fn session() -> SessionInfo {
    SessionInfo {
        user: "ann".into(),
        session: 1,
        max_text_bytes: 8192,
        max_data_bytes: 4096,
    }
}

fn msg(seq: u64) -> Message {
    Message {
        sender: "bob".into(),
        ..chatcore_testkit::fixtures::message("r", seq)
    }
}

fn joined(id: Option<RequestId>, last_seq: u64, history: Vec<Message>, complete: bool) -> Event {
    Event::Joined {
        id,
        room: "r".into(),
        kind: RoomKind::Public,
        last_seq,
        online: vec!["ann".into()],
        history,
        complete,
        current_to: None,
    }
}

fn connected() -> (State, mpsc::UnboundedReceiver<Outgoing>) {
    let mut st = State::new(Codec::Json, Some(session()));
    let (tx, rx) = mpsc::unbounded_channel();
    st.install(tx, session());
    (st, rx)
}

fn sent(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> Vec<Request> {
    let mut out = Vec::new();
    while let Ok(Outgoing::Frame(WsMessage::Text(t))) = rx.try_recv() {
        out.push(Codec::Json.decode_request(t.as_bytes()).expect("request"));
    }
    out
}

fn seqs(events: &[ClientEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Message(m) => Some(m.seq),
            _ => None,
        })
        .collect()
}

#[test]
fn a_fresh_join_routes_history_to_the_caller_only() {
    let (mut st, mut rx) = connected();
    let join = Command::Join {
        room: "r".into(),
        resume_after: None,
    };
    let (id, mut reply) = st.call(join, Some(JoinMode::Fresh)).expect("call");
    assert_eq!(sent(&mut rx).len(), 1);
    let events = st.on_event(joined(Some(id), 2, vec![msg(1), msg(2)], true));
    assert!(events.is_empty());
    match reply.try_recv() {
        Ok(Ok(Event::Joined { history, .. })) => assert_eq!(history.len(), 2),
        other => panic!("unexpected reply {other:?}"),
    }
    assert_eq!(seqs(&st.on_event(Event::Message(msg(3)))), [3]);
    assert_eq!(st.joined_rooms(), [("r".to_owned(), 3)]);
}

#[test]
fn reconnect_rejoins_then_retries_waiting_sends_with_their_nonce() {
    let (mut st, mut rx) = connected();
    st.on_event(joined(None, 5, Vec::new(), true));
    let send = Command::Send {
        room: "r".into(),
        text: "hi".into(),
        nonce: Some("n1".into()),
        kind: Default::default(),
        reply_to: None,
        data: None,
    };
    let (_id, _reply) = st.call(send.clone(), None).expect("call");
    sent(&mut rx);
    st.disconnected();
    let (tx, mut rx) = mpsc::unbounded_channel();
    st.install(tx, session());
    let frames = sent(&mut rx);
    assert_eq!(frames.len(), 2);
    assert_eq!(
        frames[0].command,
        Command::Join {
            room: "r".into(),
            resume_after: Some(5)
        }
    );
    assert_eq!(frames[1].command, send);
    // An incomplete resume pages the rest, holding live messages until then.
    let rejoin = frames[0].id;
    let events = st.on_event(joined(rejoin, 9, vec![msg(6), msg(7)], false));
    assert_eq!(seqs(&events), [6, 7]);
    let page = sent(&mut rx);
    assert_eq!(page.len(), 1);
    assert!(seqs(&st.on_event(Event::Message(msg(10)))).is_empty());
    let events = st.on_event(Event::History {
        id: page[0].id,
        room: "r".into(),
        messages: vec![msg(7), msg(8), msg(9)],
        has_more: false,
        current_to: None,
    });
    assert_eq!(seqs(&events), [8, 9, 10]);
}

#[test]
fn errors_reach_the_caller_typed_and_failed_rejoins_are_reported() {
    let (mut st, mut rx) = connected();
    let (id, mut reply) = st.call(Command::Rooms {}, None).expect("call");
    st.on_event(Event::error(Some(id), ErrorCode::Forbidden, "no"));
    assert!(matches!(
        reply.try_recv(),
        Ok(Err(Error::Server {
            code: ErrorCode::Forbidden,
            ..
        }))
    ));
    st.on_event(joined(None, 0, Vec::new(), true));
    st.disconnected();
    sent(&mut rx);
    let (tx, mut rx) = mpsc::unbounded_channel();
    st.install(tx, session());
    let rejoin = sent(&mut rx)[0].id;
    let events = st.on_event(Event::error(rejoin, ErrorCode::Forbidden, "private now"));
    assert!(matches!(&events[..], [ClientEvent::RejoinFailed { room, .. }] if room == "r"));
    assert!(st.joined_rooms().is_empty());
}

#[test]
fn finishing_fails_every_caller_and_refuses_new_calls() {
    let (mut st, _rx) = connected();
    let (_id, mut reply) = st.call(Command::Ping {}, None).expect("call");
    let waiting = st.finish(DisconnectReason::ClientClosed);
    assert_eq!(waiting.len(), 1);
    drop(waiting);
    assert!(reply.try_recv().is_err());
    assert!(matches!(
        st.call(Command::Ping {}, None),
        Err(Error::Closed)
    ));
}

#[test]
fn removals_read_moves_receipts_and_mentions_reach_the_application() {
    let (mut st, _rx) = connected();
    st.on_event(joined(None, 0, Vec::new(), true));
    let events = st.on_event(Event::Left {
        id: None,
        room: "r".into(),
    });
    assert_eq!(events, [ClientEvent::Left { room: "r".into() }]);
    assert!(st.joined_rooms().is_empty());
    let read = st.on_event(Event::Read {
        id: None,
        room: "r".into(),
        seq: 4,
    });
    assert_eq!(
        read,
        [ClientEvent::Read {
            room: "r".into(),
            seq: 4
        }]
    );
    let bob = Receipt {
        user: "bob".into(),
        seq: 3,
    };
    let receipts = st.on_event(Event::Receipts {
        room: "r".into(),
        reads: vec![bob.clone()],
    });
    assert!(matches!(&receipts[..], [ClientEvent::Receipts { reads, .. }] if reads == &[bob]));
    let mention = st.on_event(Event::Mention {
        room: "r".into(),
        seq: 5,
        sender: "bob".into(),
        text: "@ann hi".into(),
    });
    assert!(matches!(
        &mention[..],
        [ClientEvent::Mention { seq: 5, .. }]
    ));
    let deleted = st.on_event(Event::RoomDeleted {
        id: None,
        room: "r".into(),
        by: "ann".into(),
    });
    assert!(matches!(&deleted[..], [ClientEvent::RoomDeleted { by, .. }] if by == "ann"));
}

#[test]
fn created_members_and_blocked_answer_their_callers() {
    let (mut st, _rx) = connected();
    let (id, mut reply) = st
        .call(Command::Members { room: "r".into() }, None)
        .expect("call");
    st.on_event(Event::Members {
        id: Some(id),
        room: "r".into(),
        members: Vec::new(),
    });
    assert!(matches!(reply.try_recv(), Ok(Ok(Event::Members { .. }))));
    let (id, mut reply) = st
        .call(Command::Block { user: "bob".into() }, None)
        .expect("call");
    st.on_event(Event::Blocked {
        id: Some(id),
        user: "bob".into(),
        on: true,
    });
    assert!(matches!(
        reply.try_recv(),
        Ok(Ok(Event::Blocked { on: true, .. }))
    ));
}
