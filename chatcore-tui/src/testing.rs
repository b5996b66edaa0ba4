//! Fixtures shared by the unit tests.

use std::time::Instant;

use chatcore::names::DM_PREFIX;
use chatcore_client::{Message, MessageKind, RoomKind};

use crate::app::{Action, App, ConnStatus};
use crate::config::Settings;

/// 2024-02-29 13:05:00 UTC, in milliseconds.
pub(crate) const TS: i64 = 1_709_211_900_000;
/// One day in milliseconds.
pub(crate) const DAY: i64 = 86_400_000;

/// A connected app for user `ann`, 120×40, no config file.
pub(crate) fn app() -> App {
    let settings = Settings {
        user: "ann".into(),
        config_path: None,
        ..Settings::default()
    };
    let mut app = App::new(settings, Instant::now());
    app.update(Action::Resize(120, 40));
    app.update(Action::Conn(ConnStatus::Connected { user: "ann".into() }));
    app
}

/// A text message.
pub(crate) fn msg(room: &str, seq: u64, sender: &str, text: &str, ts: i64) -> Message {
    Message {
        room: room.into(),
        seq,
        id: format!("{room}-{seq}"),
        sender: sender.into(),
        kind: MessageKind::Text,
        text: text.into(),
        ts,
        nonce: None,
        reply_to: None,
        data: None,
        ..Default::default()
    }
}

/// Delivers the answer to joining `room` with `history`.
pub(crate) fn join(app: &mut App, room: &str, history: Vec<Message>) {
    let last_seq = history.last().map_or(0, |m| m.seq);
    let kind = if room.starts_with(DM_PREFIX) {
        RoomKind::Direct
    } else {
        RoomKind::Public
    };
    app.update(Action::Joined {
        room: room.into(),
        kind,
        last_seq,
        online: vec!["ann".into(), "bob".into()],
        history,
        current_to: last_seq,
    });
}
