//! The [`Accounts`] trait.

use async_trait::async_trait;

use super::types::{
    AccountRecord, Created, FamilyRecord, NewAccount, NewInvite, NewRefresh, Rotation,
};
use crate::Result;

/// Durable accounts. Names are looked up by [`name_key`](super::name_key); each method that takes a `name`
/// normalizes it itself, so callers may pass the display form or the key.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates an account unless its name key is taken, using up `invite` (a hash) in the
    /// same transaction when given. A refusal changes nothing.
    async fn create_account(&self, account: NewAccount, invite: Option<&str>) -> Result<Created>;

    /// The account named `name` (any form with the same key).
    async fn account(&self, name: &str) -> Result<Option<AccountRecord>>;

    /// Replaces the password hash; `false` when there is no such account.
    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool>;

    /// Sets the server-admin flag; `false` when there is no such account.
    async fn set_admin(&self, name: &str, admin: bool) -> Result<bool>;

    /// Deletes the account with its sessions and refresh tokens; `false` when there was none.
    async fn delete_account(&self, name: &str) -> Result<bool>;

    /// Starts a session of `name` with its first refresh token. Fails with
    /// [`Error::Unauthorized`](crate::Error::Unauthorized) when the account does not exist.
    async fn create_session(&self, name: &str, first: NewRefresh) -> Result<()>;

    /// Presents the refresh token hashed as `hash` at time `now`: a current one is used up
    /// and replaced by `next` (same session); see [`Rotation`] for the rest.
    async fn rotate_refresh(
        &self,
        hash: &str,
        next: &str,
        now: i64,
        expires: i64,
    ) -> Result<Rotation>;

    /// A session by id.
    async fn session(&self, id: &str) -> Result<Option<FamilyRecord>>;

    /// Revokes one session; `false` when there was no such live session.
    async fn revoke_session(&self, id: &str) -> Result<bool>;

    /// Revokes every session of `name` except `keep`; returns how many were revoked.
    async fn revoke_sessions(&self, name: &str, keep: Option<&str>) -> Result<u64>;

    /// Stores an invite code.
    async fn create_invite(&self, invite: NewInvite) -> Result<()>;
}
