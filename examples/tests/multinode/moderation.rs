//! Moderation across real nodes: a ban issued on one node removes the user's sessions on the
//! other from the room within a second, and every member on both nodes receives the ban
//! event exactly once, in seq order.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use chatcore::protocol::{Codec, Command, Event, Message, MessageKind, Request, RoomKind};
use chatcore_testkit::Ws;
use futures::{SinkExt, StreamExt};
use tokio::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as Frame;

use super::fixture::*;

/// A raw WebSocket user (no client library that could hide a duplicate), with every room
/// message it received.
struct Raw {
    user: String,
    ws: Ws,
    next_id: u64,
    messages: Vec<Message>,
}

impl Raw {
    async fn connect(addr: SocketAddr, user: &str) -> Self {
        let url = format!("ws://{addr}/ws?user={user}");
        let ws = chatcore_testkit::open(&url, None, &[]).await.expect("ws");
        Self {
            user: user.to_owned(),
            ws,
            next_id: 0,
            messages: Vec::new(),
        }
    }

    async fn send(&mut self, command: Command) -> u64 {
        self.next_id += 1;
        let frame = Codec::Json.encode(&Request::new(self.next_id, command));
        let text = String::from_utf8(frame).expect("utf-8");
        self.ws.send(Frame::text(text)).await.expect("send");
        self.next_id
    }

    /// Reads until `pred` holds, keeping room messages; panics after [`PATIENCE`].
    async fn until(&mut self, what: &str, mut pred: impl FnMut(&Event) -> bool) -> Event {
        let deadline = Instant::now() + Duration::from_secs_f64(PATIENCE);
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            let Ok(Some(Ok(Frame::Text(t)))) = next else {
                match next {
                    Ok(Some(Ok(_))) => continue,
                    other => panic!("{}: no {what}: {other:?}", self.user),
                }
            };
            let event = Codec::Json.decode_event(t.as_bytes()).expect("event");
            if let Event::Message(m) = &event {
                self.messages.push(m.clone());
            }
            if pred(&event) {
                return event;
            }
        }
    }

    /// Waits for the room message with `seq` unless it arrived already.
    async fn saw(&mut self, seq: u64) {
        if !self.messages.iter().any(|m| m.seq == seq) {
            self.until(
                "the message",
                |e| matches!(e, Event::Message(m) if m.seq == seq),
            )
            .await;
        }
    }

    async fn ask(&mut self, command: Command) -> Event {
        let what = format!("answer to {command:?}");
        let id = self.send(command).await;
        self.until(&what, |e| reply_to(e) == Some(id)).await
    }
}

fn reply_to(e: &Event) -> Option<u64> {
    match e {
        Event::Ack { id, .. }
        | Event::Error { id, .. }
        | Event::Joined { id, .. }
        | Event::Created { id, .. } => *id,
        _ => None,
    }
}

fn join(room: &str) -> Command {
    Command::Join {
        room: room.into(),
        resume_after: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_on_one_node_reaches_every_member_once_and_removes_the_user_on_the_other() {
    let Some((redis, pg)) = Cluster::services() else {
        return;
    };
    let cluster = Cluster::start("ban", 2, redis, pg).await;
    let (n1, n2) = (cluster.node("n1").addr, cluster.node("n2").addr);
    let room = "court";
    let mut ann = Raw::connect(n1, "ann").await;
    let created = ann
        .ask(Command::Create {
            room: room.into(),
            kind: RoomKind::Public,
            topic: Some("order in court".into()),
            description: None,
        })
        .await;
    assert!(matches!(created, Event::Created { .. }), "{created:?}");
    assert!(matches!(ann.ask(join(room)).await, Event::Joined { .. }));
    let mut members = [Raw::connect(n1, "bob").await, Raw::connect(n2, "cy").await];
    let mut eve = Raw::connect(n2, "eve").await;
    for m in members.iter_mut().chain(std::iter::once(&mut eve)) {
        let joined = m.ask(join(room)).await;
        assert!(matches!(joined, Event::Joined { .. }), "{joined:?}");
    }
    let said = ann
        .ask(Command::Send {
            room: room.into(),
            text: "before".into(),
            nonce: None,
            kind: MessageKind::Text,
            reply_to: None,
            data: None,
        })
        .await;
    assert!(matches!(said, Event::Ack { .. }), "{said:?}");

    let start = Instant::now();
    let ban = ann
        .ask(Command::Ban {
            room: room.into(),
            user: "eve".into(),
            reason: Some("spam".into()),
            duration_s: None,
        })
        .await;
    let Event::Ack { seq: ban_seq, .. } = ban else {
        panic!("ban: {ban:?}")
    };
    eve.until(
        "left",
        |e| matches!(e, Event::Left { room: r, .. } if r == room),
    )
    .await;
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "eve left after {took:?}");

    // A message after the ban marks the end of what each member must have seen.
    let after = ann
        .ask(Command::Send {
            room: room.into(),
            text: "after".into(),
            nonce: None,
            kind: MessageKind::Text,
            reply_to: None,
            data: None,
        })
        .await;
    let Event::Ack { seq: last, .. } = after else {
        panic!("after: {after:?}")
    };
    ann.saw(last).await;
    for m in members.iter_mut() {
        m.saw(last).await;
    }
    for m in members.iter().chain(std::iter::once(&ann)) {
        let seen: Vec<&Message> = m.messages.iter().filter(|x| x.room == room).collect();
        let bans: Vec<&&Message> = seen.iter().filter(|x| x.kind == MessageKind::Ban).collect();
        assert_eq!(bans.len(), 1, "{}: one ban event", m.user);
        assert_eq!(bans[0].seq, ban_seq);
        assert_eq!(bans[0].text, "ann banned eve: spam");
        let seqs: Vec<u64> = seen.iter().map(|x| x.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{}: seqs rise with no duplicate: {seqs:?}",
            m.user
        );
        assert_eq!(seqs.last(), Some(&last), "{}", m.user);
    }
    let expected: BTreeMap<u64, String> = rest_history(cluster.node("n1"), room)
        .await
        .into_iter()
        .map(|m| (m.seq, m.id))
        .collect();
    assert!(expected.contains_key(&ban_seq), "the ban is in history");

    // Banned on every node: a new socket on either is refused the room.
    for addr in [n1, n2] {
        let mut again = Raw::connect(addr, "eve").await;
        let refused = again.ask(join(room)).await;
        assert!(
            matches!(&refused, Event::Error { message, .. } if message == "forbidden: you are banned from court"),
            "{refused:?}"
        );
    }
    cluster.finish().await;
}
