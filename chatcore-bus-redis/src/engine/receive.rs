//! The receive loop: decodes what the subscribed connection hears, drops this node's own
//! events and those of rooms no longer subscribed, passes node-wide events on whatever rooms
//! are subscribed, and reports suspected losses.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use chatcore::bus::{BusHandler, Channel};

use crate::driver::{Events, Incoming};
use crate::stats::{Counters, worth_logging};
use crate::wire::{self, Rejected};

/// The receive loop's state.
pub(super) struct Receiver {
    pub(super) node_id: Arc<str>,
    /// `{prefix}room:`: a channel starting with it carries the room named by the rest.
    pub(super) room_prefix: Arc<str>,
    /// `{prefix}nodes`: the channel of node-wide events, delivered whatever rooms are
    /// subscribed.
    pub(super) nodes_channel: Arc<str>,
    /// The engine's subscribed rooms (see `Engine::rooms`).
    pub(super) rooms: Arc<RwLock<HashSet<String>>>,
    pub(super) counters: Arc<Counters>,
    pub(super) handler: Arc<dyn BusHandler>,
}

impl Receiver {
    pub(super) async fn run(self, mut events: impl Events) {
        while let Some(incoming) = events.next().await {
            match incoming {
                Incoming::Message { channel, payload } => self.deliver(&channel, &payload),
                Incoming::Lagged(n) => {
                    let lagged = Counters::add(&self.counters.lagged, n);
                    tracing::warn!(
                        lost = n,
                        lagged,
                        "bus reader fell behind; messages lost (repaired from the store)"
                    );
                    self.gap_suspected();
                }
                Incoming::Resubscribed => {
                    tracing::info!(
                        "bus re-subscribed after a disconnect; checking rooms against the store"
                    );
                    self.gap_suspected();
                }
            }
        }
    }

    fn gap_suspected(&self) {
        Counters::add(&self.counters.gaps_suspected, 1);
        self.handler.on_gap_suspected();
    }

    /// The bus channel a Redis channel carries, if this node wants its events now.
    fn wanted<'a>(&self, channel: &'a [u8]) -> Option<Channel<'a>> {
        if channel == self.nodes_channel.as_bytes() {
            return Some(Channel::AllNodes);
        }
        // Not a room channel of ours, or not UTF-8 (we never subscribe to such a channel).
        let room = std::str::from_utf8(channel.strip_prefix(self.room_prefix.as_bytes())?).ok()?;
        // A room unsubscribed while the message was in flight is not delivered.
        self.rooms
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(room)
            .then_some(Channel::Room(room))
    }

    fn deliver(&self, channel: &[u8], payload: &[u8]) {
        let Some(expected) = self.wanted(channel) else {
            return;
        };
        match wire::decode(expected, payload) {
            Ok(envelope) if *envelope.origin == *self.node_id => {
                Counters::add(&self.counters.own, 1);
            }
            Ok(envelope) => {
                Counters::add(&self.counters.received, 1);
                self.handler.on_event(envelope);
            }
            Err(reason) => {
                let errors = Counters::add(&self.counters.decode_errors, 1);
                if worth_logging(errors) {
                    let reason = match reason {
                        Rejected::Undecodable => "not a MessagePack bus envelope",
                        Rejected::WrongChannel => "event of another channel",
                    };
                    tracing::warn!(
                        channel = ?expected,
                        bytes = payload.len(),
                        decode_errors = errors,
                        "ignored a bus payload: {reason}"
                    );
                }
            }
        }
    }
}
