//! Gap repair: reading from the store the seqs a room knows exist but never received.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use super::{Room, RoomState};
use crate::store::{HistoryQuery, MAX_PAGE};

impl RoomState {
    /// The seqs known to exist but not delivered: `(after, before)`, both exclusive. Every
    /// held-back message sits above a missing seq (the one after `delivered`), so the range
    /// runs from `delivered` to the newest seq known, `head`: one read covers every gap.
    fn missing(&self) -> Option<(u64, u64)> {
        (self.head > self.delivered).then_some((self.delivered, self.head + 1))
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

    /// Waits `gap_timeout` (a seq that is only late arrives meanwhile), then reads everything
    /// still missing up to the newest known seq from the store, page after page without
    /// waiting, until nothing is missing. It waits again only after a read that failed or
    /// moved nothing, so an outage's backlog is repaired at the store's speed, not one gap
    /// per `gap_timeout`.
    async fn repair(self: Arc<Self>) {
        tokio::time::sleep(self.ctx.gap_timeout).await;
        loop {
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
            let moved = match self.ctx.store.history(&self.name, query).await {
                Ok(page) => {
                    let mut st = self.lock();
                    let from = st.delivered;
                    let mut filled = 0;
                    for message in page.messages {
                        let seq = message.seq;
                        if seq > st.delivered && !st.pending.contains_key(&seq) {
                            filled += 1;
                        }
                        self.accept(&mut st, message);
                    }
                    self.ctx.stats.gaps_repaired.fetch_add(filled, Relaxed);
                    st.delivered > from
                }
                Err(e) => {
                    tracing::warn!(room = %self.name, error = %e, "gap repair read failed; retrying");
                    false
                }
            };
            if !moved {
                tokio::time::sleep(self.ctx.gap_timeout).await;
            }
        }
    }
}
