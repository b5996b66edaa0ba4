//! The adapter between [`chatcore_client`] and the app: one task owns the [`Client`], turns
//! its events into [`Action`]s ([`actions`]) and the app's [`NetCmd`]s into client calls.
//!
//! Connecting, reconnecting with backoff, resuming every joined room without gap or
//! duplicate, and retrying sends with their nonce are the library's ([`Client::start`]
//! connects in the background, so commands typed before the first connection simply wait).
//! This task adds only what belongs to the TUI: joining the configured rooms once
//! connected, asking for presence again after a reconnect, and replacing the client when
//! `/nick` or `:server` changes who or where it is (rejoining the rooms of the old one).

use std::path::PathBuf;
use std::time::Duration;

use chatcore_client::{
    Auth, Client, ClientConfig, ClientEvent, ConnectionState, DisconnectReason, Error, Events,
};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::app::{Action, ConnStatus, NetCmd};
use crate::config::Settings;

mod calls;

use calls::{close, exec, spawn_join, spawn_sender, spawn_who};

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
    /// PEM file of CA certificates trusted besides the built-in roots.
    pub ca_file: Option<PathBuf>,
}

/// The notice under the status line when the server's certificate was refused: what to do.
const CA_FILE_HINT: &str = "start chat-tui with --ca-file PATH (or CHATCORE_CA_FILE) \
naming the CA that signed the server's certificate";

impl Target {
    /// Where and as whom `settings` say to connect.
    pub fn from_settings(settings: &Settings) -> Target {
        Target {
            server: settings.server.clone(),
            user: settings.user.clone(),
            token: settings.token.clone(),
            ca_file: settings.ca_file.clone(),
        }
    }

    /// Reads the CA file, if one is set, so a missing or malformed one stops the client at
    /// start-up with [`Error::Config`] naming it. (With a server URL that is not valid, there
    /// is nothing to check yet: that shows on the status line and `:server` can fix it.)
    pub fn check_ca_file(&self) -> chatcore_client::Result<()> {
        match (&self.ca_file, ClientConfig::new(self.server.clone())) {
            (Some(path), Ok(config)) => config.with_ca_file(path).map(drop),
            _ => Ok(()),
        }
    }

    fn config(&self) -> chatcore_client::Result<ClientConfig> {
        let auth = match &self.token {
            Some(t) => Auth::Token(t.clone()),
            None => Auth::Guest(self.user.clone()),
        };
        let config = ClientConfig::new(self.server.clone())?;
        let config = match &self.ca_file {
            Some(path) => config.with_ca_file(path)?,
            None => config,
        };
        config.with_auth(auth).with_backoff(BACKOFF.0, BACKOFF.1)
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
                idle(wanted, &mut cmds, &tx).await
            }
        };
        let Some(Retarget {
            server,
            user,
            rooms,
        }) = next
        else {
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

/// `/nick` or `:server`: where and as whom to connect next, with the rooms to take along.
struct Retarget {
    server: String,
    user: String,
    rooms: Vec<Wanted>,
}

/// What ends a client: `None` to stop, or another target.
type Next = Option<Retarget>;

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
                    return Some(Retarget { server, user, rooms });
                }
                Some(cmd) => exec(cmd, client, &sender, tx),
            },
        }
    }
}

/// Without a client (its configuration was refused): every command but a new target or
/// quitting gets an error; the `wanted` rooms wait for the next target.
async fn idle(
    rooms: Vec<Wanted>,
    cmds: &mut UnboundedReceiver<NetCmd>,
    tx: &UnboundedSender<Action>,
) -> Next {
    const WHY: &str = "not connected: set the server with :server URL";
    loop {
        let action = match cmds.recv().await {
            None | Some(NetCmd::Close) => return None,
            Some(NetCmd::Reconnect { server, user }) => {
                return Some(Retarget {
                    server,
                    user,
                    rooms,
                });
            }
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
        // A large room became small again: the whole list, then per-user changes resume.
        ClientEvent::Presence { room, online } => Action::Presence { room, online },
        ClientEvent::OnlineCount { room, online } => Action::OnlineCount { room, online },
        ClientEvent::State(state) => Action::Conn(match state {
            ConnectionState::Connected(info) => ConnStatus::Connected { user: info.user },
            ConnectionState::Disconnected(reason) => ConnStatus::Disconnected {
                reason: reason.to_string(),
            },
            ConnectionState::Reconnecting { attempt, .. } => ConnStatus::Reconnecting { attempt },
            ConnectionState::Closed(reason) => match untrusted(&reason) {
                Some(reason) => {
                    return vec![
                        Action::Conn(ConnStatus::Untrusted { reason }),
                        Action::Error(CA_FILE_HINT.into()),
                    ];
                }
                None => ConnStatus::Closed {
                    reason: reason.to_string(),
                },
            },
            _ => return Vec::new(),
        }),
        _ => return Vec::new(),
    };
    vec![action]
}

/// Why the server's certificate was refused, when that is what made the client give up.
fn untrusted(reason: &DisconnectReason) -> Option<String> {
    match reason {
        DisconnectReason::GaveUp(e) => match e.as_ref() {
            Error::Tls {
                reason,
                certificate: true,
                ..
            } => Some(reason.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
