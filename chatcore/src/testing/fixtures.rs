//! Small builders and handlers shared by the contract suites and by every backend crate's own
//! tests, so no crate writes its own copy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::bus::{BusEvent, BusHandler, Envelope};
use crate::protocol::{Data, Message, MessageKind, RoomKind};
use crate::store::{NewMessage, NewRoom, Store};

/// Upper bound for a bus delivery in tests: a bound against hangs, not a performance goal.
pub const DELIVERY: Duration = Duration::from_secs(10);

/// Creates room `name` of `kind` in `store`, made by user `creator`; panics if the store
/// refuses.
pub async fn create_room(store: &(impl Store + ?Sized), name: &str, kind: RoomKind) {
    store
        .create_room(NewRoom {
            name: name.to_owned(),
            kind,
            creator: "creator".to_owned(),
            created: 1_700_000_000_000,
        })
        .await
        .expect("create_room");
}

/// A text message from `sender` to `room` with a fresh ULID id, stamped now, with an
/// optional idempotency `nonce`.
pub fn new_message(room: &str, sender: &str, text: &str, nonce: Option<&str>) -> NewMessage {
    NewMessage {
        room: room.to_owned(),
        id: ulid::Ulid::generate().to_string(),
        sender: sender.to_owned(),
        kind: MessageKind::Text,
        text: text.to_owned(),
        ts: crate::now_millis(),
        nonce: nonce.map(str::to_owned),
        reply_to: None,
        data: None,
        ..Default::default()
    }
}

/// A card's payload for tests: nested objects and arrays, integers at both ends of their
/// range, a float, `null`, escapes and non-ASCII text, so every codec and store is tried on
/// each JSON type.
pub fn card(n: u64) -> Data {
    let value = serde_json::json!({
        "order": n,
        "state": "shipped \"today\" 🚚\n",
        "lines": [{"sku": "A-1", "qty": 2, "price": 9.95}, {"sku": "ü", "qty": -3}],
        "big": u64::MAX,
        "small": i64::MIN,
        "none": null,
        "paid": true,
        "nested": {"a": {"b": {"c": []}}},
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => Data::new(),
    }
}

/// [`new_message`] as an application's card: kind `test.card` with [`card`]`(n)` as data.
pub fn new_card(room: &str, sender: &str, n: u64, nonce: Option<&str>) -> NewMessage {
    NewMessage {
        kind: MessageKind::Custom("test.card".into()),
        data: Some(card(n)),
        ..new_message(room, sender, &format!("order {n} shipped"), nonce)
    }
}

/// A bus [`BusEvent::Message`] for `room` at `seq`, from `ann`, whose text holds non-ASCII
/// and a NUL byte, with a custom kind and a [`card`] as data, so every wire format is
/// exercised.
pub fn bus_message(room: &str, seq: u64) -> BusEvent {
    BusEvent::Message(Message {
        kind: MessageKind::Custom("test.card".into()),
        data: Some(card(seq)),
        ..message(room, seq)
    })
}

/// A committed message of `room` with `seq`, from `ann`, id `id-{seq}`, whose text has
/// non-ASCII characters and a NUL (so codecs and stores are tried on them).
pub fn message(room: &str, seq: u64) -> Message {
    Message {
        room: room.to_owned(),
        seq,
        id: format!("id-{seq}"),
        sender: "ann".into(),
        kind: MessageKind::Text,
        text: format!("text {seq} with ünïcode 🦀 and \0"),
        ts: 1,
        nonce: Some("n".into()),
        reply_to: None,
        data: None,
        ..Default::default()
    }
}

/// The seq of a bus envelope carrying a message, `None` for other events.
pub fn seq_of(envelope: &Envelope) -> Option<u64> {
    match &envelope.event {
        BusEvent::Message(m) => Some(m.seq),
        _ => None,
    }
}

/// A [`BusHandler`] that forwards every envelope to a channel and counts gap reports.
#[derive(Debug)]
pub struct Inbox {
    /// Where envelopes go; a `Mutex` because `BusHandler` takes `&self` and no `.await`
    /// happens under the lock.
    tx: Mutex<mpsc::UnboundedSender<Envelope>>,
    /// How many times the bus called [`BusHandler::on_gap_suspected`].
    gaps: AtomicU64,
}

impl Inbox {
    /// A new inbox and the receiving end of what it is handed.
    pub fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<Envelope>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let inbox = Self {
            tx: Mutex::new(tx),
            gaps: AtomicU64::new(0),
        };
        (Arc::new(inbox), rx)
    }

    /// How many times the bus called `on_gap_suspected`.
    pub fn gaps(&self) -> u64 {
        self.gaps.load(Ordering::SeqCst)
    }
}

impl BusHandler for Inbox {
    fn on_event(&self, envelope: Envelope) {
        let _ = self
            .tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(envelope);
    }

    fn on_gap_suspected(&self) {
        self.gaps.fetch_add(1, Ordering::SeqCst);
    }
}

/// The next envelope an [`Inbox`] received, within [`DELIVERY`]; panics otherwise.
pub async fn next_envelope(rx: &mut mpsc::UnboundedReceiver<Envelope>) -> Envelope {
    tokio::time::timeout(DELIVERY, rx.recv())
        .await
        .expect("an event within the delivery bound")
        .expect("bus still running")
}
