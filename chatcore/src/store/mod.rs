//! The `Store` trait: durable rooms, memberships and messages.
//!
//! A store assigns each room's `seq` inside the commit that makes a message durable, so a
//! failed write never burns a number and writers on several nodes still get one gapless
//! sequence per room. [`MemoryStore`] is the in-process implementation, also used in tests;
//! `chatcore-store-sqlite` and `chatcore-store-postgres` are the durable ones. Every backend
//! passes the same contract suite (`chatcore::testing`, feature `test-support`).

mod authority;
mod backend;
mod changes;
mod lease;
mod memory;
mod memory_authority;
mod memory_state;
mod memory_tables;
mod types;
mod unread;

pub use authority::{Action, Admission, AuditEntry, Restriction, RoomAuthority};
pub use backend::Store;
pub use changes::{MAX_REACTION_EMOJI, ReactionState, TargetState, check_change};
pub use lease::{LeaseRecord, next_lease};
pub use memory::MemoryStore;
pub use types::{
    Appended, HistoryPage, HistoryQuery, MAX_PAGE, Member, NewMessage, NewRoom, Pending, ReadMark,
    Role, RoomRecord, SearchQuery,
};
pub use unread::{MAX_UNREAD, UNCOUNTED_KINDS, Unread, counts_for, counts_kind};
