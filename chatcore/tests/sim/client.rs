//! A simulated client: one user on one node that joins, sends with nonces, reads what the
//! hub queues, drops its connection and resumes, and checks the contract on every frame.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chatcore::protocol::{Codec, Command, Event, Message, MessageKind, Request};
use chatcore::store::{HistoryQuery, Store};
use chatcore::{Hub, Outbound, Session};

pub(crate) const ROOM: &str = "sim";

/// What every client saw, shared: each seq's sender and text must be the same for everyone.
#[derive(Default)]
pub(crate) struct Ledger {
    pub(crate) texts: BTreeMap<u64, (String, String)>,
}

/// What a request id was for.
enum Asked {
    Join,
    Page,
    Send(String),
}

struct Conn {
    session: Session,
    out: Outbound,
    /// The join's request id until `joined` arrives.
    joining: Option<u64>,
    /// `Some(last_seq of joined)` while paging the rest of an incomplete resume; live
    /// messages wait in `held` until it is done.
    paging: Option<u64>,
    held: Vec<Message>,
}

pub(crate) struct SimClient {
    pub(crate) user: String,
    pub(crate) node: usize,
    conn: Option<Conn>,
    /// Highest seq received, every lower one received once: the resume point.
    pub(crate) seen: u64,
    /// When an offline client reconnects.
    pub(crate) back_at: Option<Duration>,
    next_id: u64,
    sent: u64,
    asked: HashMap<u64, Asked>,
    /// Nonce → acked seq (`None` until acked).
    pub(crate) nonces: BTreeMap<String, Option<u64>>,
    /// Nonces to send again (their send failed or the connection dropped before the ack).
    retry: Vec<String>,
    /// `(time, seq)` of every delivery, for the trace hash and time-to-live checks.
    pub(crate) deliveries: Vec<(Duration, u64)>,
    /// Times this client's connection ended by its own choice.
    pub(crate) drops: u32,
}

impl SimClient {
    pub(crate) fn new(user: String, node: usize) -> Self {
        Self {
            user,
            node,
            conn: None,
            seen: 0,
            back_at: Some(Duration::ZERO),
            next_id: 0,
            sent: 0,
            asked: HashMap::new(),
            nonces: BTreeMap::new(),
            retry: Vec::new(),
            deliveries: Vec::new(),
            drops: 0,
        }
    }

    pub(crate) fn online(&self) -> bool {
        self.conn.is_some()
    }

    /// Joined and not paging: live.
    pub(crate) fn live(&self) -> bool {
        self.conn
            .as_ref()
            .is_some_and(|c| c.joining.is_none() && c.paging.is_none())
    }

    pub(crate) fn unacked(&self) -> usize {
        self.nonces.values().filter(|s| s.is_none()).count()
    }

    async fn request(&mut self, command: Command, asked: Asked) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.asked.insert(id, asked);
        if let Some(conn) = &mut self.conn {
            conn.session.handle(Request::new(id, command)).await;
        }
        id
    }

    /// Connects and resumes after the last seq received.
    pub(crate) async fn connect(&mut self, hub: &Hub) -> Result<(), String> {
        let id = hub
            .authenticate(&chatcore::auth::Credentials::Guest(self.user.clone()))
            .await
            .map_err(|e| format!("{}: guest refused: {e}", self.user))?;
        let (session, out) = hub
            .connect(id, Codec::Json)
            .map_err(|e| format!("{}: connect: {e}", self.user))?;
        self.conn = Some(Conn {
            session,
            out,
            joining: None,
            paging: None,
            held: Vec::new(),
        });
        self.back_at = None;
        self.join().await;
        Ok(())
    }

    async fn join(&mut self) {
        let join = Command::Join {
            room: ROOM.into(),
            resume_after: Some(self.seen),
        };
        let id = self.request(join, Asked::Join).await;
        if let Some(conn) = &mut self.conn {
            conn.joining = Some(id);
        }
    }

    /// Ends the connection (the session is dropped, as a transport drops it); whatever was
    /// in flight is sent again after the resume.
    pub(crate) fn disconnect(&mut self, back_at: Duration) {
        self.conn = None;
        self.asked.clear();
        self.retry = self
            .nonces
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        self.back_at = Some(back_at);
        self.drops += 1;
    }

    /// Sends a new message, or one whose earlier try failed, with its nonce.
    pub(crate) async fn send(&mut self, fresh: bool) {
        if !self.live() {
            return;
        }
        let nonce = match self.retry.pop() {
            Some(n) => n,
            None if fresh => {
                self.sent += 1;
                let n = format!("{}-{}", self.user, self.sent);
                self.nonces.insert(n.clone(), None);
                n
            }
            None => return,
        };
        let command = Command::Send {
            room: ROOM.into(),
            text: format!("text of {nonce}"),
            nonce: Some(nonce.clone()),
            kind: MessageKind::Text,
            reply_to: None,
            data: None,
        };
        self.request(command, Asked::Send(nonce)).await;
    }

    /// Reads everything queued and checks it. `Err` names the broken promise.
    pub(crate) async fn drain(
        &mut self,
        now: Duration,
        store: &dyn Store,
        ledger: &mut Ledger,
    ) -> Result<(), String> {
        loop {
            let Some(conn) = &mut self.conn else {
                return Ok(());
            };
            let Some(frame) = conn.out.try_next() else {
                if let Some(reason) = conn.session.close_reason() {
                    return Err(format!(
                        "{} (node {}) was disconnected by the server at {now:?}: {reason:?}",
                        self.user, self.node
                    ));
                }
                return Ok(());
            };
            let event = frame.event().clone();
            self.on_event(event, now, store, ledger).await?;
        }
    }

    async fn on_event(
        &mut self,
        event: Event,
        now: Duration,
        store: &dyn Store,
        ledger: &mut Ledger,
    ) -> Result<(), String> {
        let who = format!("{} (node {}) at {now:?}", self.user, self.node);
        match event {
            Event::Joined {
                id,
                history,
                complete,
                last_seq,
                ..
            } => {
                let conn = self.conn.as_mut().ok_or("no connection")?;
                if id.is_none() || conn.joining != id {
                    return Err(format!("{who}: joined {id:?} that was not asked for"));
                }
                conn.joining = None;
                for m in history {
                    self.take(m, now, ledger, &who)?;
                }
                if !complete {
                    self.conn.as_mut().ok_or("no connection")?.paging = Some(last_seq);
                    self.page().await;
                }
            }
            Event::History { messages, .. } => {
                for m in messages {
                    self.take(m, now, ledger, &who)?;
                }
                let conn = self.conn.as_mut().ok_or("no connection")?;
                match conn.paging {
                    Some(last) if self.seen < last => self.page().await,
                    _ => {
                        let conn = self.conn.as_mut().ok_or("no connection")?;
                        conn.paging = None;
                        for m in std::mem::take(&mut conn.held) {
                            self.take(m, now, ledger, &who)?;
                        }
                    }
                }
            }
            Event::Message(m) => {
                let conn = self.conn.as_mut().ok_or("no connection")?;
                if conn.joining.is_some() {
                    return Err(format!("{who}: seq {} arrived before joined", m.seq));
                }
                if conn.paging.is_some() {
                    conn.held.push(m);
                } else {
                    self.take(m, now, ledger, &who)?;
                }
            }
            Event::Ack {
                id, seq, duplicate, ..
            } => {
                let Some(Asked::Send(nonce)) = id.and_then(|id| self.asked.remove(&id)) else {
                    return Err(format!("{who}: ack {id:?} that was not asked for"));
                };
                durable(store, seq, &nonce, &who).await?;
                let slot = self.nonces.entry(nonce.clone()).or_default();
                match *slot {
                    Some(first) if first != seq => {
                        return Err(format!(
                            "{who}: {nonce} acked as seq {first}, then as seq {seq} (duplicate: {duplicate})"
                        ));
                    }
                    _ => *slot = Some(seq),
                }
            }
            Event::Error { id, message, .. } => match id.and_then(|id| self.asked.remove(&id)) {
                Some(Asked::Send(nonce)) => self.retry.push(nonce),
                Some(Asked::Join) => {
                    // Store refused the join: try again on a fresh connection soon.
                    self.disconnect(now + Duration::from_millis(50));
                    self.drops -= 1;
                }
                Some(Asked::Page) => self.page().await,
                None => return Err(format!("{who}: error {id:?} not asked for: {message}")),
            },
            _ => {}
        }
        Ok(())
    }

    async fn page(&mut self) {
        let q = Command::History {
            room: ROOM.into(),
            before: None,
            after: Some(self.seen),
            limit: Some(200),
        };
        self.request(q, Asked::Page).await;
    }

    /// One message in: it must be the next seq, with the text everybody else saw for it.
    fn take(
        &mut self,
        m: Message,
        now: Duration,
        ledger: &mut Ledger,
        who: &str,
    ) -> Result<(), String> {
        if m.seq <= self.seen {
            return Err(format!(
                "{who}: seq {} twice (had up to {})",
                m.seq, self.seen
            ));
        }
        if m.seq != self.seen + 1 {
            return Err(format!("{who}: gap, seq {} after {}", m.seq, self.seen));
        }
        let said = (m.sender.clone(), m.text.clone());
        if let Some(before) = ledger.texts.insert(m.seq, said.clone()) {
            if before != said {
                return Err(format!(
                    "{who}: seq {} is {said:?}, others saw {before:?}",
                    m.seq
                ));
            }
        }
        self.seen = m.seq;
        self.deliveries.push((now, m.seq));
        Ok(())
    }
}

/// An ack's message is in the store already, at the acked seq, with the sender's nonce.
async fn durable(store: &dyn Store, seq: u64, nonce: &str, who: &str) -> Result<(), String> {
    let q = HistoryQuery {
        after: Some(seq.saturating_sub(1)),
        before: Some(seq + 1),
        limit: 1,
    };
    let page = store
        .history(ROOM, q)
        .await
        .map_err(|e| format!("{who}: store read: {e}"))?;
    match page.messages.first() {
        Some(m) if m.nonce.as_deref() == Some(nonce) => Ok(()),
        other => Err(format!(
            "{who}: ack of {nonce} as seq {seq}, but the store has {other:?}"
        )),
    }
}
