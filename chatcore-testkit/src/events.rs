//! Small helpers over protocol types: building commands and reading replies.

use chatcore::protocol::{Command, Data, Event, Message, MessageKind};

/// A plain text `send` command to `room`, with an optional idempotency `nonce`.
pub fn send(room: &str, text: &str, nonce: Option<String>) -> Command {
    Command::Send {
        room: room.into(),
        text: text.into(),
        nonce,
        kind: Default::default(),
        reply_to: None,
        data: None,
    }
}

/// A `send` of an application's card: `kind` (`shop.order`) with `data`, `text` as the
/// fallback.
pub fn send_card(room: &str, kind: &str, text: &str, data: Option<Data>) -> Command {
    Command::Send {
        room: room.into(),
        text: text.into(),
        nonce: None,
        kind: MessageKind::from_name(kind),
        reply_to: None,
        data,
    }
}

/// A `dm` command to `to`, without a nonce.
pub fn dm(to: &str, text: &str) -> Command {
    Command::Dm {
        to: to.into(),
        text: text.into(),
        nonce: None,
    }
}

/// Appends `m`, a message of `room`, to `got`: panics when its seq does not rise past the last
/// one (a duplicate or a message out of order).
pub(crate) fn push_rising(room: &str, got: &mut Vec<Message>, m: Message) {
    if let Some(last) = got.last() {
        assert!(
            m.seq > last.seq,
            "{room}: seq {} after seq {} (a duplicate or out of order)",
            m.seq,
            last.seq
        );
    }
    got.push(m);
}

/// The request id an event answers, if it is a reply.
pub fn reply_id(event: &Event) -> Option<u64> {
    match event {
        Event::Ack { id, .. }
        | Event::Error { id, .. }
        | Event::Joined { id, .. }
        | Event::Left { id, .. }
        | Event::Presence { id, .. }
        | Event::History { id, .. }
        | Event::Rooms { id, .. }
        | Event::Read { id, .. }
        | Event::SearchResults { id, .. }
        | Event::Users { id, .. }
        | Event::Created { id, .. }
        | Event::Members { id, .. }
        | Event::Blocked { id, .. }
        | Event::Thread { id, .. }
        | Event::RoomDeleted { id, .. }
        | Event::Pong { id } => *id,
        _ => None,
    }
}

/// The stable error code of an error event.
pub fn error_code(event: &Event) -> Option<&'static str> {
    match event {
        Event::Error { code, .. } => Some(code.as_str()),
        _ => None,
    }
}

/// The seqs of `messages`, in their order.
pub fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_carry_their_request_id() {
        assert_eq!(reply_id(&Event::Pong { id: Some(7) }), Some(7));
        assert_eq!(reply_id(&Event::Pong { id: None }), None);
    }
}
