//! [`FredEvents`]: the subscribed connection's messages, as the bus reads them.

use bytes::Bytes;
use fred::types::{Message, Value};
use tokio::sync::{broadcast, watch};

use crate::driver::{Events, Incoming};

pub(crate) struct FredEvents {
    pub(super) rx: broadcast::Receiver<Message>,
    pub(super) resubscribed: watch::Receiver<u64>,
}

impl Events for FredEvents {
    async fn next(&mut self) -> Option<Incoming> {
        let received = tokio::select! {
            // Both arms are cancel safe: a message not taken stays in the broadcast buffer.
            changed = self.resubscribed.changed() => match changed {
                Ok(()) => return Some(Incoming::Resubscribed),
                Err(_) => return None, // the driver is gone
            },
            received = self.rx.recv() => received,
        };
        match received {
            Ok(message) => {
                let payload = match message.value {
                    Value::Bytes(bytes) => bytes,
                    Value::String(text) => text.into_inner(),
                    _ => Bytes::new(), // not a payload of ours: counted as a decode error
                };
                Some(Incoming::Message {
                    channel: message.channel.into_inner(),
                    payload,
                })
            }
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Incoming::Lagged(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}
