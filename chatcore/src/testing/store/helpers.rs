//! Helpers the store contract's themes share: a room, an append that must be fresh, a
//! filled room, the seqs of a page.

use std::sync::Arc;

use crate::protocol::{Message, RoomKind};
use crate::store::{NewMessage, Store};
use crate::testing::fixtures::{create_room, new_message as msg};

pub(super) async fn room(store: &Arc<dyn Store>, name: &str, kind: RoomKind) {
    create_room(store.as_ref(), name, kind).await;
}

pub(super) async fn append(store: &Arc<dyn Store>, m: NewMessage) -> Message {
    let appended = store.append(m).await.expect("append");
    assert!(
        !appended.duplicate,
        "a fresh message must not be a duplicate"
    );
    appended.message
}

pub(super) async fn fill(store: &Arc<dyn Store>, room: &str, n: u64) {
    let pending: Vec<_> = (1..=n)
        .map(|i| store.append(msg(room, "filler", &format!("message {i}"), None)))
        .collect();
    for p in pending {
        p.await.expect("append");
    }
}

pub(super) fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}
