//! What the app sees of the client's events.

use chatcore_client::{ClientEvent, ConnectionState, DisconnectReason, Error, Joined};

use crate::app::{Action, ConnStatus};

/// The notice under the status line when the server's certificate was refused: what to do.
const CA_FILE_HINT: &str = "start chat-tui with --ca-file PATH (or CHATCORE_CA_FILE) \
naming the CA that signed the server's certificate";

/// What the app sees of a join, whether it answered the app's `join` or the client rejoined.
pub(crate) fn joined(j: Joined) -> Action {
    Action::Joined {
        room: j.room,
        kind: j.kind,
        last_seq: j.last_seq,
        online: j.online,
        history: j.history,
        current_to: j.current_to,
    }
}

/// What the app sees of one client event.
pub fn actions(event: ClientEvent) -> Vec<Action> {
    let action = match event {
        ClientEvent::Message(m) => Action::Message(m),
        ClientEvent::Joined(j) => joined(j),
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
        ClientEvent::Left { room } => Action::Removed(room),
        ClientEvent::Read { room, seq } => Action::Read { room, seq },
        ClientEvent::Receipts { room, reads } => Action::Receipts { room, reads },
        ClientEvent::Invited { room, by } => Action::Invited { room, by },
        ClientEvent::RoomDeleted { room, by } => Action::RoomDeleted { room, by },
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
