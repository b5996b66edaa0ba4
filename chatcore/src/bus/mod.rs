//! The `Bus` trait: fan-out of room traffic between nodes.
//!
//! A node publishes every committed message of a room once (never per recipient); every other
//! node with local members in that room hands it to its hub through [`BusHandler`]. A bus may
//! drop or reorder (Redis pub/sub is at-most-once): each [`BusEvent::Message`] carries the
//! room's `seq`, and the hub repairs gaps from the store, so the bus only makes delivery fast,
//! never correct.
//!
//! Each event travels on a [`Channel`]: a room's channel reaches the nodes subscribed to that
//! room; the node-wide channel ([`Channel::AllNodes`], used by [`BusEvent::Invite`]) reaches
//! every started node without any subscription.

mod backend;
mod local;

pub use backend::{Bus, BusEvent, BusHandler, Channel, Envelope};
pub use local::{LocalBus, LocalNetwork};
