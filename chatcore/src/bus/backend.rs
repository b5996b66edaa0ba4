//! Bus events and the traits a bus backend implements.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::protocol::Message;

/// What travels between nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BusEvent {
    /// A committed message.
    Message(Message),
    /// A typing indicator (ephemeral).
    Typing {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// `true` while typing.
        on: bool,
    },
    /// The newest seq the publishing node committed in a room. Sent shortly after a burst of
    /// commits, so a node that lost the burst's last messages on the bus notices and reads
    /// them from the store.
    Head {
        /// Room name.
        room: String,
        /// Newest committed seq.
        seq: u64,
    },
    /// A user's presence on the publishing node changed.
    Presence {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// `true` when the user came online on that node, `false` when gone.
        online: bool,
        /// The publishing node's presence version: increases with every presence event it
        /// sends, so a late diff never undoes a newer one.
        version: u64,
    },
    /// The complete list of a room's users online on the publishing node, sent every few
    /// seconds as a lease: when a node stops renewing (it died), the others drop its users
    /// once `lease_ms` has passed and tell their members they left.
    Roster {
        /// Room name.
        room: String,
        /// Users online on the publishing node, sorted.
        users: Vec<String>,
        /// The publishing node's presence version (as in `Presence`).
        version: u64,
        /// How long this roster stays valid without renewal, in milliseconds.
        lease_ms: u64,
    },
    /// Someone sent `user` a direct message in the `dm:` room `room`. It travels on
    /// [`Channel::AllNodes`], so it reaches every node whatever rooms it subscribed, and the
    /// node where `user` is connected joins their sessions to the conversation, as the
    /// sender's node does for sessions of its own.
    Invite {
        /// The recipient.
        user: String,
        /// The direct room.
        room: String,
    },
    /// The host ended `user`'s membership of `room` ([`Hub::remove_member`]): every node
    /// takes the user's sessions there out of the room (each gets `left`). On
    /// [`Channel::AllNodes`], like [`Invite`](BusEvent::Invite).
    ///
    /// [`Hub::remove_member`]: crate::Hub::remove_member
    Removed {
        /// The room.
        room: String,
        /// The user.
        user: String,
    },
    /// `by` deleted `room` (`delete_room`): every node sends `room_deleted` and `left` to
    /// its sessions in the room and forgets the loaded room. On [`Channel::AllNodes`], like
    /// [`Invite`](BusEvent::Invite).
    RoomDeleted {
        /// The room.
        room: String,
        /// Who deleted it.
        by: String,
    },
    /// The host closed `user`'s sessions ([`Hub::disconnect_user`]): every node closes the
    /// user's sessions there. On [`Channel::AllNodes`].
    ///
    /// [`Hub::disconnect_user`]: crate::Hub::disconnect_user
    Disconnect {
        /// The user.
        user: String,
    },
    /// An account was signed out ([`Hub::revoke`]): every node closes the account's live
    /// sockets that `which` picks, with close code 4403. On [`Channel::AllNodes`].
    ///
    /// [`Hub::revoke`]: crate::Hub::revoke
    Revoke {
        /// The account's [`name_key`](crate::accounts::name_key).
        account: String,
        /// Which of its sockets.
        which: crate::accounts::Revoked,
    },
    /// `user` was mentioned in a committed message: every node sends the user's sessions
    /// there a `mention` event. On [`Channel::AllNodes`], since the user's sessions may not
    /// have joined the room.
    Mention {
        /// The mentioned user.
        user: String,
        /// The room.
        room: String,
        /// The message's seq.
        seq: u64,
        /// Who wrote it.
        sender: String,
        /// The start of its text.
        text: String,
    },
    /// `user` was invited to the private room `room` by `by`: every node sends the user's
    /// sessions there an `invited` event. On [`Channel::AllNodes`], since the user has not
    /// joined the room.
    Invitation {
        /// The invited user.
        user: String,
        /// The room.
        room: String,
        /// Who invited.
        by: String,
    },
    /// `user`'s read position in `room` moved to `seq`: every node tells the user's sessions
    /// there, and the room's members there (as a coalesced receipt). On
    /// [`Channel::AllNodes`], since the user's other sessions may not have joined the room.
    Read {
        /// The room.
        room: String,
        /// Whose position.
        user: String,
        /// The stored position.
        seq: u64,
    },
}

/// Where a [`BusEvent`] travels, and so which nodes hear it.
///
/// Deliberately not `#[non_exhaustive]`: a bus backend must route every kind of channel on
/// purpose, so a new one is a compile error in each backend rather than a silent misroute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel<'a> {
    /// A room's channel: delivered to the nodes that [subscribed](Bus::subscribe) to the
    /// room.
    Room(&'a str),
    /// The node-wide channel: delivered to every other started node, whatever rooms it
    /// subscribed to. For events about a room that a node may not serve yet (a direct
    /// message to one of its users).
    AllNodes,
}

impl BusEvent {
    /// The channel this event travels on.
    pub fn channel(&self) -> Channel<'_> {
        match self {
            BusEvent::Message(m) => Channel::Room(&m.room),
            BusEvent::Typing { room, .. }
            | BusEvent::Head { room, .. }
            | BusEvent::Presence { room, .. }
            | BusEvent::Roster { room, .. } => Channel::Room(room),
            BusEvent::Invite { .. }
            | BusEvent::Removed { .. }
            | BusEvent::RoomDeleted { .. }
            | BusEvent::Disconnect { .. }
            | BusEvent::Revoke { .. }
            | BusEvent::Mention { .. }
            | BusEvent::Invitation { .. }
            | BusEvent::Read { .. } => Channel::AllNodes,
        }
    }

    /// The room whose channel carries this event; `None` for node-wide events (an
    /// [`Invite`](BusEvent::Invite) names a room, but travels to every node).
    pub fn room(&self) -> Option<&str> {
        match self.channel() {
            Channel::Room(room) => Some(room),
            Channel::AllNodes => None,
        }
    }
}

/// An event as received from the bus, with the node that published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The publishing node's id.
    pub origin: String,
    /// The event.
    pub event: BusEvent,
}

/// Receives events from other nodes. Implemented by the hub, so a bus crate never depends on
/// it; called from the bus's own task, so it must not block.
pub trait BusHandler: Send + Sync + 'static {
    /// An event of a subscribed room, or a node-wide event, published by another node.
    fn on_event(&self, envelope: Envelope);

    /// The bus may have lost events (it reconnected, or its receive buffer overflowed): the
    /// hub then checks every room with local members against the store.
    fn on_gap_suspected(&self) {}
}

/// Cross-node fan-out. One instance per node.
///
/// Every event travels on a [`Channel`] ([`BusEvent::channel`]): a room's events reach the
/// nodes that subscribed to the room; node-wide events ([`Channel::AllNodes`]) reach every
/// started node without any `subscribe` call, from [`start`](Bus::start) until
/// [`close`](Bus::close). Neither kind is delivered back to its publisher.
#[async_trait::async_trait]
pub trait Bus: Send + Sync + 'static {
    /// This node's id, unique among the nodes sharing the bus.
    fn node_id(&self) -> &str;

    /// Connects and starts delivering events of subscribed rooms, and node-wide events, to
    /// `handler`. Called once, by the hub's builder.
    async fn start(&self, handler: Arc<dyn BusHandler>) -> Result<()>;

    /// Starts receiving a room's events (idempotent). The hub calls this when the room gets
    /// its first local member.
    async fn subscribe(&self, room: &str) -> Result<()>;

    /// Stops receiving a room's events (idempotent). The hub calls this when the room's last
    /// local member leaves.
    async fn unsubscribe(&self, room: &str) -> Result<()>;

    /// Publishes to every other node subscribed to the event's room, or to every other
    /// started node for a node-wide event. Never blocks and never fails the caller: delivery
    /// is at most once, and losses are repaired through seq.
    fn publish(&self, event: BusEvent);

    /// Succeeds when the bus is connected (for readiness probes).
    async fn ping(&self) -> Result<()>;

    /// Flushes what is queued and disconnects. Idempotent.
    async fn close(&self) -> Result<()>;
}
