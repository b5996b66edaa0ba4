//! The host's rules: the [`Policy`] trait, asked by the hub's command layer before a join, a
//! send, a room creation and a direct message.
//!
//! A policy sees who asks (the [`Identity`](crate::auth::Identity) with the claims the
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
mod hook;

pub(crate) use guard::Guard;
pub use hook::{AllowAll, DEFAULT_TIMEOUT, Draft, Policy};
