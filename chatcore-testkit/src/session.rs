//! [`SessionProbe`]: a socket-less client that drives a [`Session`] in process.

use chatcore::auth::{Credentials, Identity};
use chatcore::protocol::{Codec, Command, Event, Message, MessageKind, Request};
use chatcore::{CloseReason, Hub, Outbound, Outgoing, Session};

use crate::events::{push_rising, reply_id};
use crate::wait::BOUND;

/// A client driving one [`Session`] in memory, as a transport would: requests go to
/// [`Session::handle`], events are read from its [`Outbound`] queue and decoded from the
/// bytes a transport would write.
pub struct SessionProbe {
    /// The session under test.
    pub session: Session,
    /// Its outbound queue.
    pub out: Outbound,
    /// The last request id used; ids count up from 1.
    next_id: u64,
    /// The `welcome` the session opened with.
    pub welcome: Option<Event>,
}

impl SessionProbe {
    /// A JSON guest `user` on `hub`, welcome frame read.
    pub async fn connect(hub: &Hub, user: &str) -> Self {
        Self::connect_with(hub, user, Codec::Json).await
    }

    /// A guest `user` on `hub` speaking `codec`, welcome frame read.
    pub async fn connect_with(hub: &Hub, user: &str, codec: Codec) -> Self {
        Self::connect_as(hub, guest(hub, user).await, codec).await
    }

    /// A session of `identity` (claims and all, as an authenticator made it) on `hub`
    /// speaking `codec`, welcome frame read.
    pub async fn connect_as(hub: &Hub, identity: Identity, codec: Codec) -> Self {
        let (session, out) = hub.connect(identity, codec).expect("connect");
        let mut c = Self {
            session,
            out,
            next_id: 0,
            welcome: None,
        };
        let welcome = c.event().await;
        assert!(matches!(welcome, Event::Welcome { .. }), "{welcome:?}");
        c.welcome = Some(welcome);
        c
    }

    /// Hands the session a command with a fresh request id and returns the id.
    pub async fn request(&mut self, command: Command) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.session.handle(Request::new(id, command)).await;
        id
    }

    /// Hands the session a command without a request id (fire-and-forget, as `typing` is
    /// sent).
    pub async fn notify(&mut self, command: Command) {
        self.session.handle(Request { id: None, command }).await;
    }

    /// The next event, decoded from the bytes a transport would write.
    pub async fn event(&mut self) -> Event {
        match tokio::time::timeout(BOUND, self.out.recv()).await {
            Ok(Outgoing::Frame(f)) => {
                let codec = self.out.codec();
                codec.decode_event(f.encoded(codec)).expect("valid frame")
            }
            Ok(Outgoing::Closed(r)) => panic!("session closed: {r:?}"),
            Ok(Outgoing::Flush) => panic!("a flush, but no direct sink is attached here"),
            Err(_) => panic!("no event within {BOUND:?}"),
        }
    }

    /// The session's close reason, waiting for it (frames before it are discarded).
    pub async fn closed(&mut self) -> CloseReason {
        loop {
            match tokio::time::timeout(BOUND, self.out.recv()).await {
                Ok(Outgoing::Frame(_) | Outgoing::Flush) => {}
                Ok(Outgoing::Closed(r)) => return r,
                Err(_) => panic!("session not closed within {BOUND:?}"),
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

    /// The reply to `command`.
    pub async fn ask(&mut self, command: Command) -> Event {
        let id = self.request(command).await;
        self.reply(id).await
    }

    /// The error code and message of the reply to `command`, panicking on success.
    pub async fn refused(&mut self, command: Command) -> (chatcore::ErrorCode, String) {
        match self.ask(command).await {
            Event::Error { code, message, .. } => (code, message),
            e => panic!("expected an error, got {e:?}"),
        }
    }

    /// The seq of the acked command's event, panicking on anything else.
    pub async fn acked(&mut self, command: Command) -> u64 {
        match self.ask(command).await {
            Event::Ack { seq, .. } => seq,
            e => panic!("expected an ack, got {e:?}"),
        }
    }

    /// Joins a room; panics unless it is joined.
    pub async fn join(&mut self, room: &str) -> Event {
        self.join_from(room, None).await
    }

    /// Joins a room resuming after `resume_after`; panics unless it is joined, and panics on
    /// any message of the room that arrives before `joined` (the seam promises that live
    /// messages follow it, so an earlier one is a race at the seam, often a duplicate of the
    /// joined history).
    pub async fn join_from(&mut self, room: &str, resume_after: Option<u64>) -> Event {
        let id = self
            .request(Command::Join {
                room: room.into(),
                resume_after,
            })
            .await;
        loop {
            let e = self.event().await;
            if let Event::Message(m) = &e {
                assert!(
                    m.room != room,
                    "join {room}: seq {} arrived before joined",
                    m.seq
                );
            }
            if reply_id(&e) == Some(id) {
                assert!(matches!(e, Event::Joined { .. }), "join {room}: {e:?}");
                return e;
            }
        }
    }

    /// Sends and returns the acked seq.
    pub async fn send(&mut self, room: &str, text: &str) -> u64 {
        let id = self.send_nowait(room, text, None).await;
        match self.reply(id).await {
            Event::Ack { seq, .. } => seq,
            e => panic!("send: {e:?}"),
        }
    }

    /// Sends a message without waiting for its ack; returns the request id.
    pub async fn send_nowait(&mut self, room: &str, text: &str, nonce: Option<&str>) -> u64 {
        self.request(Command::Send {
            room: room.into(),
            text: text.into(),
            nonce: nonce.map(str::to_owned),
            kind: MessageKind::Text,
            reply_to: None,
            data: None,
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

    /// Message events of `room` until `n` have arrived, then a ping round trip that proves
    /// nothing more of the room was queued: panics on a seq that does not rise (a
    /// duplicate) and on any message after the `n`th (a trailing duplicate, or one more than
    /// the caller sent).
    pub async fn messages(&mut self, room: &str, n: usize) -> Vec<Message> {
        let mut got: Vec<Message> = Vec::new();
        while got.len() < n {
            if let Event::Message(m) = self.event().await {
                if m.room == room {
                    push_rising(room, &mut got, m);
                }
            }
        }
        self.quiet(room, n).await;
        got
    }

    /// A ping round trip: panics if a message of `room` was queued before the pong (`n` is
    /// how many the caller expected, for the message).
    pub async fn quiet(&mut self, room: &str, n: usize) {
        let id = self.request(Command::Ping {}).await;
        loop {
            match self.event().await {
                Event::Message(m) if m.room == room => {
                    panic!("{room}: seq {} arrived after the {n} expected", m.seq)
                }
                e if reply_id(&e) == Some(id) => return,
                _ => {}
            }
        }
    }
}

/// Guest `user`'s identity on `hub`.
pub async fn guest(hub: &Hub, user: &str) -> Identity {
    hub.authenticate(&Credentials::Guest(user.into()))
        .await
        .expect("guest")
}

/// A JSON session of guest `user` on `hub` and its outbound queue, nothing read yet (for a
/// test that runs a transport on it, or reads the queue itself).
pub async fn guest_session(hub: &Hub, user: &str) -> (Session, Outbound) {
    hub.connect(guest(hub, user).await, Codec::Json)
        .expect("connect")
}

/// An in-memory hub with default settings that lets guests in.
pub async fn memory_hub() -> Hub {
    Hub::builder().build().await.expect("hub")
}
