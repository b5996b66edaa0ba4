//! The moderation tables of the [`MemoryStore`](super::MemoryStore), held in its state under
//! its one lock and used by `memory_authority.rs`.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::authority::{AuditEntry, Restriction};

/// The room-authority state of a [`MemoryStore`].
#[derive(Debug, Default)]
pub(super) struct AuthorityData {
    /// (room, user) → ban.
    pub(super) bans: HashMap<(String, String), Restriction>,
    /// (room, user) → mute.
    pub(super) mutes: HashMap<(String, String), Restriction>,
    /// (room, user) holding an invitation.
    pub(super) invites: HashSet<(String, String)>,
    /// room → audit rows, oldest first.
    pub(super) audit: HashMap<String, Vec<AuditEntry>>,
    /// (user, other): `user` blocks direct messages from `other`.
    pub(super) blocks: BTreeSet<(String, String)>,
    /// Names of deleted rooms: never created again.
    pub(super) deleted: HashSet<String>,
}
