//! `read`: move the caller's read position, sync it to their other sessions at once (on every
//! node), and show it to the room's members as a coalesced receipt.
//!
//! A seq past the room's newest is clamped to the newest (a client that raced a message
//! still marks what exists as read); a seq at or below the stored position changes nothing
//! and is answered with the stored position.

use std::sync::{Arc, Weak};

use super::query::readable;
use crate::Result;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::receipts::RECEIPT_INTERVAL;
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
    // A joined room is readable, and its head is the newest seq this node knows: no store
    // look-up on the path every client takes once a second.
    let joined = s.joined().get(&room).map(|r| r.head());
    let newest = match joined {
        Some(head) => head,
        None => readable(core, &room, Some(user)).await?.last_seq,
    };
    let seq = seq.min(newest);
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
    offer_receipt(core, room, user, seq);
}

/// `user` has read `room` up to `seq`: tells the room's local members now, or at the end of
/// the current window (`hub/receipts.rs`).
fn offer_receipt(core: &Arc<Core>, room: &str, user: &str, seq: u64) {
    let key = (room.to_owned(), user.to_owned());
    if !core.receipts.open_or_raise(&key, seq) {
        return;
    }
    send_receipt(core, room, user, seq);
    let weak = Arc::downgrade(core);
    tokio::spawn(async move { close_windows(weak, key).await });
}

/// Ends the pair's windows one after the other, sending each one's pending seq, until a
/// window ends with nothing pending.
async fn close_windows(core: Weak<Core>, key: (String, String)) {
    loop {
        tokio::time::sleep(RECEIPT_INTERVAL).await;
        let Some(core) = core.upgrade() else { return };
        let Some(seq) = core.receipts.end_window(&key) else {
            return;
        };
        send_receipt(&core, &key.0, &key.1, seq);
    }
}

/// One receipt to every local member of the room (its frame encoded once).
fn send_receipt(core: &Core, room: &str, user: &str, seq: u64) {
    if let Some(loaded) = core.loaded(room) {
        let event = Event::Receipt {
            room: room.to_owned(),
            user: user.to_owned(),
            seq,
        };
        loaded.broadcast_except(event, 0);
    }
}
