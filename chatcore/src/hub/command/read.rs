//! `read`: move the caller's read position, sync it to their other sessions at once (on every
//! node), and show it to the room's members as a receipt at the next tick.
//!
//! A seq past the room's newest is clamped to the newest (a client that raced a new message
//! still marks what exists as read); a seq at or below the known position changes nothing
//! and is answered with that position. The answer comes from memory: the session's known
//! position, and a move is written behind (`hub/reads.rs`). A `read` without a request id is
//! fire-and-forget, like `typing`: only a failure is answered, so the once-a-second read of
//! every client in a room costs no frame back.

use std::sync::Arc;

use super::query::readable;
use crate::Result;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::reads::{READ_FLUSH, RECEIPT_SLOTS, Receipts};
use crate::hub::session::state::SessionState;
use crate::protocol::{Event, Receipt, RequestId};

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
    let known = match s.position(&room) {
        Some(known) => known,
        None => {
            // A move of another session that is not stored yet counts too.
            let unwritten = core.reads.unwritten(&room, user).unwrap_or(0);
            let stored = core.store.read_position(&room, user).await?;
            s.raise_position(&room, stored.max(unwritten))
        }
    };
    if seq <= known {
        answer(s, id, &room, known);
        return Ok(());
    }
    s.raise_position(&room, seq);
    core.reads.write_behind(&room, user, seq);
    answer(s, id, &room, seq);
    core.bus.publish(BusEvent::Read {
        room: room.clone(),
        user: user.to_owned(),
        seq,
    });
    moved_here(core, &room, user, seq, Some(s.id()));
    Ok(())
}

/// Answers a `read` that carried request `id` with the position now known; an id-less one
/// is not answered.
fn answer(s: &SessionState, id: Option<RequestId>, room: &str, seq: u64) {
    if let Some(id) = id {
        s.queue.send(Event::Read {
            id: Some(id),
            room: room.to_owned(),
            seq,
        });
    }
}

/// `user`'s position in `room` moved to `seq` (here or on another node): tells their sessions
/// on this node but `except` (which also learn the position), and offers the room's members
/// here a receipt.
pub(crate) fn moved_here(core: &Arc<Core>, room: &str, user: &str, seq: u64, except: Option<u64>) {
    let event = Event::Read {
        id: None,
        room: room.to_owned(),
        seq,
    };
    for session in core.sessions_of(user) {
        if Some(session.id()) != except {
            session.raise_position(room, seq);
            session.queue.send(event.clone());
        }
    }
    core.reads.offer_receipt(room, user, seq);
}

/// Every [`READ_FLUSH`]: writes the moved positions, and (on a task of its own, so a slow
/// store never holds receipts up) sends the receipts of one slot of rooms, each room's once a
/// second; until the hub is dropped.
pub(crate) fn spawn_read_timers(core: &Arc<Core>) {
    let weak = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut tick = every(READ_FLUSH);
        loop {
            tick.tick().await;
            let Some(core) = weak.upgrade() else { return };
            core.reads.flush(&*core.store).await;
        }
    });
    let weak = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut tick = every(READ_FLUSH);
        // Per slot, the rooms whose receipts went out at its last tick: what may still wait.
        let mut sent: Vec<Vec<String>> = vec![Vec::new(); RECEIPT_SLOTS];
        for slot in 0.. {
            tick.tick().await;
            let Some(core) = weak.upgrade() else { return };
            let i = slot % RECEIPT_SLOTS;
            let waiting = std::mem::take(&mut sent[i]);
            sent[i] = send_receipts(&core, core.reads.take_receipts(slot), waiting);
        }
    });
}

/// A timer that ticks every `period`, later rather than in bursts when it falls behind.
fn every(period: std::time::Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Each room's receipts, as one frame to every local member of the room (encoded once), so
/// a member gets one frame per room per second however many members moved. The frame rides
/// along with the next frame the member is sent anyway (`Room::broadcast_lazy`): in a busy
/// room receipts cost no write of their own. What still waits from the room's last tick
/// (`waiting`) goes out now, so a receipt waits at most one more second. Returns the rooms
/// sent to.
fn send_receipts(core: &Core, due: Receipts, waiting: Vec<String>) -> Vec<String> {
    for room in waiting.iter().filter(|r| !due.contains_key(*r)) {
        if let Some(loaded) = core.loaded(room) {
            loaded.wake_parked();
        }
    }
    let mut sent = Vec::with_capacity(due.len());
    for (room, users) in due {
        if let Some(loaded) = core.loaded(&room) {
            let mut reads: Vec<Receipt> = users
                .into_iter()
                .map(|(user, seq)| Receipt { user, seq })
                .collect();
            reads.sort_unstable_by(|a, b| a.user.cmp(&b.user));
            loaded.broadcast_lazy(Event::Receipts {
                room: room.clone(),
                reads,
            });
            sent.push(room);
        }
    }
    sent
}
