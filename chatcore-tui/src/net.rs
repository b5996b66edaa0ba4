//! The adapter between [`chatcore_client`] and the app: one task owns the [`Client`], turns
//! its events into [`Action`]s ([`actions`]) and the app's [`NetCmd`]s into client calls.
//!
//! Connecting, reconnecting with backoff, resuming every joined room without gap or
//! duplicate, and retrying sends with their nonce are the library's ([`Client::start`]
//! connects in the background, so commands typed before the first connection simply wait).
//! This task adds only what belongs to the TUI: joining the configured rooms once
//! connected, asking for presence again after a reconnect, and replacing the client when
//! `/nick` or `:server` changes who or where it is (rejoining the rooms of the old one).

use std::time::Duration;

use chatcore_client::{
    Auth, Client, ClientConfig, ClientEvent, ConnectionState, Events, HistoryQuery, OutgoingMessage,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::app::{Action, ConnStatus, NetCmd};

/// Messages per history page when scrolling back.
const HISTORY_PAGE: u32 = 50;
/// How long closing may take before the client is dropped anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// First and longest wait between connection attempts: quick after a blip, and never more
/// than 15 s behind a server that came back.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(15));

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
            .with_backoff(BACKOFF.0, BACKOFF.1)
    }
}

/// A room to join once connected: fresh (`None`: with recent history) or resumed after a
/// seq (the rooms of a client that was replaced, on the same server).
type Wanted = (String, Option<u64>);

/// Starts the network task; returns the sender of commands. Actions go to `actions`.
pub fn spawn(
    target: Target,
    autojoin: Vec<String>,
    actions: UnboundedSender<Action>,
) -> UnboundedSender<NetCmd> {
    let (tx, rx) = mpsc::unbounded_channel();
    let wanted = autojoin.into_iter().map(|room| (room, None)).collect();
    tokio::spawn(run(target, wanted, rx, actions));
    tx
}

/// Runs one client after another: a new one for each change of server or user.
async fn run(
    mut target: Target,
    mut wanted: Vec<Wanted>,
    mut cmds: UnboundedReceiver<NetCmd>,
    tx: UnboundedSender<Action>,
) {
    loop {
        let next = match target.config() {
            Ok(config) => {
                let (client, events) = Client::start(config);
                drive(&client, events, wanted, &mut cmds, &tx).await
            }
            Err(e) => {
                let _ = tx.send(Action::Conn(ConnStatus::Closed {
                    reason: e.to_string(),
                }));
                idle(&mut cmds, &tx).await
            }
        };
        let Some((server, user, rooms)) = next else {
            return;
        };
        let same_server = server == target.server;
        target.server = server;
        if target.token.is_none() {
            target.user = user;
        }
        // Another server's seqs mean nothing here: join its rooms fresh.
        wanted = rooms
            .into_iter()
            .map(|(room, seq)| (room, seq.filter(|_| same_server)))
            .collect();
        let _ = tx.send(Action::Conn(ConnStatus::Connecting));
    }
}

/// What ends a client: `None` to stop, or the new server and user with the rooms to
/// take along.
type Next = Option<(String, String, Vec<Wanted>)>;

/// Bridges one client until the app quits or asks for another server or user.
async fn drive(
    client: &Client,
    mut events: Events,
    mut wanted: Vec<Wanted>,
    cmds: &mut UnboundedReceiver<NetCmd>,
    tx: &UnboundedSender<Action>,
) -> Next {
    let sender = spawn_sender(client.clone(), tx.clone());
    let mut open = true;
    loop {
        tokio::select! {
            event = events.recv(), if open => match event {
                Some(event) => {
                    if matches!(event, ClientEvent::State(ConnectionState::Connected(_))) {
                        // The first connection joins the wanted rooms (their answers carry
                        // who is online); later ones ask again, as presence is not replayed.
                        if wanted.is_empty() {
                            for (room, _) in client.joined_rooms() {
                                spawn_who(client, tx, room);
                            }
                        }
                        for (room, seq) in wanted.drain(..) {
                            spawn_join(client, tx, room, seq);
                        }
                    }
                    for action in actions(event) {
                        let _ = tx.send(action);
                    }
                }
                // Closed for good (the last event said why): wait for another target.
                None => open = false,
            },
            cmd = cmds.recv() => match cmd {
                None | Some(NetCmd::Close) => {
                    close(client).await;
                    return None;
                }
                Some(NetCmd::Reconnect { server, user }) => {
                    let mut rooms: Vec<Wanted> = client
                        .joined_rooms()
                        .into_iter()
                        .map(|(room, seq)| (room, Some(seq)))
                        .collect();
                    rooms.append(&mut wanted);
                    close(client).await;
                    return Some((server, user, rooms));
                }
                Some(cmd) => exec(cmd, client, &sender, tx),
            },
        }
    }
}

/// Without a client (its configuration was refused): every command but a new target or
/// quitting gets an error.
async fn idle(cmds: &mut UnboundedReceiver<NetCmd>, tx: &UnboundedSender<Action>) -> Next {
    const WHY: &str = "not connected: set the server with :server URL";
    loop {
        let action = match cmds.recv().await {
            None | Some(NetCmd::Close) => return None,
            Some(NetCmd::Reconnect { server, user }) => return Some((server, user, Vec::new())),
            Some(NetCmd::Send { local_id, .. } | NetCmd::Dm { local_id, .. }) => {
                Action::SendFailed {
                    local_id,
                    error: WHY.into(),
                }
            }
            Some(_) => Action::Error(WHY.into()),
        };
        let _ = tx.send(action);
    }
}

/// What the app sees of one client event.
pub fn actions(event: ClientEvent) -> Vec<Action> {
    let action = match event {
        ClientEvent::Message(m) => Action::Message(m),
        ClientEvent::Joined(j) => Action::Joined {
            room: j.room,
            kind: j.kind,
            last_seq: j.last_seq,
            online: j.online,
            history: j.history,
        },
        ClientEvent::RejoinFailed { room, error } => {
            let error = Action::Error(format!("could not rejoin #{room}: {error}"));
            return vec![Action::Left(room), error];
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
        ClientEvent::State(state) => Action::Conn(match state {
            ConnectionState::Connected(info) => ConnStatus::Connected { user: info.user },
            ConnectionState::Disconnected(reason) => ConnStatus::Disconnected {
                reason: reason.to_string(),
            },
            ConnectionState::Reconnecting { attempt, .. } => ConnStatus::Reconnecting { attempt },
            ConnectionState::Closed(reason) => ConnStatus::Closed {
                reason: reason.to_string(),
            },
            _ => return Vec::new(),
        }),
        _ => return Vec::new(),
    };
    vec![action]
}

/// Runs one command of the app (all but closing and retargeting).
fn exec(
    cmd: NetCmd,
    client: &Client,
    sender: &UnboundedSender<NetCmd>,
    tx: &UnboundedSender<Action>,
) {
    match cmd {
        NetCmd::Join(room) => spawn_join(client, tx, room, None),
        NetCmd::Leave(room) => {
            let (client, tx) = (client.clone(), tx.clone());
            tokio::spawn(async move {
                let action = match client.leave(room.clone()).await {
                    Ok(()) => Action::Left(room),
                    Err(e) => Action::Error(format!("cannot leave #{room}: {e}")),
                };
                let _ = tx.send(action);
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
        NetCmd::Reconnect { .. } | NetCmd::Close => {}
    }
}

async fn close(client: &Client) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await;
}

/// Joins `room` fresh, or after `seq`; a room that cannot be joined is dropped from the view.
fn spawn_join(client: &Client, tx: &UnboundedSender<Action>, room: String, seq: Option<u64>) {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let result = match seq {
            Some(seq) => client.join_after(room.clone(), seq).await,
            None => client.join(room.clone()).await,
        };
        match result {
            Ok(j) => {
                let _ = tx.send(Action::Joined {
                    room: j.room,
                    kind: j.kind,
                    last_seq: j.last_seq,
                    online: j.online,
                    history: j.history,
                });
            }
            Err(e) => {
                let _ = tx.send(Action::Left(room.clone()));
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chatcore_client::{DisconnectReason, Error};

    use super::*;

    fn state(state: ConnectionState) -> Vec<Action> {
        actions(ClientEvent::State(state))
    }

    #[test]
    fn connection_states_become_the_status_line() {
        let lost = DisconnectReason::ConnectionLost("reset".into());
        assert_eq!(
            state(ConnectionState::Disconnected(lost.clone())),
            [Action::Conn(ConnStatus::Disconnected {
                reason: lost.to_string()
            })]
        );
        let retry = ConnectionState::Reconnecting {
            attempt: 3,
            delay: Duration::from_secs(2),
        };
        assert_eq!(
            state(retry),
            [Action::Conn(ConnStatus::Reconnecting { attempt: 3 })]
        );
        let refused = DisconnectReason::GaveUp(Box::new(Error::Unauthorized("bad token".into())));
        assert!(matches!(
            &state(ConnectionState::Closed(refused))[..],
            [Action::Conn(ConnStatus::Closed { reason })] if reason.contains("bad token")
        ));
        assert!(state(ConnectionState::Connecting).is_empty());
    }

    #[test]
    fn a_failed_rejoin_drops_the_room_and_leaves_the_error_on_screen() {
        let failed = ClientEvent::RejoinFailed {
            room: "lobby".into(),
            error: Error::Closed,
        };
        assert!(matches!(
            &actions(failed)[..],
            [Action::Left(room), Action::Error(e)] if room == "lobby" && e.contains("#lobby")
        ));
    }

    #[test]
    fn presence_and_typing_pass_through() {
        let left = ClientEvent::UserLeft {
            room: "lobby".into(),
            user: "bob".into(),
        };
        assert_eq!(
            actions(left),
            [Action::UserPresence {
                room: "lobby".into(),
                user: "bob".into(),
                online: false
            }]
        );
        let typing = ClientEvent::Typing {
            room: "lobby".into(),
            user: "bob".into(),
            on: true,
        };
        assert_eq!(
            actions(typing),
            [Action::Typing {
                room: "lobby".into(),
                user: "bob".into(),
                on: true
            }]
        );
    }
}
