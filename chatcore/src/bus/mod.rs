//! The `Bus` trait: fan-out of room traffic between nodes.
//!
//! A node publishes every committed message of a room once (never per recipient); every other
//! node with local members in that room hands it to its hub through [`BusHandler`]. A bus may
//! drop or reorder (Redis pub/sub is at-most-once): each [`BusEvent::Message`] carries the
//! room's `seq`, and the hub repairs gaps from the store, so the bus only makes delivery fast,
//! never correct.

mod backend;
mod local;

pub use backend::{Bus, BusEvent, BusHandler, Envelope, INVITES};
pub use local::{LocalBus, LocalNetwork};
