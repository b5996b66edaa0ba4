//! Rooms with authority and search as client calls: `/create`, the moderation commands,
//! `/members`, `/block` and `/search`, each in a task of its own that reports its outcome
//! (in the server's words when it refuses) as an [`Action`].

use chatcore_client::{Client, Member, Role, RoomKind};
use tokio::sync::mpsc::UnboundedSender;

use super::account::server_words;
use super::join::spawn_join;
use crate::app::command::RoomCmd;
use crate::app::{Action, NetCmd};

/// Search hits asked for per `/search`.
const SEARCH_PAGE: u32 = 50;

/// Runs `/create`, a moderation command, `/block` or `/search`; other commands are not
/// this module's and are ignored.
pub(super) fn exec_room(cmd: NetCmd, client: &Client, tx: &UnboundedSender<Action>) {
    let (c, out) = (client.clone(), tx.clone());
    match cmd {
        NetCmd::Create { room, private } => {
            let kind = if private {
                RoomKind::Private
            } else {
                RoomKind::Public
            };
            tokio::spawn(async move {
                match c.create_room(room.clone(), kind, None).await {
                    Ok(_) => spawn_join(&c, &out, room, None),
                    Err(e) => {
                        let why = server_words(&e);
                        let _ = out.send(Action::Error(format!("cannot create #{room}: {why}")));
                    }
                }
            });
        }
        NetCmd::Moderate { room, cmd } => {
            tokio::spawn(async move {
                for action in moderate(&c, room, cmd).await {
                    let _ = out.send(action);
                }
            });
        }
        NetCmd::Block(user) => {
            tokio::spawn(async move {
                let _ = out.send(match c.block(user.clone(), true).await {
                    Ok(()) => Action::Info(format!("blocked {user}: no direct messages from them")),
                    Err(e) => Action::Error(format!("cannot block {user}: {}", server_words(&e))),
                });
            });
        }
        NetCmd::Search(query) => {
            tokio::spawn(async move {
                let action = match c.search(query.clone(), None, None, Some(SEARCH_PAGE)).await {
                    Ok(page) => Action::SearchResults {
                        query,
                        hits: page.hits.into_iter().map(|h| h.message).collect(),
                    },
                    Err(e) => Action::Error(format!("search: {}", server_words(&e))),
                };
                let _ = out.send(action);
            });
        }
        _ => {}
    }
}

/// One moderation command; what to tell the app.
async fn moderate(client: &Client, room: String, cmd: RoomCmd) -> Vec<Action> {
    let done = match cmd {
        RoomCmd::Members => {
            return match client.members(room.clone()).await {
                Ok(members) => vec![
                    Action::Info(format!("members of #{room}: {}", listing(&members))),
                    Action::Members {
                        room,
                        members: members.into_iter().map(|m| m.user).collect(),
                    },
                ],
                Err(e) => vec![Action::Error(format!("/members: {}", server_words(&e)))],
            };
        }
        RoomCmd::Invite(user) => client
            .invite(room.clone(), user.clone())
            .await
            .map(|_| format!("invited {user} to #{room}")),
        RoomCmd::Kick { user, reason } => client
            .kick(room.clone(), user.clone(), reason)
            .await
            .map(|_| format!("kicked {user} from #{room}")),
        RoomCmd::Ban {
            user,
            duration,
            reason,
        } => client
            .ban(room.clone(), user.clone(), reason, duration)
            .await
            .map(|_| format!("banned {user} from #{room}")),
        RoomCmd::Unban(user) => client
            .unban(room.clone(), user.clone())
            .await
            .map(|_| format!("unbanned {user}")),
        RoomCmd::Mute { user, duration } => client
            .mute(room.clone(), user.clone(), None, duration)
            .await
            .map(|_| format!("muted {user} in #{room}")),
        RoomCmd::Unmute(user) => client
            .unmute(room.clone(), user.clone())
            .await
            .map(|_| format!("unmuted {user}")),
        RoomCmd::Topic(topic) => client
            .set_topic(room.clone(), topic)
            .await
            .map(|_| format!("topic of #{room} set")),
        RoomCmd::Role { user, role } => client
            .set_role(room.clone(), user.clone(), role)
            .await
            .map(|_| format!("{user} is now {} of #{room}", role.as_str())),
    };
    vec![match done {
        Ok(text) => Action::Info(text),
        Err(e) => Action::Error(server_words(&e)),
    }]
}

/// `ann (owner), bob (moderator), cy`.
fn listing(members: &[Member]) -> String {
    members
        .iter()
        .map(|m| match m.role {
            Role::Member => m.user.clone(),
            role => format!("{} ({})", m.user, role.as_str()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
