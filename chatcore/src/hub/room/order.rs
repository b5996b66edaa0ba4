//! In-order delivery: committed messages (this node's, the bus's, a repair's) are put in seq
//! order and every message that became contiguous is fanned out; a gap is remembered for
//! the repair (`repair.rs`).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::{Room, RoomState};
use crate::protocol::{Event, Frame, Message, MessageKind};

impl Room {
    /// A message this node committed: deliver it and list the room for the next head
    /// announcement.
    pub(crate) fn on_local_commit(self: &Arc<Self>, message: Message) {
        self.on_committed(message);
        if !self.dirty.swap(true, Relaxed) {
            self.ctx
                .committed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Arc::clone(self));
        }
    }

    /// A message was committed (here or on another node): deliver it in seq order.
    pub(crate) fn on_committed(self: &Arc<Self>, message: Message) {
        let repair = {
            let mut st = self.lock();
            self.accept(&mut st, message);
            st.start_repair()
        };
        if repair {
            self.spawn_repair();
        }
    }

    /// Another node announced its newest seq: anything up to it not seen here is missing.
    pub(crate) fn on_head(self: &Arc<Self>, seq: u64) {
        let repair = {
            let mut st = self.lock();
            st.head = st.head.max(seq);
            st.start_repair()
        };
        if repair {
            self.spawn_repair();
        }
    }

    /// Puts one message in order and delivers every message that became contiguous.
    pub(super) fn accept(self: &Arc<Self>, st: &mut RoomState, message: Message) {
        if message.seq <= st.delivered {
            return; // already delivered: a duplicate from the bus or a repair
        }
        st.head = st.head.max(message.seq);
        st.pending.insert(message.seq, message);
        let started = Instant::now();
        let mut fanned = 0;
        while let Some(entry) = st.pending.first_entry() {
            if *entry.key() != st.delivered + 1 {
                break;
            }
            let message = entry.remove();
            let seq = message.seq;
            st.delivered = seq;
            if matches!(message.kind, MessageKind::Mute | MessageKind::Unmute) {
                self.mutes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .apply(&message);
            }
            let frame = Frame::new(Event::Message(message));
            self.fan_out_message(st, &frame, seq);
            fanned += 1;
        }
        if fanned > 0 {
            self.ctx
                .stats
                .fanout_nanos
                .fetch_add(started.elapsed().as_nanos() as u64, Relaxed);
            self.ctx.stats.fanouts.fetch_add(fanned, Relaxed);
        }
    }
}
