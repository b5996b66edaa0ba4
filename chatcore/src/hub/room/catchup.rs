//! Catching up a member that fell behind: its queue could not take a burst (the backlog a
//! gap repair releases after a bus outage, say), so the rest of what it is owed is read from
//! the store at the pace its queue drains, then it goes live again. No message is held in
//! memory for it meanwhile, and it is never disconnected for a burst it can absorb; only a
//! member whose queue takes nothing for `slow_consumer_after` is closed as a slow consumer.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Room;
use crate::hub::queue::{Offer, Queue};
use crate::protocol::{Event, Frame, Message};
use crate::store::HistoryQuery;

/// How often a behind member's queue is looked at while it is too full to take a page.
const POLL: Duration = Duration::from_millis(20);

/// Where a behind member stands, read under the room lock.
struct Standing {
    queue: Arc<Queue>,
    /// Every message up to here was queued to it.
    given: u64,
    /// The room's delivered seq: what it is owed up to.
    owed: u64,
}

impl Room {
    pub(super) fn spawn_catch_up(self: &Arc<Self>, session_id: u64) {
        let room = Arc::clone(self);
        tokio::spawn(async move { room.catch_up(session_id).await });
    }

    /// The member's standing, or `None` when it left, closed, or is live again.
    fn standing(&self, session_id: u64) -> Option<Standing> {
        let st = self.lock();
        let member = st.members.get(&session_id)?;
        let given = member.behind?;
        Some(Standing {
            queue: Arc::clone(&member.queue),
            given,
            owed: st.delivered,
        })
    }

    /// Feeds a behind member from the store until it is live again, it leaves, or it stalls.
    async fn catch_up(self: Arc<Self>, session_id: u64) {
        let stall = self.ctx.slow_consumer_after;
        let mut last_taken = None;
        let mut progress_at = Instant::now();
        while let Some(standing) = self.standing(session_id) {
            let queue = &standing.queue;
            if queue.close_reason().is_some() {
                return;
            }
            let taken = queue.taken();
            if last_taken != Some(taken) {
                last_taken = Some(taken);
                progress_at = Instant::now();
            }
            // Wait for a quarter of the queue, so each store read moves a useful page.
            let free = queue.free();
            if free < queue.capacity() / 4 {
                if progress_at.elapsed() >= stall {
                    queue.close_slow();
                    return;
                }
                tokio::time::sleep(POLL).await;
                continue;
            }
            let page = if standing.owed > standing.given {
                let query = HistoryQuery {
                    after: Some(standing.given),
                    before: Some(standing.owed + 1),
                    limit: u32::try_from(free).unwrap_or(u32::MAX),
                };
                match self.ctx.store.history(&self.name, query).await {
                    Ok(page) => page.messages,
                    Err(e) => {
                        tracing::warn!(room = %self.name, error = %e, "catch-up read failed; retrying");
                        tokio::time::sleep(self.ctx.gap_timeout).await;
                        continue;
                    }
                }
            } else {
                Vec::new()
            };
            let moved = {
                let mut st = self.lock();
                let delivered = st.delivered;
                let Some(member) = st.members.get_mut(&session_id) else {
                    return;
                };
                let Some(before) = member.behind else {
                    return;
                };
                let given = feed(&member.queue, before, delivered, page);
                // Under the room lock: the next live message is fanned out to it directly,
                // so the switch has neither gap nor duplicate.
                member.behind = (given < delivered).then_some(given);
                given > before
            };
            if !moved {
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// Queues the page's messages that follow `given` without a gap and are not past
/// `delivered`, until the queue is full; returns the new `given`.
fn feed(queue: &Arc<Queue>, mut given: u64, delivered: u64, page: Vec<Message>) -> u64 {
    for message in page {
        let seq = message.seq;
        if seq != given + 1 || seq > delivered {
            break;
        }
        if queue.offer(Frame::new(Event::Message(message)), false) != Offer::Queued {
            break;
        }
        given = seq;
    }
    given
}
