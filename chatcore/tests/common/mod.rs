//! Shared fixtures: a hub and a socket-less client that drives a `Session` like a transport.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use chatcore::auth::{Credentials, Identity};
use chatcore::protocol::{Codec, Command, Event, Message, MessageKind, Request};
use chatcore::{CloseReason, Hub, Outbound, Outgoing, Session};

/// Upper bound for anything a test waits for (never a performance goal).
pub const WAIT: Duration = Duration::from_secs(10);

/// A client driving one session in memory.
pub struct Client {
    pub session: Session,
    pub out: Outbound,
    next_id: u64,
}

impl Client {
    pub async fn connect(hub: &Hub, user: &str) -> Self {
        Self::connect_with(hub, user, Codec::Json).await
    }

    pub async fn connect_with(hub: &Hub, user: &str, codec: Codec) -> Self {
        let id: Identity = hub
            .authenticate(&Credentials::Guest(user.into()))
            .await
            .expect("guest");
        let (session, out) = hub.connect(id, codec).expect("connect");
        let mut c = Self {
            session,
            out,
            next_id: 0,
        };
        assert!(matches!(c.event().await, Event::Welcome { .. }));
        c
    }

    pub async fn request(&mut self, command: Command) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.session.handle(Request::new(id, command)).await;
        id
    }

    /// The next event, decoded from the bytes a transport would write.
    pub async fn event(&mut self) -> Event {
        match tokio::time::timeout(WAIT, self.out.recv()).await {
            Ok(Outgoing::Frame(f)) => {
                let codec = self.out.codec();
                codec.decode_event(f.encoded(codec)).expect("valid frame")
            }
            Ok(Outgoing::Closed(r)) => panic!("session closed: {r:?}"),
            Err(_) => panic!("no event within {WAIT:?}"),
        }
    }

    /// The session's close reason, waiting for it (frames before it are discarded).
    pub async fn closed(&mut self) -> CloseReason {
        loop {
            match tokio::time::timeout(WAIT, self.out.recv()).await {
                Ok(Outgoing::Frame(_)) => {}
                Ok(Outgoing::Closed(r)) => return r,
                Err(_) => panic!("session not closed within {WAIT:?}"),
            }
        }
    }

    /// Skips events until one matches.
    pub async fn until(&mut self, mut pred: impl FnMut(&Event) -> bool) -> Event {
        loop {
            let e = self.event().await;
            if pred(&e) {
                return e;
            }
        }
    }

    /// The reply to request `id` (ack, error, joined, …).
    pub async fn reply(&mut self, id: u64) -> Event {
        self.until(|e| reply_id(e) == Some(id)).await
    }

    pub async fn join(&mut self, room: &str) -> Event {
        self.join_from(room, None).await
    }

    pub async fn join_from(&mut self, room: &str, resume_after: Option<u64>) -> Event {
        let id = self
            .request(Command::Join {
                room: room.into(),
                resume_after,
            })
            .await;
        let e = self.reply(id).await;
        assert!(matches!(e, Event::Joined { .. }), "join {room}: {e:?}");
        e
    }

    /// Sends and returns the acked seq.
    pub async fn send(&mut self, room: &str, text: &str) -> u64 {
        let id = self.send_nowait(room, text, None).await;
        match self.reply(id).await {
            Event::Ack { seq, .. } => seq,
            e => panic!("send: {e:?}"),
        }
    }

    pub async fn send_nowait(&mut self, room: &str, text: &str, nonce: Option<&str>) -> u64 {
        self.request(Command::Send {
            room: room.into(),
            text: text.into(),
            nonce: nonce.map(str::to_owned),
            kind: MessageKind::Text,
            reply_to: None,
        })
        .await
    }

    /// The error code of the reply to `id`.
    pub async fn error(&mut self, id: u64) -> chatcore::ErrorCode {
        match self.reply(id).await {
            Event::Error { code, .. } => code,
            e => panic!("expected an error, got {e:?}"),
        }
    }

    /// Message events of `room` until `n` have arrived.
    pub async fn messages(&mut self, room: &str, n: usize) -> Vec<Message> {
        let mut got = Vec::new();
        while got.len() < n {
            if let Event::Message(m) = self.event().await {
                if m.room == room {
                    got.push(m);
                }
            }
        }
        got
    }
}

pub fn reply_id(e: &Event) -> Option<u64> {
    match e {
        Event::Ack { id, .. }
        | Event::Error { id, .. }
        | Event::Joined { id, .. }
        | Event::Left { id, .. }
        | Event::Presence { id, .. }
        | Event::History { id, .. }
        | Event::Rooms { id, .. }
        | Event::Pong { id } => *id,
        _ => None,
    }
}

pub async fn hub() -> Hub {
    Hub::builder().build().await.expect("hub")
}

pub fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}
