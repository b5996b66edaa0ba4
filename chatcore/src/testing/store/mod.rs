//! The [`Store`](crate::store::Store) contract. Every case takes a
//! [`StoreFactory`](super::StoreFactory) and panics on a violation.
//!
//! The cases live in one file per theme and are re-exported here, so the contract macros name
//! each one as `testing::store::<case>`. The helpers several themes share are in `helpers.rs`
//! (not here: this module re-exports the cases, so a case importing from it would be a cycle).

mod durability;
mod helpers;
mod history;
mod rooms;
mod round_trip;
mod search;

pub use durability::{close_commits_queued_appends, durable_across_reopen};
pub use history::{
    append_assigns_gapless_seq_per_room, append_to_unknown_room_fails,
    appends_commit_in_call_order, concurrent_appends_are_gapless, concurrent_retries_store_once,
    history_bad_cursor, history_of_unknown_room_is_empty, history_paging_edges,
    nonce_returns_the_original,
};
pub use rooms::{
    memberships, read_positions_never_move_back, room_visibility, rooms_are_created_once,
};
pub use round_trip::{custom_kinds_and_data_round_trip, hostile_strings_round_trip};
pub use search::{
    search_finds_words, search_rejects_nothing_to_find, search_survives_hostile_queries,
};
