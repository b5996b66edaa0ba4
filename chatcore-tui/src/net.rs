//! The bridge between [`chatcore_client`] and the app: one task owns the [`Client`], turns
//! its events into [`Action`]s and runs [`NetCmd`]s, sending their outcomes back as actions.
//!
//! The library reconnects and resumes by itself once connected. This task adds what it does
//! not do: retrying the *first* connection, connecting again after the library gave up (or
//! after `/nick` and `:server`), rejoining the rooms then with `join_after` so nothing is
//! lost or repeated, and holding commands typed while no client exists.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chatcore_client::{
    Auth, Client, ClientConfig, ClientEvent, ConnectionState, Error, Events, HistoryQuery,
    OutgoingMessage,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::app::{Action, ConnStatus, NetCmd};

/// Messages per history page when scrolling back.
const HISTORY_PAGE: u32 = 50;
/// How long closing may take before the client is dropped anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// First and longest wait between attempts of a fresh connection.
const RETRY: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(15));

/// Where to connect and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Server URL.
    pub server: String,
    /// Guest name (used without a token).
    pub user: String,
    /// Session token.
    pub token: Option<String>,
}

impl Target {
    fn config(&self) -> chatcore_client::Result<ClientConfig> {
        let auth = match &self.token {
            Some(t) => Auth::Token(t.clone()),
            None => Auth::Guest(self.user.clone()),
        };
        ClientConfig::new(self.server.clone())?
            .with_auth(auth)
            .with_backoff(RETRY.0, RETRY.1)
    }
}

/// Room name → resume point (`None`: join fresh, with recent history). Shared with the
/// command tasks; a `std` mutex, never held across an `.await`.
#[derive(Debug, Clone, Default)]
struct Rooms(Arc<Mutex<BTreeMap<String, Option<u64>>>>);

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Option<u64>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn seen(&self, room: &str, seq: u64) {
        let mut rooms = self.lock();
        let entry = rooms.entry(room.to_owned()).or_insert(None);
        *entry = Some(entry.map_or(seq, |s| s.max(seq)));
    }
}

/// Starts the network task; returns the sender of commands. Actions go to `actions`.
pub fn spawn(
    target: Target,
    autojoin: Vec<String>,
    actions: UnboundedSender<Action>,
) -> UnboundedSender<NetCmd> {
    let (tx, rx) = mpsc::unbounded_channel();
    let rooms = Rooms::default();
    rooms.lock().extend(autojoin.into_iter().map(|r| (r, None)));
    tokio::spawn(run(target, rooms, rx, actions));
    tx
}

/// What ended a connected phase.
enum Next {
    /// Connect again (to `target`, possibly changed).
    Reconnect,
    /// Stop the task.
    Stop,
}

async fn run(
    mut target: Target,
    rooms: Rooms,
    mut cmds: UnboundedReceiver<NetCmd>,
    tx: UnboundedSender<Action>,
) {
    let mut queued = VecDeque::new();
    loop {
        let Some((client, events)) =
            connect(&mut target, &rooms, &mut cmds, &mut queued, &tx).await
        else {
            return;
        };
        match connected(
            client,
            events,
            &mut target,
            &rooms,
            &mut cmds,
            &mut queued,
            &tx,
        )
        .await
        {
            Next::Reconnect => {}
            Next::Stop => return,
        }
    }
}

/// Connects, retrying with backoff, while holding commands that arrive meanwhile. `None`
/// when told to stop.
async fn connect(
    target: &mut Target,
    rooms: &Rooms,
    cmds: &mut UnboundedReceiver<NetCmd>,
    queued: &mut VecDeque<NetCmd>,
    tx: &UnboundedSender<Action>,
) -> Option<(Client, Events)> {
    let mut attempt = 0u32;
    let mut delay = RETRY.0;
    loop {
        let config = match target.config() {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Action::Conn(ConnStatus::Closed {
                    reason: e.to_string(),
                }));
                wait_for_new_target(target, rooms, cmds, queued).await?;
                continue;
            }
        };
        let attempt_fut = Client::connect(config);
        tokio::pin!(attempt_fut);
        let result = loop {
            tokio::select! {
                r = &mut attempt_fut => break Some(r),
                cmd = cmds.recv() => match hold(cmd, target, rooms, queued) {
                    Held::Stop => return None,
                    Held::Retarget => break None,
                    Held::Kept => {}
                },
            }
        };
        match result {
            None => {
                attempt = 0;
                delay = RETRY.0;
            }
            Some(Ok(pair)) => return Some(pair),
            Some(Err(e)) if e.is_auth() || matches!(e, Error::Config(_)) => {
                let _ = tx.send(Action::Conn(ConnStatus::Closed {
                    reason: e.to_string(),
                }));
                wait_for_new_target(target, rooms, cmds, queued).await?;
            }
            Some(Err(e)) => {
                attempt += 1;
                let _ = tx.send(Action::Conn(ConnStatus::Disconnected {
                    reason: e.to_string(),
                }));
                let _ = tx.send(Action::Conn(ConnStatus::Reconnecting { attempt }));
                let sleep = tokio::time::sleep(delay);
                delay = (delay * 2).min(RETRY.1);
                tokio::pin!(sleep);
                loop {
                    tokio::select! {
                        () = &mut sleep => break,
                        cmd = cmds.recv() => match hold(cmd, target, rooms, queued) {
                            Held::Stop => return None,
                            Held::Retarget => { attempt = 0; delay = RETRY.0; break }
                            Held::Kept => {}
                        },
                    }
                }
            }
        }
    }
}

enum Held {
    Stop,
    Retarget,
    Kept,
}

/// A command while not connected: stop, retarget, or keep it for later.
fn hold(
    cmd: Option<NetCmd>,
    target: &mut Target,
    rooms: &Rooms,
    queued: &mut VecDeque<NetCmd>,
) -> Held {
    match cmd {
        None | Some(NetCmd::Close) => Held::Stop,
        Some(NetCmd::Reconnect { server, user }) => {
            retarget(target, rooms, server, user);
            Held::Retarget
        }
        Some(NetCmd::Typing { .. }) => Held::Kept, // stale by the time we connect: drop
        Some(other) => {
            queued.push_back(other);
            Held::Kept
        }
    }
}

async fn wait_for_new_target(
    target: &mut Target,
    rooms: &Rooms,
    cmds: &mut UnboundedReceiver<NetCmd>,
    queued: &mut VecDeque<NetCmd>,
) -> Option<()> {
    loop {
        match hold(cmds.recv().await, target, rooms, queued) {
            Held::Stop => return None,
            Held::Retarget => return Some(()),
            Held::Kept => {}
        }
    }
}

fn retarget(target: &mut Target, rooms: &Rooms, server: String, user: String) {
    if server != target.server {
        // Another server: its seqs mean nothing here; join fresh.
        for seq in rooms.lock().values_mut() {
            *seq = None;
        }
    }
    target.server = server;
    if target.token.is_none() {
        target.user = user;
    }
}

/// Runs one client until it closes for good or is replaced.
async fn connected(
    client: Client,
    mut events: Events,
    target: &mut Target,
    rooms: &Rooms,
    cmds: &mut UnboundedReceiver<NetCmd>,
    queued: &mut VecDeque<NetCmd>,
    tx: &UnboundedSender<Action>,
) -> Next {
    if let Some(session) = client.session() {
        let _ = tx.send(Action::Conn(ConnStatus::Connected { user: session.user }));
    }
    let sender = spawn_sender(client.clone(), tx.clone());
    let joined: Vec<(String, Option<u64>)> =
        rooms.lock().iter().map(|(r, s)| (r.clone(), *s)).collect();
    for (room, seq) in joined {
        spawn_join(&client, rooms, tx, room, seq);
    }
    while let Some(cmd) = queued.pop_front() {
        if let Some(next) = exec(cmd, &client, &sender, target, rooms, tx).await {
            return next;
        }
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Some(next) = on_event(event, &client, rooms, tx) {
                        return next;
                    }
                }
                None => return Next::Reconnect,
            },
            cmd = cmds.recv() => {
                let Some(cmd) = cmd else {
                    close(&client).await;
                    return Next::Stop;
                };
                if let Some(next) = exec(cmd, &client, &sender, target, rooms, tx).await {
                    return next;
                }
            }
        }
    }
}

fn on_event(
    event: ClientEvent,
    client: &Client,
    rooms: &Rooms,
    tx: &UnboundedSender<Action>,
) -> Option<Next> {
    let action = match event {
        ClientEvent::Message(m) => {
            rooms.seen(&m.room, m.seq);
            Action::Message(m)
        }
        ClientEvent::Joined(j) => {
            rooms.seen(&j.room, j.last_seq);
            Action::Joined {
                room: j.room,
                kind: j.kind,
                last_seq: j.last_seq,
                online: j.online,
                history: j.history,
            }
        }
        ClientEvent::RejoinFailed { room, error } => {
            rooms.lock().remove(&room);
            let _ = tx.send(Action::Error(format!("could not rejoin #{room}: {error}")));
            Action::Left(room)
        }
        ClientEvent::UserJoined { room, user } => Action::UserPresence {
            room,
            user,
            online: true,
        },
        ClientEvent::UserLeft { room, user } => Action::UserPresence {
            room,
            user,
            online: false,
        },
        ClientEvent::Typing { room, user, on } => Action::Typing { room, user, on },
        ClientEvent::State(state) => match state {
            ConnectionState::Connected(info) => {
                // Presence is not replayed after a reconnect: ask again.
                for room in rooms.lock().keys() {
                    spawn_who(client, tx, room.clone());
                }
                Action::Conn(ConnStatus::Connected { user: info.user })
            }
            ConnectionState::Disconnected(reason) => Action::Conn(ConnStatus::Disconnected {
                reason: reason.to_string(),
            }),
            ConnectionState::Reconnecting { attempt, .. } => {
                Action::Conn(ConnStatus::Reconnecting { attempt })
            }
            ConnectionState::Closed(reason) => {
                let _ = tx.send(Action::Conn(ConnStatus::Disconnected {
                    reason: reason.to_string(),
                }));
                return Some(Next::Reconnect);
            }
            _ => return None,
        },
        _ => return None,
    };
    let _ = tx.send(action);
    None
}

/// Runs one command; `Some` when the connection phase ends.
async fn exec(
    cmd: NetCmd,
    client: &Client,
    sender: &UnboundedSender<NetCmd>,
    target: &mut Target,
    rooms: &Rooms,
    tx: &UnboundedSender<Action>,
) -> Option<Next> {
    match cmd {
        NetCmd::Join(room) => spawn_join(client, rooms, tx, room, None),
        NetCmd::Leave(room) => {
            let (client, rooms, tx) = (client.clone(), rooms.clone(), tx.clone());
            tokio::spawn(async move {
                match client.leave(room.clone()).await {
                    Ok(()) => {
                        rooms.lock().remove(&room);
                        let _ = tx.send(Action::Left(room));
                    }
                    Err(e) => {
                        let _ = tx.send(Action::Error(format!("cannot leave #{room}: {e}")));
                    }
                }
            });
        }
        cmd @ (NetCmd::Send { .. } | NetCmd::Dm { .. }) => {
            let _ = sender.send(cmd);
        }
        NetCmd::Typing { room, on } => {
            let _ = client.typing(room, on);
        }
        NetCmd::History { room, before } => {
            let (client, tx) = (client.clone(), tx.clone());
            tokio::spawn(async move {
                let query = HistoryQuery::before(before).with_limit(HISTORY_PAGE);
                let action = match client.history(room.clone(), query).await {
                    Ok(page) => Action::History {
                        room: page.room,
                        messages: page.messages,
                        has_more: page.has_more,
                    },
                    Err(e) => {
                        let _ = tx.send(Action::Error(format!(
                            "cannot load history of #{room}: {e}"
                        )));
                        Action::History {
                            room,
                            messages: Vec::new(),
                            has_more: false,
                        }
                    }
                };
                let _ = tx.send(action);
            });
        }
        NetCmd::Rooms => {
            let (client, tx) = (client.clone(), tx.clone());
            tokio::spawn(async move {
                let action = match client.rooms().await {
                    Ok(list) if list.is_empty() => Action::Info("no rooms on this server".into()),
                    Ok(list) => Action::Info(format!(
                        "rooms: {}",
                        list.iter()
                            .map(|r| format!("#{} ({} online)", r.name, r.online))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    Err(e) => Action::Error(format!("cannot list rooms: {e}")),
                };
                let _ = tx.send(action);
            });
        }
        NetCmd::Reconnect { server, user } => {
            retarget(target, rooms, server, user);
            close(client).await;
            let _ = tx.send(Action::Conn(ConnStatus::Connecting));
            return Some(Next::Reconnect);
        }
        NetCmd::Close => {
            close(client).await;
            return Some(Next::Stop);
        }
    }
    None
}

async fn close(client: &Client) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await;
}

fn spawn_join(
    client: &Client,
    rooms: &Rooms,
    tx: &UnboundedSender<Action>,
    room: String,
    seq: Option<u64>,
) {
    let (client, rooms, tx) = (client.clone(), rooms.clone(), tx.clone());
    tokio::spawn(async move {
        let result = match seq {
            Some(seq) => client.join_after(room.clone(), seq).await,
            None => client.join(room.clone()).await,
        };
        match result {
            Ok(j) => {
                rooms.seen(&j.room, j.last_seq);
                let _ = tx.send(Action::Joined {
                    room: j.room,
                    kind: j.kind,
                    last_seq: j.last_seq,
                    online: j.online,
                    history: j.history,
                });
            }
            Err(e) => {
                if seq.is_some() {
                    rooms.lock().remove(&room);
                    let _ = tx.send(Action::Left(room.clone()));
                }
                let _ = tx.send(Action::Error(format!("cannot join #{room}: {e}")));
            }
        }
    });
}

fn spawn_who(client: &Client, tx: &UnboundedSender<Action>, room: String) {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        if let Ok(online) = client.who(room.clone()).await {
            let _ = tx.send(Action::Presence { room, online });
        }
    });
}

/// Sends messages one after another, so they are stored in the order they were typed.
fn spawn_sender(client: Client, tx: UnboundedSender<Action>) -> UnboundedSender<NetCmd> {
    let (send_tx, mut send_rx) = mpsc::unbounded_channel::<NetCmd>();
    tokio::spawn(async move {
        while let Some(cmd) = send_rx.recv().await {
            let (local_id, result) = match cmd {
                NetCmd::Send {
                    local_id,
                    room,
                    text,
                    emote,
                } => {
                    let mut message = OutgoingMessage::new(room, text);
                    if emote {
                        message = message.emote();
                    }
                    (local_id, client.send_message(message).await)
                }
                NetCmd::Dm { local_id, to, text } => (local_id, client.dm(to, text).await),
                _ => continue,
            };
            let _ = tx.send(match result {
                Ok(_) => Action::Sent { local_id },
                Err(e) => Action::SendFailed {
                    local_id,
                    error: e.to_string(),
                },
            });
        }
    });
    send_tx
}
