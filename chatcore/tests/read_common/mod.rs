//! Helpers shared by the `read_*` tests only: the `read` command.

use chatcore::protocol::Command;

pub(crate) fn read(room: &str, seq: u64) -> Command {
    Command::Read {
        room: room.into(),
        seq,
    }
}
