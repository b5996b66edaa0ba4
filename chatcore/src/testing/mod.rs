//! Contract suites every backend runs, written once here (feature `test-support`).
//!
//! A backend crate gets one `#[tokio::test]` per contract case with a single line:
//!
//! ```ignore
//! chatcore::store_contract_tests!(MyFactory::new().await);
//! chatcore::accounts_contract_tests!(MyAccountsFactory::new().await);
//! chatcore::bus_contract_tests!(match my_bus_factory().await { Some(f) => f, None => return });
//! ```
//!
//! The expression is evaluated inside each generated test's async body, so it may `.await`,
//! and may `return` early to skip when a service is not configured (see [`service_url`]).

pub mod accounts;
pub mod admission;
pub mod bus;
pub mod changes;
pub mod fixtures;
pub mod moderation;
pub mod receipts;
pub mod room_admin;
pub mod room_events;
pub mod store;
pub mod stream;

use std::sync::Arc;

use crate::accounts::Accounts;
use crate::bus::Bus;
use crate::store::Store;

/// Makes the stores a contract case runs against.
#[async_trait::async_trait]
pub trait StoreFactory: Send + Sync + 'static {
    /// A store on fresh, empty data (each factory owns its own database or schema).
    async fn open(&self) -> Arc<dyn Store>;
    /// The same data opened again after the test closed the previous store; `None` when the
    /// backend is not durable. A durable backend's suite fails on `None`; a volatile one
    /// generates no durability case (`store_contract_tests!(volatile: …)`).
    async fn reopen(&self) -> Option<Arc<dyn Store>>;
}

/// Makes the account stores an [`Accounts`] contract case runs against.
#[async_trait::async_trait]
pub trait AccountsFactory: Send + Sync + 'static {
    /// Accounts on fresh, empty data.
    async fn open(&self) -> Arc<dyn Accounts>;
}

/// [`MemoryAccounts`](crate::accounts::MemoryAccounts) as a contract factory.
#[derive(Debug, Default)]
pub struct MemoryAccountsFactory;

#[async_trait::async_trait]
impl AccountsFactory for MemoryAccountsFactory {
    async fn open(&self) -> Arc<dyn Accounts> {
        Arc::new(crate::accounts::MemoryAccounts::new())
    }
}

/// Makes the nodes a bus contract case runs against.
#[async_trait::async_trait]
pub trait BusFactory: Send + Sync + 'static {
    /// A new, not yet started node on the shared bus under test. Nodes of one factory see
    /// each other; nodes of different factories never do.
    async fn node(&self, node_id: &str) -> Arc<dyn Bus>;
}

/// The URL of a real service for integration tests, from the environment variable `var`.
///
/// When it is unset: with `CHATCORE_REQUIRE_SERVICES=1` (CI) this panics, because a missing
/// service must fail the run; otherwise it prints that the test was skipped and returns `None`.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CHATCORE_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!(
                "{var} is not set but CHATCORE_REQUIRE_SERVICES=1: start the service and set {var}"
            )
        }
        _ => {
            eprintln!("skipped: set {var} to run this test against a real service");
            None
        }
    }
}

/// The in-memory store as a contract factory.
#[derive(Debug, Default)]
pub struct MemoryStoreFactory;

#[async_trait::async_trait]
impl StoreFactory for MemoryStoreFactory {
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(crate::store::MemoryStore::new())
    }
    async fn reopen(&self) -> Option<Arc<dyn Store>> {
        None
    }
}

/// The in-process bus as a contract factory: every node joins one [`LocalNetwork`](crate::bus::LocalNetwork).
#[derive(Debug, Default)]
pub struct LocalBusFactory {
    network: crate::bus::LocalNetwork,
}

#[async_trait::async_trait]
impl BusFactory for LocalBusFactory {
    async fn node(&self, node_id: &str) -> Arc<dyn Bus> {
        Arc::new(self.network.node(node_id))
    }
}

/// Generates one `#[tokio::test]` per [`Store`] contract case. See the [module docs](self).
///
/// A store that keeps nothing across a reopen (the memory store) says so with
/// `store_contract_tests!(volatile: factory)`: its run then has no durability case at all,
/// rather than one that passes without checking anything.
#[macro_export]
macro_rules! store_contract_tests {
    (volatile: $factory:expr) => {
        $crate::__store_cases!($factory;);
    };
    ($factory:expr) => {
        $crate::__store_cases!($factory; durable_across_reopen,);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_cases {
    ($factory:expr; $($extra:ident,)*) => {
        $crate::__contract_cases!(store, $factory;
            append_assigns_gapless_seq_per_room,
            append_to_unknown_room_fails,
            appends_commit_in_call_order,
            concurrent_appends_are_gapless,
            nonce_returns_the_original,
            concurrent_retries_store_once,
            history_paging_edges,
            history_bad_cursor,
            history_of_unknown_room_is_empty,
            rooms_are_created_once,
            room_visibility,
            memberships,
            hostile_strings_round_trip,
            custom_kinds_and_data_round_trip,
            search_finds_words,
            search_rejects_nothing_to_find,
            search_survives_hostile_queries,
            read_positions_never_move_back,
            close_commits_queued_appends,
            $($extra,)*
        );
        $crate::__contract_cases!(room_events, $factory;
            event_fields_round_trip,
        );
        $crate::__contract_cases!(receipts, $factory;
            unread_counts_follow_the_read_position,
            unread_counts_are_capped,
            read_batches_move_forward_and_skip_unknown_rooms,
        );
        $crate::__contract_cases!(moderation, $factory;
            kick_is_one_event_with_its_audit_row,
            bans_mutes_and_invitations,
            roles_and_ownership_transfer,
            topic_is_set_by_its_event,
            refused_actions_write_nothing,
            moderation_and_appends_share_one_sequence,
            dm_blocks,
        );
        $crate::__contract_cases!(admission, $factory;
            admission_checks_bans_and_invitations,
            concurrent_bans_and_joins_never_both_win,
        );
        $crate::__contract_cases!(room_admin, $factory;
            invitations_are_listed,
            descriptions_are_stored,
            audit_pages_by_cursor,
            mutes_of_a_room,
            deleted_rooms_leave_only_their_audit,
        );
        $crate::__contract_cases!(changes, $factory;
            resume_sees_each_change_once_then_current_state,
            refused_changes_store_nothing,
            search_sees_current_text_only,
            threads_page_by_cursor,
            concurrent_changes_are_gapless_and_unique,
        );
        $crate::__contract_cases!(stream, $factory;
            heads_list_every_room,
            leases_have_one_holder_and_fencing_tokens,
            cursors_are_fenced_and_move_forward,
            cursors_survive_reopen,
        );
    };
}

/// Generates one `#[tokio::test]` per [`Accounts`] contract case. See the [module docs](self).
#[macro_export]
macro_rules! accounts_contract_tests {
    ($factory:expr) => {
        $crate::__contract_cases!(accounts, $factory;
            accounts_are_found_by_any_form,
            names_are_unique_by_key,
            password_and_admin_change,
            invites_are_single_use,
            refresh_rotation_detects_reuse,
            expired_refresh_is_refused,
            sessions_are_revoked,
            deleted_accounts_leave_nothing,
            races_resolve_once,
        );
    };
}

/// Generates one `#[tokio::test]` per [`Bus`] contract case. See the [module docs](self).
#[macro_export]
macro_rules! bus_contract_tests {
    ($factory:expr) => {
        $crate::__contract_cases!(bus, $factory;
            delivers_to_other_nodes_not_self,
            delivers_every_event_kind,
            only_subscribed_rooms_are_delivered,
            node_wide_events_reach_every_node,
            unsubscribe_stops_delivery,
            ping_succeeds_when_connected,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($suite:ident, $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let factory = $factory;
                $crate::testing::$suite::$case(&factory).await;
            }
        )+
    };
}
