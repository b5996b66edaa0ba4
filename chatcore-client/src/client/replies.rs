//! Replies as typed results: a `joined` as [`Joined`], an `ack` as [`Ack`], and any other
//! reply where one was expected as a protocol error.

use chatcore::protocol::Event;

use crate::error::{Error, Result};
use crate::types::{Ack, Joined};

pub(super) fn joined(reply: Event) -> Result<Joined> {
    match reply {
        Event::Joined {
            room,
            kind,
            last_seq,
            online,
            history,
            current_to,
            ..
        } => Ok(Joined {
            room,
            kind,
            last_seq,
            online,
            history,
            current_to: current_to.unwrap_or(0),
        }),
        other => Err(unexpected(&other)),
    }
}

pub(super) fn ack(reply: Event, nonce: String) -> Result<Ack> {
    match reply {
        Event::Ack {
            room,
            seq,
            msg_id,
            ts,
            duplicate,
            ..
        } => Ok(Ack {
            room,
            seq,
            msg_id,
            ts,
            duplicate,
            nonce,
        }),
        other => Err(unexpected(&other)),
    }
}

pub(super) fn unexpected(event: &Event) -> Error {
    Error::Protocol(format!("unexpected reply {event:?}"))
}
