//! Gap repair: reading from the store the seqs a room knows exist but never received.

use std::sync::Arc;

use super::{Room, RoomState};
use crate::store::{HistoryQuery, MAX_PAGE};

impl RoomState {
    /// The seqs known to exist but not delivered: `(after, before)`, both exclusive.
    fn missing(&self) -> Option<(u64, u64)> {
        let before = match self.pending.first_key_value() {
            Some((first, _)) => *first,
            None => self.head + 1,
        };
        (before > self.delivered + 1).then_some((self.delivered, before))
    }

    /// Marks a repair as scheduled when something is missing and none is; `true` if the
    /// caller must spawn it.
    pub(super) fn start_repair(&mut self) -> bool {
        let start = self.missing().is_some() && !self.repairing;
        if start {
            self.repairing = true;
        }
        start
    }
}

impl Room {
    pub(super) fn spawn_repair(self: &Arc<Self>) {
        let room = Arc::clone(self);
        tokio::spawn(async move { room.repair().await });
    }

    /// Waits `gap_timeout`, then reads whatever is still missing from the store, until the
    /// gap is closed.
    async fn repair(self: Arc<Self>) {
        loop {
            tokio::time::sleep(self.ctx.gap_timeout).await;
            let (after, before) = {
                let mut st = self.lock();
                match st.missing() {
                    Some(range) => range,
                    None => {
                        st.repairing = false;
                        return;
                    }
                }
            };
            let query = HistoryQuery {
                after: Some(after),
                before: Some(before),
                limit: MAX_PAGE,
            };
            match self.ctx.store.history(&self.name, query).await {
                Ok(page) => {
                    let mut st = self.lock();
                    self.ctx.stats.gaps_repaired.fetch_add(
                        page.messages.len() as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    for message in page.messages {
                        self.accept(&mut st, message);
                    }
                }
                Err(e) => {
                    tracing::warn!(room = %self.name, error = %e, "gap repair read failed; retrying")
                }
            }
        }
    }
}
