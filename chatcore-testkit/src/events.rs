//! Small helpers over protocol types: building commands and reading replies.

use chatcore::protocol::{Command, Event, Message};

/// A plain text `send` command to `room`, with an optional idempotency `nonce`.
pub fn send(room: &str, text: &str, nonce: Option<String>) -> Command {
    Command::Send {
        room: room.into(),
        text: text.into(),
        nonce,
        kind: Default::default(),
        reply_to: None,
    }
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
