//! Frames that can wait: a room's receipts ride along with the next frame each member is sent
//! (`Queue::push_lazy`), so they cost no write of their own in a busy room, and the room's
//! next receipt tick wakes what is still waiting.

use super::Room;
use crate::protocol::{Event, Frame};

impl Room {
    /// Queues `event` for every member (not those still joining) as a lazy frame: it goes out
    /// with the next frame the member is sent, or at the latest with the next lazy frame or
    /// [`wake_parked`](Self::wake_parked).
    pub(crate) fn broadcast_lazy(&self, event: Event) {
        let frame = Frame::new(event);
        let st = self.lock();
        for m in st.members.values() {
            if m.joining.is_none() {
                m.queue.push_lazy(frame.clone());
            }
        }
    }

    /// Sends every member's lazy frames that still wait.
    pub(crate) fn wake_parked(&self) {
        let st = self.lock();
        for m in st.members.values() {
            m.queue.wake_parked();
        }
    }
}
