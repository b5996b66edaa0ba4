//! Fan-out: one shared frame queued to every local member of a room, under the room lock,
//! corked or not.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Room, RoomState};
use crate::hub::queue::{Offer, cork};
use crate::protocol::Frame;

/// Whether a room with this many local members has its frames corked (`Queue::push`):
/// written to the members' sockets by the sending connection's task at the end of its
/// turn, which for a few members is cheaper than waking a write pump each. A bigger room
/// wakes its members' pumps: on a multi-core runtime they run in parallel, where writing
/// every socket in turn from one task would not, and each writes together the several
/// frames it finds (a busy room's messages, a burst of joins). Messages have one exception,
/// [`RoomState::message_corked`].
pub(super) fn corks(members: usize) -> bool {
    members <= CORKED_MEMBERS
}

/// See [`corks`].
const CORKED_MEMBERS: usize = 64;

/// A big room's message counts as quiet when the room's previous one went out, and this
/// thread last wrote a corked turn's frames, at least this long ago per local member: about
/// what a delivery at a low rate costs the server (6.8 µs of CPU in BENCHMARKS.md's "quiet
/// morning", 9–12 µs on the slower machine of "A quiet big room, corked"), so the previous
/// message's writes are done or nearly. The rooms it tells apart are far from it: a room of
/// 1,000 at 20 messages a second has 50 ms between messages against this 10 ms, one with 4
/// in flight (`fanout`) about 1.2 ms. Measured from the fan-out alone, a corked message's
/// own writes (a member each, at the end of the sender's turn) would count as quiet: in
/// `fanout` on the slower machine they took about 10 ms, so every message looked quiet and
/// was corked, its frames written a turn at a time instead of coalesced by the pumps (0.25
/// `sendto` per delivery instead of 0.071, 322,425 deliveries a second instead of 773,430:
/// "A busy big room is not quiet" in BENCHMARKS.md).
const QUIET_PER_MEMBER: Duration = Duration::from_micros(10);

impl RoomState {
    /// Whether a message fanned out now is corked: in a small room ([`corks`]), and in a
    /// quiet one on a runtime with `one_worker`. Nothing runs in parallel there, and a quiet
    /// room's pumps would each find one frame to write, as the cork does, for a wake and a
    /// poll more per member (at 20 messages a second in a room of 1,000 the server's CPU
    /// per delivery fell by 13–46 %, to the baseline's: BENCHMARKS.md).
    pub(super) fn message_corked(&self, one_worker: bool) -> bool {
        corks(self.members.len()) || (one_worker && self.quiet(Instant::now()))
    }

    /// As [`message_corked`](Self::message_corked), for a message being fanned out: a room
    /// whose quiet is measured notes when it went out.
    fn corks_message(&mut self, one_worker: bool) -> bool {
        if corks(self.members.len()) {
            return true;
        }
        if !one_worker {
            return false;
        }
        let now = Instant::now();
        let quiet = self.quiet(now);
        self.last_message = Some(now);
        quiet
    }

    /// Whether the room's last message went out, and this thread's last corked turn
    /// ended, long enough before `now` (see [`QUIET_PER_MEMBER`]).
    fn quiet(&self, now: Instant) -> bool {
        let members = u32::try_from(self.members.len()).unwrap_or(u32::MAX);
        self.last_message
            .max(cork::last_turn_end())
            .is_none_or(|last| now.duration_since(last) >= QUIET_PER_MEMBER * members)
    }
}

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
        let corked = st.corks_message(self.ctx.one_worker);
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
