//! A message's current state, as history pages show it: edits applied, deletes as
//! tombstones, reactions counted, thread roots summarized (see `PROTOCOL.md`, "Room events").
//! Live `message` frames never carry these; a client applies the change events itself.

use serde::{Deserialize, Serialize};

/// What is left of a deleted message: who deleted it and when. Its text and data are gone
/// from the store and the search index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// Who deleted it (the sender or a moderator).
    pub by: String,
    /// When, milliseconds since the Unix epoch.
    pub ts: i64,
}

/// One emoji's reactions to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionCount {
    /// The emoji (one grapheme cluster, see [`check_emoji`](super::check_emoji)).
    pub emoji: String,
    /// How many users reacted with it.
    pub count: u64,
    /// Whether the user reading the page is one of them.
    #[serde(default)]
    pub me: bool,
}

/// A thread root's replies at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    /// How many replies (deleted ones included, as tombstones).
    pub replies: u64,
    /// Seq of the newest reply.
    pub last_seq: u64,
    /// Commit time of the newest reply, milliseconds since the Unix epoch.
    pub last_ts: i64,
    /// Who replied, sorted (at most the first 10 names).
    pub participants: Vec<String>,
}
