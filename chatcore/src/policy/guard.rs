//! [`Guard`]: how the hub asks a [`Policy`]: bounded in time, a panic caught.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::{Draft, Policy};
use crate::auth::Identity;
use crate::protocol::RoomKind;
use crate::{Error, Result};

/// The configured policy and how long it may take. The hub holds an `Option<Guard>`: without
/// a policy nothing is asked and nothing is allocated.
#[derive(Clone)]
pub(crate) struct Guard {
    policy: Arc<dyn Policy>,
    timeout: Duration,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Guard {
    pub(crate) fn new(policy: Arc<dyn Policy>, timeout: Duration) -> Self {
        Self { policy, timeout }
    }

    pub(crate) async fn join(&self, who: &Identity, room: &str) -> Result<()> {
        self.ask("join", self.policy.join(who, room)).await
    }

    pub(crate) async fn create_room(
        &self,
        who: &Identity,
        room: &str,
        kind: RoomKind,
    ) -> Result<()> {
        self.ask("create_room", self.policy.create_room(who, room, kind))
            .await
    }

    pub(crate) async fn send(&self, who: &Identity, room: &str, draft: &mut Draft) -> Result<()> {
        self.ask("send", self.policy.send(who, room, draft)).await
    }

    pub(crate) async fn dm(&self, who: &Identity, to: &str, draft: &mut Draft) -> Result<()> {
        self.ask("dm", self.policy.dm(who, to, draft)).await
    }

    /// Runs one question: a panic becomes [`Error::PolicyFailed`] (`internal`), running past
    /// the timeout [`Error::PolicyTimeout`] (`unavailable`).
    async fn ask(
        &self,
        what: &'static str,
        answer: impl Future<Output = Result<()>>,
    ) -> Result<()> {
        match tokio::time::timeout(self.timeout, AssertUnwindSafe(answer).catch_unwind()).await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(_panic)) => {
                tracing::error!(hook = what, "the policy panicked");
                Err(Error::PolicyFailed(what))
            }
            Err(_elapsed) => {
                tracing::warn!(hook = what, timeout = ?self.timeout, "the policy did not answer");
                Err(Error::PolicyTimeout(self.timeout))
            }
        }
    }
}
