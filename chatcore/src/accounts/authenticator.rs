//! [`AccountAuthenticator`]: another authenticator (usually the JWT one) plus the account
//! checks that make account sessions revocable and registered names safe from guests.

use std::sync::Arc;

use super::backend::Accounts;
use super::name::name_key;
use crate::auth::{Authenticator, Credentials, Identity};
use crate::{Error, Result};

/// The access-token claim naming the session (refresh-token family) the token was issued
/// for. A token with it is an account's; the session must still be live.
pub const FAMILY_CLAIM: &str = "sid";
/// The access-token claim that marks a server admin (`"admin": true`).
pub const ADMIN_CLAIM: &str = "admin";
/// Whether `identity` is a server admin: its [`ADMIN_CLAIM`] is the boolean `true` (any
/// other value is no admin).
pub fn is_server_admin(identity: &crate::auth::Identity) -> bool {
    identity.claim(ADMIN_CLAIM) == Some(&serde_json::Value::Bool(true))
}

/// The claim the JWT authenticator sets on a guest's token.
const GUEST_CLAIM: &str = "guest";

/// Wraps an authenticator with the account rules:
///
/// - a token carrying a [`FAMILY_CLAIM`] (issued at login) is accepted only while that
///   session is live and belongs to the token's user: logout, a password change, a deleted
///   account or a replayed refresh token end it at once, not when the token expires. One
///   store look-up per handshake, none per message;
/// - a guest (a name without a password, or a guest token) may not use a registered name,
///   in any form with the same [`name_key`];
/// - any other token (an embedder's own identity provider) is the inner authenticator's
///   business alone, so an embedder's JWTs keep working with accounts on.
#[derive(Clone)]
pub struct AccountAuthenticator {
    inner: Arc<dyn Authenticator>,
    accounts: Arc<dyn Accounts>,
}

impl std::fmt::Debug for AccountAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountAuthenticator")
            .field("allows_guests", &self.inner.allows_guests())
            .finish_non_exhaustive()
    }
}

impl AccountAuthenticator {
    /// `inner` (which verifies signatures) checked against `accounts`.
    pub fn new(inner: Arc<dyn Authenticator>, accounts: Arc<dyn Accounts>) -> Self {
        Self { inner, accounts }
    }

    async fn refuse_registered(&self, identity: Identity) -> Result<Identity> {
        if self.accounts.account(&identity.user).await?.is_some() {
            return Err(Error::Unauthorized(format!(
                "the name {:?} belongs to a registered account; sign in with its password",
                identity.user
            )));
        }
        Ok(identity)
    }
}

#[async_trait::async_trait]
impl Authenticator for AccountAuthenticator {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Identity> {
        let identity = self.inner.authenticate(credentials).await?;
        if matches!(credentials, Credentials::Guest(_))
            || identity.claim(GUEST_CLAIM) == Some(&serde_json::Value::Bool(true))
        {
            return self.refuse_registered(identity).await;
        }
        let Some(sid) = identity.claim(FAMILY_CLAIM) else {
            return Ok(identity);
        };
        let sid = sid
            .as_str()
            .ok_or_else(|| Error::Unauthorized("invalid token: `sid` is not a string".into()))?;
        match self.accounts.session(sid).await? {
            Some(s) if !s.revoked && s.account == name_key(&identity.user) => Ok(identity),
            _ => Err(Error::Unauthorized(
                "this session was signed out or its account deleted; sign in again".into(),
            )),
        }
    }

    fn allows_guests(&self) -> bool {
        self.inner.allows_guests()
    }

    fn issue_token(&self, user: &str) -> Result<String> {
        self.inner.issue_token(user)
    }
}
