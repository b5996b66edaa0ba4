//! The [`Policy`] trait, the [`Draft`] it may rewrite, and [`AllowAll`].

use crate::Result;
use crate::auth::Identity;
use crate::protocol::{Data, MessageKind, RoomKind};

/// How long a policy may take to decide before the command fails with `unavailable`, unless
/// [`HubBuilder::policy_timeout`](crate::HubBuilder::policy_timeout) says otherwise. 5 s: far
/// above a local check or one call to the host's own API, short enough that a hung policy
/// does not hang its users for long.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a client asked to post, as the policy may rewrite it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Draft {
    /// The text. A rewrite is checked against the hub's limits again.
    pub text: String,
    /// The kind.
    pub kind: MessageKind,
    /// The seq this replies to.
    pub reply_to: Option<u64>,
    /// The structured payload, if any. A policy may attach metadata here (see
    /// [`Draft::attach`]); the result is checked against the hub's limits again
    /// (`max_data_bytes`, [`MAX_DATA_DEPTH`](crate::protocol::MAX_DATA_DEPTH)), so a policy
    /// that attaches too much gets the send refused with `too_large`.
    pub data: Option<Data>,
}

impl Draft {
    /// A plain text draft.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            kind: MessageKind::Text,
            reply_to: None,
            data: None,
        }
    }

    /// Sets `key` in the draft's [`data`](Draft::data) (created when absent), replacing a
    /// value the client sent under that key: the host's metadata wins.
    pub fn attach(&mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) {
        self.data
            .get_or_insert_with(Data::new)
            .insert(key.into(), value.into());
    }
}

/// The host's rules, asked before each command that changes something. Every method allows by
/// default, so a policy overrides only what it cares about.
///
/// Object-safe (`Arc<dyn Policy>`); called concurrently from every session, so an
/// implementation keeps its own state behind its own locks. A method should answer quickly: a
/// session's next command waits for it.
#[async_trait::async_trait]
pub trait Policy: Send + Sync + 'static {
    /// May `who` join `room` (an existing room, or one this join is about to create — then
    /// [`Policy::create_room`] was asked first)? Also asked on resume.
    async fn join(&self, who: &Identity, room: &str) -> Result<()> {
        let _ = (who, room);
        Ok(())
    }

    /// May `who` create `room` of `kind` (by joining a room that does not exist yet)?
    async fn create_room(&self, who: &Identity, room: &str, kind: RoomKind) -> Result<()> {
        let _ = (who, room, kind);
        Ok(())
    }

    /// May `who` post `draft` to `room`? The policy may rewrite the draft: filter its text,
    /// or attach metadata to its data ([`Draft::attach`]).
    async fn send(&self, who: &Identity, room: &str, draft: &mut Draft) -> Result<()> {
        let _ = (who, room, draft);
        Ok(())
    }

    /// May `who` send `draft` directly to user `to`? The policy may rewrite the draft.
    async fn dm(&self, who: &Identity, to: &str, draft: &mut Draft) -> Result<()> {
        let _ = (who, to, draft);
        Ok(())
    }
}

/// Allows everything: the behaviour of a hub without a policy, as a value (to wrap or to
/// compare against in benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait::async_trait]
impl Policy for AllowAll {}
