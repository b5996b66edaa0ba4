//! [`OpenedStore`]: what opening a `--store` URL gives the server, whichever backend made it
//! (its own module, so the backends' openers and the URL parser that calls them both depend
//! on it and not on each other).

use std::sync::Arc;

use chatcore::accounts::Accounts;
use chatcore::store::Store;

use crate::backend_metrics::BackendMetrics;

/// A store and the accounts in its database.
#[derive(Clone)]
pub struct OpenedStore {
    /// Rooms and messages.
    pub store: Arc<dyn Store>,
    /// Accounts, sessions and invites.
    pub accounts: Arc<dyn Accounts>,
    /// The store's own counters for `/metrics`, when it has any.
    pub metrics: Option<BackendMetrics>,
}

impl std::fmt::Debug for OpenedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedStore").finish_non_exhaustive()
    }
}
