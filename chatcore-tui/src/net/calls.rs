//! The app's commands as client calls: each runs in a task of its own (sends in one task,
//! in the order typed) and reports its outcome as an [`Action`].

use std::time::Duration;

use chatcore_client::{Client, HistoryQuery, OutgoingMessage};
use tokio::sync::mpsc::{self, UnboundedSender};

use super::join::spawn_join;
use crate::app::{Action, NetCmd};

/// Messages per history page when scrolling back.
const HISTORY_PAGE: u32 = 50;
/// How long closing may take before the client is dropped anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs one command of the app (all but closing and retargeting).
pub(super) fn exec(
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
                        current_to: page.current_to,
                    },
                    Err(e) => {
                        let _ = tx.send(Action::Error(format!(
                            "cannot load history of #{room}: {e}"
                        )));
                        Action::History {
                            room,
                            messages: Vec::new(),
                            has_more: false,
                            current_to: 0,
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
        cmd @ (NetCmd::Edit { .. }
        | NetCmd::Delete { .. }
        | NetCmd::React { .. }
        | NetCmd::Thread { .. }
        | NetCmd::Read { .. }) => super::changes::exec_change(cmd, client, tx),
        cmd @ (NetCmd::Create { .. }
        | NetCmd::Moderate { .. }
        | NetCmd::Block(_)
        | NetCmd::Search(_)) => super::rooms::exec_room(cmd, client, tx),
        // Replacing or closing the client, and accounts, are `drive`'s.
        NetCmd::Reconnect { .. } | NetCmd::SignIn { .. } | NetCmd::Logout | NetCmd::Close => {}
    }
}

/// Closes the client cleanly, or gives up waiting after [`CLOSE_TIMEOUT`].
pub(super) async fn close(client: &Client) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await;
}

/// Sends messages one after another, so they are stored in the order they were typed.
pub(super) fn spawn_sender(client: Client, tx: UnboundedSender<Action>) -> UnboundedSender<NetCmd> {
    let (send_tx, mut send_rx) = mpsc::unbounded_channel::<NetCmd>();
    tokio::spawn(async move {
        while let Some(cmd) = send_rx.recv().await {
            let (local_id, result) = match cmd {
                NetCmd::Send {
                    local_id,
                    room,
                    text,
                    emote,
                    reply_to,
                } => {
                    let mut message = OutgoingMessage::new(room, text);
                    if emote {
                        message = message.emote();
                    }
                    if let Some(root) = reply_to {
                        message = message.reply_to(root);
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
