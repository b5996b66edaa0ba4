//! The adapter between [`chatcore_client`] and the app: one task owns the [`Client`], turns
//! its events into [`Action`]s ([`actions`]) and the app's [`NetCmd`]s into client calls.
//!
//! Connecting, reconnecting with backoff, resuming every joined room without gap or
//! duplicate, and retrying sends with their nonce are the library's ([`Client::start`]
//! connects in the background, so commands typed before the first connection simply wait).
//! This task adds only what belongs to the TUI: joining the configured rooms once
//! connected, asking for presence again after a reconnect, and replacing the client when
//! `/nick` or `:server` changes who or where it is (rejoining the rooms of the old one).

use chatcore_client::{Client, ClientEvent, ConnectionState, Events};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::app::{Action, ConnStatus, NetCmd};

mod account;
mod calls;
mod changes;
mod events;
mod join;
mod rooms;
mod target;

pub use events::actions;
pub use target::Target;

use account::{Account, Session};
use calls::{close, exec, spawn_sender};
use join::{spawn_join, spawn_who};

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

/// Runs one client after another: a new one for each change of server, user or account.
async fn run(
    mut target: Target,
    mut wanted: Vec<Wanted>,
    mut cmds: UnboundedReceiver<NetCmd>,
    tx: UnboundedSender<Action>,
) {
    let mut account = None;
    if let Some(user) = target.login.clone() {
        account = account::restore(&target, &user).await;
        if let Some(a) = &account {
            let _ = tx.send(Action::SignedIn {
                user: a.user.clone(),
            });
        }
    }
    loop {
        let next = match (&target.login, &account) {
            (Some(user), None) => {
                let _ = tx.send(Action::Conn(ConnStatus::SignIn { user: user.clone() }));
                idle(
                    &target,
                    wanted,
                    &mut cmds,
                    &tx,
                    "not signed in: /login NAME",
                )
                .await
            }
            _ => match target.config(account.as_ref().map(|a| a.access.as_str())) {
                Ok(config) => {
                    let (client, events) = Client::start(config);
                    let mut session = Session {
                        target: &target,
                        account: &mut account,
                    };
                    drive(&client, events, wanted, &mut cmds, &tx, &mut session).await
                }
                Err(e) => {
                    let _ = tx.send(Action::Conn(ConnStatus::Closed {
                        reason: e.to_string(),
                    }));
                    let why = "not connected: set the server with :server URL";
                    idle(&target, wanted, &mut cmds, &tx, why).await
                }
            },
        };
        let Some(Retarget {
            server,
            user,
            rooms,
            sign,
        }) = next
        else {
            return;
        };
        let same_server = server == target.server;
        target.server = server;
        if target.token.is_none() {
            target.user = user;
        }
        match sign {
            Sign::Keep if same_server => {}
            // An account belongs to its server: sign in there again.
            Sign::Keep => account = None,
            Sign::In(a) => {
                target.login = Some(a.user.clone());
                account = Some(a);
            }
            Sign::Out => {
                target.login = None;
                account = None;
            }
        }
        // Another server's seqs mean nothing here: join its rooms fresh.
        wanted = rooms
            .into_iter()
            .map(|(room, seq)| (room, seq.filter(|_| same_server)))
            .collect();
        let _ = tx.send(Action::Conn(ConnStatus::Connecting));
    }
}

/// `/nick`, `:server`, `/login` or `/logout`: where and as whom to connect next, with the
/// rooms to take along.
struct Retarget {
    server: String,
    user: String,
    rooms: Vec<Wanted>,
    sign: Sign,
}

/// What a retarget does to the account.
enum Sign {
    /// Stays signed in (or not).
    Keep,
    /// Signed in to this account.
    In(Account),
    /// Signed out: a guest (or the `--token`) next.
    Out,
}

/// What ends a client: `None` to stop, or another target.
type Next = Option<Retarget>;

/// Bridges one client until the app quits or asks for another server, user or account.
async fn drive(
    client: &Client,
    mut events: Events,
    mut wanted: Vec<Wanted>,
    cmds: &mut UnboundedReceiver<NetCmd>,
    tx: &UnboundedSender<Action>,
    session: &mut Session<'_>,
) -> Next {
    let sender = spawn_sender(client.clone(), tx.clone());
    let mut open = true;
    loop {
        let refresh_at = session.account.as_ref().map(|a| a.refresh_at);
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
            () = sleep_until(refresh_at), if refresh_at.is_some() => {
                account::refresh_now(client, tx, session).await;
            }
            cmd = cmds.recv() => {
                let sign = match cmd {
                    None | Some(NetCmd::Close) => {
                        close(client).await;
                        return None;
                    }
                    Some(NetCmd::Reconnect { server, user }) => Some((server, user, Sign::Keep)),
                    Some(NetCmd::SignIn { user, password, create }) => {
                        account::sign_in_and_tell(session.target, &user, &password, create, tx)
                            .await
                            .map(|a| (session.target.server.clone(), session.target.user.clone(), Sign::In(a)))
                    }
                    Some(NetCmd::Logout) => match session.account.as_ref() {
                        Some(a) => {
                            if let Err(e) = account::logout(session.target, a).await {
                                let _ = tx.send(Action::Error(format!("logout: {e}")));
                            }
                            let _ = tx.send(Action::SignedOut);
                            Some((session.target.server.clone(), session.target.user.clone(), Sign::Out))
                        }
                        None => {
                            let _ = tx.send(Action::Error("not signed in".into()));
                            None
                        }
                    },
                    Some(cmd) => {
                        exec(cmd, client, &sender, tx);
                        None
                    }
                };
                if let Some((server, user, sign)) = sign {
                    let mut rooms: Vec<Wanted> = client
                        .joined_rooms()
                        .into_iter()
                        .map(|(room, seq)| (room, Some(seq)))
                        .collect();
                    rooms.append(&mut wanted);
                    close(client).await;
                    return Some(Retarget { server, user, rooms, sign });
                }
            }
        }
    }
}

/// Sleeps until `at` (forever without one: the branch is disabled then).
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Without a client (not signed in yet, or its configuration was refused): every command
/// but a new target, a sign-in or quitting gets the error `why`; the `wanted` rooms wait for
/// the next target.
async fn idle(
    target: &Target,
    rooms: Vec<Wanted>,
    cmds: &mut UnboundedReceiver<NetCmd>,
    tx: &UnboundedSender<Action>,
    why: &str,
) -> Next {
    loop {
        let action = match cmds.recv().await {
            None | Some(NetCmd::Close) => return None,
            Some(NetCmd::Reconnect { server, user }) => {
                return Some(Retarget {
                    server,
                    user,
                    rooms,
                    sign: Sign::Keep,
                });
            }
            Some(NetCmd::SignIn {
                user,
                password,
                create,
            }) => {
                if let Some(a) =
                    account::sign_in_and_tell(target, &user, &password, create, tx).await
                {
                    return Some(Retarget {
                        server: target.server.clone(),
                        user: target.user.clone(),
                        rooms,
                        sign: Sign::In(a),
                    });
                }
                continue;
            }
            Some(NetCmd::Send { local_id, .. } | NetCmd::Dm { local_id, .. }) => {
                Action::SendFailed {
                    local_id,
                    error: why.into(),
                }
            }
            Some(_) => Action::Error(why.into()),
        };
        let _ = tx.send(action);
    }
}

#[cfg(test)]
mod tests;
