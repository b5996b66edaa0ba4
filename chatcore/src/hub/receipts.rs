//! Read receipts on the wire: at most one `receipt` per user per room per second on this
//! node, whatever the rate of `read` commands.
//!
//! The first move of a user's position in a room goes out at once and opens a one-second
//! window; moves within the window only raise the window's pending seq; when the window ends,
//! a pending seq goes out (and opens the next window), or the slot is forgotten. So memory
//! holds a slot only for pairs that moved within the last second, and a burst of reads costs
//! two receipts: the first and the newest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::core::Core;
use crate::protocol::Event;

/// The shortest time between two receipts of one user in one room, on one node.
pub(crate) const RECEIPT_INTERVAL: Duration = Duration::from_secs(1);

/// The open windows, by (room, user): the seq waiting for the window's end, if any.
#[derive(Debug, Default)]
pub(crate) struct Receipts {
    // A std mutex: held for one map operation, never across an `.await`.
    windows: Mutex<HashMap<(String, String), Option<u64>>>,
}

impl Receipts {
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Option<u64>>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `user` has read `room` up to `seq`: tells the room's local members now, or at the end of
/// the current window.
pub(crate) fn offer(core: &Arc<Core>, room: &str, user: &str, seq: u64) {
    let key = (room.to_owned(), user.to_owned());
    {
        let mut windows = core.receipts.lock();
        if let Some(pending) = windows.get_mut(&key) {
            *pending = Some(pending.map_or(seq, |p| p.max(seq)));
            return;
        }
        windows.insert(key.clone(), None);
    }
    send(core, room, user, seq);
    let weak = Arc::downgrade(core);
    tokio::spawn(async move { close_windows(weak, key).await });
}

/// Ends the pair's windows one after the other, sending each one's pending seq, until a
/// window ends with nothing pending.
async fn close_windows(core: Weak<Core>, key: (String, String)) {
    loop {
        tokio::time::sleep(RECEIPT_INTERVAL).await;
        let Some(core) = core.upgrade() else { return };
        let pending = {
            let mut windows = core.receipts.lock();
            match windows.get_mut(&key) {
                Some(slot @ Some(_)) => slot.take(),
                _ => {
                    windows.remove(&key);
                    return;
                }
            }
        };
        if let Some(seq) = pending {
            send(&core, &key.0, &key.1, seq);
        }
    }
}

/// One receipt to every local member of the room (its frame encoded once).
fn send(core: &Core, room: &str, user: &str, seq: u64) {
    if let Some(loaded) = core.loaded(room) {
        let event = Event::Receipt {
            room: room.to_owned(),
            user: user.to_owned(),
            seq,
        };
        loaded.broadcast_except(event, 0);
    }
}
