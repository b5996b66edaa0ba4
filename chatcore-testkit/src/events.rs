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

/// What a sender gets back for a run of sends in a room of its own: the acks and its own
/// copies, gathered as they arrive ([`SentBack::take`]), then checked whole and in order.
#[derive(Debug, Default)]
pub struct SentBack {
    acks: Vec<u64>,
    copies: Vec<Message>,
}

impl SentBack {
    /// Nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `event` if it is an ack or a message; anything else is skipped.
    pub fn take(&mut self, event: Event) {
        match event {
            Event::Ack { id, .. } => self.acks.push(id.expect("an ack carries its request id")),
            Event::Message(m) => self.copies.push(m),
            _ => {}
        }
    }

    /// Whether the acks and copies of `sends` sends are all in.
    pub fn has(&self, sends: u64) -> bool {
        self.acks.len() as u64 >= sends && self.copies.len() as u64 >= sends
    }

    /// Asserts that send `i` (of request id `first_id + i`, text `body(i)`) was acked in
    /// order and came back whole as seq `i + 1`.
    pub fn assert_in_order(&self, sends: u64, first_id: u64, body: impl Fn(u64) -> String) {
        let expected: Vec<u64> = (0..sends).map(|i| first_id + i).collect();
        assert_eq!(self.acks, expected, "acks in order");
        assert_eq!(self.copies.len() as u64, sends, "one copy per send");
        for (i, m) in (0..sends).zip(&self.copies) {
            assert_eq!(m.seq, i + 1);
            assert!(m.text == body(i), "copy {i} whole");
        }
    }
}
