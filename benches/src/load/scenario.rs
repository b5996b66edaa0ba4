//! The scenario presets of `chat-load`: the shape each scenario starts from (explicit flags
//! override any of it).

use clap::ValueEnum;

/// Scenario presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// 1 room x 1,000 members, 1 publisher as fast as acks allow, 100-byte messages.
    Fanout,
    /// 1,000 rooms x 10 members, 10% of connections publish 1 msg/s each.
    Rooms,
    /// `rooms` with the life of a message (issue #13): 1,000 rooms x 10 members, 2 publishers
    /// per room at 0.5 events/s each (the same 10,000 deliveries/s), 10% of the events edits
    /// and reactions on the room's recent messages (own and the other publisher's), and every
    /// connection sending a `read` of the newest seq it saw once a second.
    RoomsChanges,
    /// 19,000 idle connections (in 1,900 rooms): connect rate and server memory.
    Idle,
    /// 1 room x 1,000 members, 1 publisher at 10 msg/s: latency at 10,000 deliveries/s.
    Latency,
    /// 1 room x 10 members, 1 publisher as fast as acks allow: the per-message cost of a small
    /// room (decode, commit, ack, echo), and whether frames wait for a timer (Nagle).
    Small,
    /// 100 rooms x 10 members, one publisher per room at 2 msg/s (2,000 deliveries/s):
    /// send -> ack latency at an ordinary rate, where nothing batches.
    Acks,
    /// 5,000 connections joining one room, nobody publishes: time to fill a big room and
    /// the memory of a joined idle connection (presence is O(n^2) frames if every join is
    /// announced to every member).
    Storm,
}

/// The values a scenario starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    /// Connections.
    pub connections: usize,
    /// Rooms.
    pub rooms: usize,
    /// Publishers.
    pub publishers: usize,
    /// Messages/s per publisher; 0 = ack-paced.
    pub rate: f64,
    /// Sends in flight when ack-paced.
    pub window: usize,
    /// Message size, bytes.
    pub payload: usize,
    /// Fraction of ticks that are changes.
    pub changes: f64,
    /// Seconds between two `read`s of a connection; 0 = never.
    pub read_every: f64,
}

const fn shape(
    connections: usize,
    rooms: usize,
    publishers: usize,
    rate: f64,
    window: usize,
) -> Preset {
    Preset {
        connections,
        rooms,
        publishers,
        rate,
        window,
        payload: 100,
        changes: 0.0,
        read_every: 0.0,
    }
}

/// The preset of `scenario` (or the defaults without one).
pub fn preset(scenario: Option<Scenario>) -> Preset {
    match scenario {
        None => shape(100, 10, 10, 1.0, 4),
        Some(Scenario::Fanout) => shape(1_000, 1, 1, 0.0, 4),
        Some(Scenario::Rooms) => shape(10_000, 1_000, 1_000, 1.0, 4),
        Some(Scenario::RoomsChanges) => Preset {
            changes: 0.1,
            read_every: 1.0,
            ..shape(10_000, 1_000, 2_000, 0.5, 4)
        },
        Some(Scenario::Idle) => shape(19_000, 1_900, 0, 0.0, 4),
        Some(Scenario::Latency) => shape(1_000, 1, 1, 10.0, 4),
        Some(Scenario::Small) => shape(10, 1, 1, 0.0, 4),
        Some(Scenario::Acks) => shape(1_000, 100, 100, 2.0, 4),
        Some(Scenario::Storm) => shape(5_000, 1, 0, 0.0, 4),
    }
}
