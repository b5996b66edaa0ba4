//! Fan-out: one shared frame queued to every local member of a room, under the room lock.

use std::sync::Arc;

use super::{Room, RoomState};
use crate::hub::queue::Offer;
use crate::protocol::Frame;

/// Rooms with at most this many local members have their frames corked (`Queue::push`):
/// written to the members' sockets by the sending connection's task at the end of its turn,
/// which for a few members is cheaper than waking a write pump each. A bigger room wakes its
/// members' pumps, which run in parallel on a multi-core runtime, where writing every
/// socket in turn from one task would not.
pub(super) fn corks(members: usize) -> bool {
    members <= CORKED_MEMBERS
}

/// See [`corks`]: past this many local members a room's pumps write in parallel.
const CORKED_MEMBERS: usize = 64;

impl Room {
    /// Queues one shared message frame to every local member that is not behind. A member
    /// whose queue (or joining buffer) cannot take it falls behind instead of being cut off:
    /// it is caught up from the store as it reads (`catchup.rs`), and only a member that stops
    /// reading altogether is closed as a slow consumer.
    pub(super) fn fan_out_message(
        self: &Arc<Self>,
        st: &mut RoomState,
        frame: &Arc<Frame>,
        seq: u64,
    ) {
        let capacity = self.ctx.queue_capacity;
        let corked = corks(st.members.len());
        for (id, member) in st.members.iter_mut() {
            if member.behind.is_some() {
                continue;
            }
            match &mut member.joining {
                Some(buffer) if buffer.len() < capacity => buffer.push(Arc::clone(frame)),
                // Caught up once its `joined` frame is queued (`activate`).
                Some(_) => member.behind = Some(seq - 1),
                None => {
                    if member.queue.offer(Arc::clone(frame), corked) == Offer::Full {
                        member.behind = Some(seq - 1);
                        self.spawn_catch_up(*id);
                    }
                }
            }
        }
    }

    /// Queues one shared presence frame (`user_joined`/`user_left`) to every local member.
    /// Joining members buffer it, bounded like the queue itself; like a full queue, a full
    /// buffer drops it (presence is ephemeral, `who` tells the truth).
    pub(super) fn fan_out(&self, st: &mut RoomState, frame: &Arc<Frame>) {
        let corked = corks(st.members.len());
        for member in st.members.values_mut() {
            match &mut member.joining {
                None => {
                    member.queue.push_with(Arc::clone(frame), corked);
                }
                Some(buffer) if buffer.len() < self.ctx.queue_capacity => {
                    buffer.push(Arc::clone(frame))
                }
                Some(_) => {}
            }
        }
    }
}
