//! [`HubBuilder`]: how a hub is configured.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::{Hub, HubBusHandler, HubInner, Limits};
use crate::Result;
use crate::auth::{Authenticator, GuestAuthenticator};
use crate::bus::{Bus, LocalBus};
use crate::store::{MemoryStore, Store};

/// Configures a [`Hub`]. Every part has a default that needs nothing installed: a
/// [`MemoryStore`], a lone [`LocalBus`], [`GuestAuthenticator`] and [`Limits::default`].
#[derive(Default)]
pub struct HubBuilder {
    store: Option<Arc<dyn Store>>,
    bus: Option<Arc<dyn Bus>>,
    auth: Option<Arc<dyn Authenticator>>,
    limits: Limits,
}

impl std::fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubBuilder")
            .field("limits", &self.limits)
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

    /// Size and time bounds.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Starts the bus and returns the hub. Must run inside a Tokio runtime.
    pub async fn build(self) -> Result<Hub> {
        let bus = self.bus.unwrap_or_else(|| Arc::new(LocalBus::default()));
        let inner = Arc::new(HubInner {
            store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            bus: Arc::clone(&bus),
            auth: self.auth.unwrap_or_else(|| Arc::new(GuestAuthenticator)),
            limits: self.limits,
            rooms: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            next_session: AtomicU64::new(0),
            stats: Arc::default(),
            presence_version: AtomicU64::new(crate::now_millis().max(0) as u64 * 1000),
            dirty: Mutex::new(Vec::new()),
            shutting_down: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
        });
        bus.start(Arc::new(HubBusHandler(Arc::downgrade(&inner))))
            .await?;
        bus.subscribe(crate::bus::INVITES).await?;
        Hub::spawn_announcer(&inner);
        Hub::spawn_presence(&inner);
        Ok(Hub { inner })
    }
}
