//! [`SessionState`]: what one session holds while it lives, shared with its in-flight commands
//! and with the registry (for direct-message invites and shutdown).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::auth::Identity;
use crate::hub::queue::Queue;
use crate::hub::room::Room;
use crate::hub::throttle::ConnectionGuard;

/// One session's outbound queue and the rooms it joined.
#[derive(Debug)]
pub(crate) struct SessionState {
    /// Where every frame for this session goes; rooms hold a clone of it.
    pub(crate) queue: Arc<Queue>,
    /// Who the session is, with the authenticator's claims, for the policy.
    pub(crate) identity: Identity,
    /// Its place among its peer address's sessions, when a transport opened it
    /// ([`Hub::connect_from`](crate::Hub::connect_from)); it frees the place when the session
    /// ends, and says the session is subject to the per-user and per-IP limits.
    pub(crate) peer: Option<ConnectionGuard>,
    /// Rooms this session has joined. A std mutex: only map operations happen under it,
    /// never an await.
    joined: Mutex<HashMap<String, Arc<Room>>>,
    /// The user's read positions this session knows, by room: read from the store once per
    /// room, then raised by the user's `read`s on any session or node, so a `read` is
    /// answered without a store round trip (`command/read.rs`).
    positions: Mutex<HashMap<String, u64>>,
}

impl SessionState {
    pub(crate) fn new(
        queue: Arc<Queue>,
        identity: Identity,
        peer: Option<ConnectionGuard>,
    ) -> Arc<Self> {
        Arc::new(Self {
            queue,
            identity,
            peer,
            joined: Mutex::new(HashMap::new()),
            positions: Mutex::new(HashMap::new()),
        })
    }

    /// The session id (unique within the hub).
    pub(crate) fn id(&self) -> u64 {
        self.queue.id
    }

    /// The authenticated user.
    pub(crate) fn user(&self) -> &str {
        &self.queue.user
    }

    /// Whether the user is a server admin (the [`ADMIN_CLAIM`](crate::accounts::ADMIN_CLAIM)
    /// is `true`), who may moderate and delete in every room.
    pub(crate) fn is_server_admin(&self) -> bool {
        crate::accounts::is_server_admin(&self.identity)
    }

    /// The rooms this session joined, by name.
    pub(crate) fn joined(&self) -> MutexGuard<'_, HashMap<String, Arc<Room>>> {
        self.joined.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A joined room, or `NotMember`.
    pub(crate) fn room(&self, name: &str) -> crate::Result<Arc<Room>> {
        self.joined()
            .get(name)
            .cloned()
            .ok_or_else(|| crate::Error::NotMember(name.to_owned()))
    }

    /// The user's read position in `room` as this session knows it, if it does.
    pub(crate) fn position(&self, room: &str) -> Option<u64> {
        self.positions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(room)
            .copied()
    }

    /// Raises the known position in `room` to `seq` (never lowers it); returns the position
    /// now known.
    pub(crate) fn raise_position(&self, room: &str, seq: u64) -> u64 {
        let mut positions = self.positions.lock().unwrap_or_else(|p| p.into_inner());
        let known = positions.entry(room.to_owned()).or_insert(seq);
        *known = (*known).max(seq);
        *known
    }
}
