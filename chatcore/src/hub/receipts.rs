//! Read receipts on the wire: at most one `receipt` per user per room per second on this
//! node, whatever the rate of `read` commands.
//!
//! The first move of a user's position in a room goes out at once and opens a one-second
//! window; moves within the window only raise the window's pending seq; when the window ends,
//! a pending seq goes out (and opens the next window), or the slot is forgotten. So memory
//! holds a slot only for pairs that moved within the last second, and a burst of reads costs
//! two receipts: the first and the newest.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

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

    /// A move of `key`'s position to `seq`: `true` when no window was open (send it now; a
    /// window is open from now on), `false` when it waits for the open window's end.
    pub(crate) fn open_or_raise(&self, key: &(String, String), seq: u64) -> bool {
        let mut windows = self.lock();
        if let Some(pending) = windows.get_mut(key) {
            *pending = Some(pending.map_or(seq, |p| p.max(seq)));
            return false;
        }
        windows.insert(key.clone(), None);
        true
    }

    /// The end of `key`'s window: the seq to send now (a new window opens), or `None` when
    /// nothing moved in the window (it is closed and forgotten).
    pub(crate) fn end_window(&self, key: &(String, String)) -> Option<u64> {
        let mut windows = self.lock();
        match windows.get_mut(key) {
            Some(slot @ Some(_)) => slot.take(),
            _ => {
                windows.remove(key);
                None
            }
        }
    }
}
