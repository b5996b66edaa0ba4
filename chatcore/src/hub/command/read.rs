//! `read`: move the caller's read position, sync it to their other sessions at once (on every
//! node), and show it to the room's members as a coalesced receipt.
//!
//! A seq past the room's newest is clamped to the newest (a client that raced a message
//! still marks what exists as read); a seq at or below the stored position changes nothing
//! and is answered with the stored position.

use std::sync::Arc;

use super::query::readable;
use crate::Result;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::receipts;
use crate::hub::session::state::SessionState;
use crate::protocol::{Event, RequestId};

/// `read {room, seq}`.
pub(crate) async fn read(
    core: &Arc<Core>,
    s: &SessionState,
    id: Option<RequestId>,
    room: String,
    seq: u64,
) -> Result<()> {
    let user = s.user();
    let record = readable(core, &room, Some(user)).await?;
    let seq = seq.min(record.last_seq);
    let before = core.store.read_position(&room, user).await?;
    if seq <= before {
        s.queue.send(Event::Read {
            id,
            room,
            seq: before,
        });
        return Ok(());
    }
    core.store.set_read(&room, user, seq).await?;
    s.queue.send(Event::Read {
        id,
        room: room.clone(),
        seq,
    });
    core.bus.publish(BusEvent::Read {
        room: room.clone(),
        user: user.to_owned(),
        seq,
    });
    moved_here(core, &room, user, seq, Some(s.id()));
    Ok(())
}

/// `user`'s position in `room` moved to `seq` (here or on another node): tells their sessions
/// on this node but `except`, and the room's members here through the receipt window.
pub(crate) fn moved_here(core: &Arc<Core>, room: &str, user: &str, seq: u64, except: Option<u64>) {
    let event = Event::Read {
        id: None,
        room: room.to_owned(),
        seq,
    };
    for session in core.sessions_of(user) {
        if Some(session.id()) != except {
            session.queue.send(event.clone());
        }
    }
    receipts::offer(core, room, user, seq);
}
