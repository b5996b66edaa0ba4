//! `typing`: an ephemeral indicator, never stored.

use crate::Result;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::Event;

/// Tells the room's other members on this node and the other nodes that the user is (or
/// stopped) typing.
pub(crate) fn typing(core: &Core, s: &SessionState, room: &str, on: bool) -> Result<()> {
    let room = s.room(room)?;
    let event = Event::Typing {
        room: room.name.clone(),
        user: s.user().to_owned(),
        on,
    };
    room.broadcast_except(event, s.id());
    core.bus.publish(BusEvent::Typing {
        room: room.name.clone(),
        user: s.user().to_owned(),
        on,
    });
    Ok(())
}
