//! [`HubBuilder`]: how a hub is configured.

use std::sync::Arc;
use std::time::Duration;

use super::config::Limits;
use crate::auth::Authenticator;
use crate::bus::Bus;
use crate::policy::Policy;
use crate::store::Store;

/// Configures a [`Hub`](crate::Hub). Every part has a default that needs nothing installed: a
/// [`MemoryStore`](crate::store::MemoryStore), a lone [`LocalBus`](crate::bus::LocalBus),
/// [`GuestAuthenticator`](crate::auth::GuestAuthenticator) and [`Limits::default`].
/// [`HubBuilder::build`] starts it.
#[derive(Default)]
pub struct HubBuilder {
    pub(super) store: Option<Arc<dyn Store>>,
    pub(super) bus: Option<Arc<dyn Bus>>,
    pub(super) auth: Option<Arc<dyn Authenticator>>,
    pub(super) limits: Limits,
    pub(super) policy: Option<Arc<dyn Policy>>,
    pub(super) policy_timeout: Option<Duration>,
}

impl std::fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubBuilder")
            .field("limits", &self.limits)
            .field("policy", &self.policy.is_some())
            .finish_non_exhaustive()
    }
}

impl HubBuilder {
    /// Where rooms, memberships and messages are stored.
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Like [`HubBuilder::store`], for a store already shared.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// How this node reaches the others.
    pub fn bus(mut self, bus: impl Bus) -> Self {
        self.bus = Some(Arc::new(bus));
        self
    }

    /// Like [`HubBuilder::bus`], for a bus already shared.
    pub fn shared_bus(mut self, bus: Arc<dyn Bus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Who may connect.
    pub fn authenticator(mut self, auth: impl Authenticator) -> Self {
        self.auth = Some(Arc::new(auth));
        self
    }

    /// Like [`HubBuilder::authenticator`], for one already shared.
    pub fn shared_authenticator(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The host's rules, asked before joins, sends, room creation and direct messages. None
    /// by default: then nothing is asked and the message path costs nothing extra.
    pub fn policy(mut self, policy: impl Policy) -> Self {
        self.policy = Some(Arc::new(policy));
        self
    }

    /// Like [`HubBuilder::policy`], for one already shared.
    pub fn shared_policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// How long the policy may take per decision; default [`policy::DEFAULT_TIMEOUT`](crate::policy::DEFAULT_TIMEOUT).
    pub fn policy_timeout(mut self, timeout: Duration) -> Self {
        self.policy_timeout = Some(timeout);
        self
    }

    /// Size and time bounds.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}
