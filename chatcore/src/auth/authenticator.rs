//! Credentials, identities and the [`Authenticator`] trait, with the guest authenticator.

use crate::{Error, Result, names};

/// What a client presented at the handshake. `#[non_exhaustive]`: transports may learn new
/// ways to present an identity (a cookie session, an API key); an [`Authenticator`] refuses
/// kinds it does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A bearer token (a JWT).
    Token(String),
    /// A guest asking for a name, without a password.
    Guest(String),
}

/// An authenticated user.
///
/// Built with [`Identity::new`]; an [`Authenticator`] may attach the claims it extracted
/// (roles, tenant, customer id…) with [`Identity::with_claims`] so a
/// [`Policy`](crate::policy::Policy) can decide by the host's own rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The user name (validated by [`names::validate_user`]).
    pub user: String,
    /// Claims the authenticator extracted besides the user name (for a JWT: every claim
    /// except `sub`, `exp` and `iat`). Never interpreted by the engine; empty by default.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl Identity {
    /// An identity with no claims.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            claims: serde_json::Map::new(),
        }
    }

    /// The same identity carrying `claims`.
    pub fn with_claims(mut self, claims: serde_json::Map<String, serde_json::Value>) -> Self {
        self.claims = claims;
        self
    }

    /// One claim, if present.
    pub fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        self.claims.get(name)
    }
}

/// Decides who a connecting client is.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// Checks credentials. Failures are [`Error::Unauthorized`] with a reason a user can act on.
    async fn authenticate(&self, credentials: &Credentials) -> Result<Identity>;

    /// `true` when guests (a name, no secret) are let in.
    fn allows_guests(&self) -> bool;

    /// Issues a session token for `user`, for development set-ups that let guests in. Fails
    /// when this authenticator cannot sign tokens or does not allow guests.
    fn issue_token(&self, user: &str) -> Result<String> {
        let _ = user;
        Err(Error::Unauthorized(
            "this server does not issue tokens".into(),
        ))
    }
}

/// Lets anyone in under any valid name, without a password. The default for a server bound to
/// loopback; tokens are not accepted.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuestAuthenticator;

#[async_trait::async_trait]
impl Authenticator for GuestAuthenticator {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Identity> {
        guest_identity(credentials)
    }

    fn allows_guests(&self) -> bool {
        true
    }
}

pub(super) fn guest_identity(credentials: &Credentials) -> Result<Identity> {
    match credentials {
        Credentials::Guest(name) => {
            names::validate_user(name).map_err(|e| Error::Unauthorized(e.to_string()))?;
            Ok(Identity::new(name.clone()))
        }
        Credentials::Token(_) => Err(Error::Unauthorized(
            "this server has no signing secret and accepts no tokens; connect as a guest".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn guest_accepts_valid_names_only() {
        let auth = GuestAuthenticator;
        let id = auth
            .authenticate(&Credentials::Guest("ann".into()))
            .await
            .expect("guest");
        assert_eq!(id.user, "ann");
        for bad in ["", "a b", "a:b"] {
            let err = auth
                .authenticate(&Credentials::Guest(bad.into()))
                .await
                .expect_err(bad);
            assert!(matches!(err, Error::Unauthorized(_)));
        }
        assert!(
            auth.authenticate(&Credentials::Token("x".into()))
                .await
                .is_err()
        );
    }
}
