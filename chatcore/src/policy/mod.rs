//! The host's rules: the [`Policy`] trait, asked by the hub's command layer before a join, a
//! send, a room creation and a direct message.
//!
//! A policy sees who asks (the [`Identity`] with the claims the
//! [`Authenticator`](crate::auth::Authenticator) extracted), the room and the command. It may
//! refuse with any [`Error`](crate::Error) — the client gets that error's stable
//! [`ErrorCode`](crate::ErrorCode), usually [`Error::Forbidden`](crate::Error::Forbidden) with
//! a reason the user can read — or, for a send or a DM, rewrite the [`Draft`] (a word
//! filter). A rewritten draft is checked against the hub's limits again, so a policy cannot
//! push a message past them.
//!
//! A policy that panics fails the command with `internal`; one that does not answer within
//! [`HubBuilder::policy_timeout`](crate::HubBuilder::policy_timeout) fails it with
//! `unavailable`. Either way the session and the hub live on.
//!
//! With no policy configured the hub asks nothing at all: the message path costs what it
//! cost before (`benches/BENCHMARKS.md`, "Policy").
//!
//! ```
//! use chatcore::{Error, Result, auth::Identity, policy::{Draft, Policy}};
//!
//! /// Only staff may enter `staff-*` rooms, and nobody says "darn".
//! struct ShopRules;
//!
//! #[async_trait::async_trait]
//! impl Policy for ShopRules {
//!     async fn join(&self, who: &Identity, room: &str) -> Result<()> {
//!         let staff = who.claim("role").and_then(|r| r.as_str()) == Some("staff");
//!         if room.starts_with("staff-") && !staff {
//!             return Err(Error::Forbidden(format!("{room} is for staff")));
//!         }
//!         Ok(())
//!     }
//!
//!     async fn send(&self, _who: &Identity, _room: &str, draft: &mut Draft) -> Result<()> {
//!         draft.text = draft.text.replace("darn", "d**n");
//!         Ok(())
//!     }
//! }
//! # async fn demo() -> chatcore::Result<()> {
//! let hub = chatcore::Hub::builder().policy(ShopRules).build().await?;
//! # Ok(()) }
//! ```

mod guard;

pub(crate) use guard::Guard;

use crate::Result;
use crate::auth::Identity;
use crate::protocol::{MessageKind, RoomKind};

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
}

impl Draft {
    /// A plain text draft.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            kind: MessageKind::Text,
            reply_to: None,
        }
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

    /// May `who` post `draft` to `room`? The policy may rewrite the draft.
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
