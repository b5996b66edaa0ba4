//! Joining rooms, and what is asked of the server after a join or a reconnect: the
//! members (for Tab completion), the unread and mention badges, who is online.

use chatcore_client::Client;
use tokio::sync::mpsc::UnboundedSender;

use super::events::joined;
use crate::app::Action;

/// Joins `room` fresh, or after `seq`; a room that cannot be joined is dropped from the view.
pub(super) fn spawn_join(
    client: &Client,
    tx: &UnboundedSender<Action>,
    room: String,
    seq: Option<u64>,
) {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let result = match seq {
            Some(seq) => client.join_after(room.clone(), seq).await,
            None => client.join(room.clone()).await,
        };
        match result {
            Ok(j) => {
                spawn_members(&client, &tx, j.room.clone());
                spawn_badges(&client, &tx, j.room.clone());
                let _ = tx.send(joined(j));
            }
            Err(e) => {
                let _ = tx.send(Action::Left(room.clone()));
                let _ = tx.send(Action::Error(format!("cannot join #{room}: {e}")));
            }
        }
    });
}

/// Asks who is online in `room` (presence is not replayed after a reconnect).
pub(super) fn spawn_who(client: &Client, tx: &UnboundedSender<Action>, room: String) {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        if let Ok(online) = client.who(room.clone()).await {
            let _ = tx.send(Action::Presence { room, online });
        }
    });
}

/// Asks for the members of `room` after a join, for Tab completion (quietly: a room whose
/// members cannot be listed completes no names).
pub(super) fn spawn_members(client: &Client, tx: &UnboundedSender<Action>, room: String) {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        if let Ok(members) = client.members(room.clone()).await {
            let members = members.into_iter().map(|m| m.user).collect();
            let _ = tx.send(Action::Members { room, members });
        }
    });
}

/// Asks for the server's unread and mention badges of `room` (counted from the user's read
/// position), after a join: messages that arrived while this client was away count too.
pub(super) fn spawn_badges(client: &Client, tx: &UnboundedSender<Action>, room: String) {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let Ok(rooms) = client.lookup_rooms(room.clone()).await else {
            return;
        };
        if let Some(r) = rooms.into_iter().find(|r| r.name == room) {
            let _ = tx.send(Action::Badges {
                room,
                unread: usize::try_from(r.unread).unwrap_or(usize::MAX),
                mentions: usize::try_from(r.mentions).unwrap_or(usize::MAX),
            });
        }
    });
}
