//! The live local sessions, by id and by user: a `read`, a `mention` or a revocation finds a
//! user's sessions without walking every session of the node.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use crate::hub::session::state::SessionState;

/// Every live local session, indexed by id and by user name.
#[derive(Default)]
pub(crate) struct SessionTable {
    by_id: HashMap<u64, (Weak<SessionState>, Box<str>)>,
    by_user: HashMap<Box<str>, Vec<u64>>,
}

impl SessionTable {
    /// Registers a session.
    pub(crate) fn insert(&mut self, session: &Arc<SessionState>) {
        let user: Box<str> = session.user().into();
        self.by_user
            .entry(user.clone())
            .or_default()
            .push(session.id());
        self.by_id
            .insert(session.id(), (Arc::downgrade(session), user));
    }

    /// Forgets a session; whether it was registered.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let Some((_, user)) = self.by_id.remove(&id) else {
            return false;
        };
        if let Some(ids) = self.by_user.get_mut(&user) {
            ids.retain(|&x| x != id);
            if ids.is_empty() {
                self.by_user.remove(&user);
            }
        }
        true
    }

    /// Every session still alive.
    pub(crate) fn all(&self) -> impl Iterator<Item = Arc<SessionState>> + '_ {
        self.by_id.values().filter_map(|(s, _)| s.upgrade())
    }

    /// The sessions of `user` still alive.
    pub(crate) fn of(&self, user: &str) -> Vec<Arc<SessionState>> {
        self.by_user.get(user).map_or_else(Vec::new, |ids| {
            ids.iter()
                .filter_map(|id| self.by_id.get(id).and_then(|(s, _)| s.upgrade()))
                .collect()
        })
    }
}
