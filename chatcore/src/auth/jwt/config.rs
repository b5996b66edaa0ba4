//! Building a [`JwtAuthenticator`]: the secret or the identity provider's key set, and the
//! `with_*` settings (audience, issuer, guests, token lifetime).

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use jsonwebtoken::EncodingKey;

use super::JwtAuthenticator;
use crate::auth::keys::{self, VerifyKey};
use crate::{Error, Result};

impl JwtAuthenticator {
    /// Shortest accepted secret, in bytes: HS256 with less is guessable.
    pub const MIN_SECRET_BYTES: usize = 32;

    /// An authenticator for `secret`. Guests are refused and issued tokens live 24 hours until
    /// changed with the `with_*` setters.
    pub fn new(secret: &[u8]) -> Result<Self> {
        if secret.len() < Self::MIN_SECRET_BYTES {
            return Err(Error::Config(format!(
                "the JWT secret has {} bytes; use at least {} random bytes",
                secret.len(),
                Self::MIN_SECRET_BYTES
            )));
        }
        Ok(Self {
            signing: Some(EncodingKey::from_secret(secret)),
            secret: Some(VerifyKey::secret(secret)),
            ..Self::empty()
        })
    }

    /// An authenticator that verifies the tokens of an identity provider with the public keys
    /// of its JSON Web Key Set (`{"keys":[…]}`, RS256, ES256 or EdDSA) and issues none.
    pub fn from_jwks(jwks: &str) -> Result<Self> {
        Self::empty().with_jwks(jwks)
    }

    fn empty() -> Self {
        Self {
            signing: None,
            secret: None,
            jwks: Arc::default(),
            audience: None,
            issuer: None,
            allow_guests: false,
            token_ttl: Duration::from_secs(24 * 3600),
        }
    }

    /// Also verifies with the keys of `jwks`, replacing any key set given before.
    pub fn with_jwks(self, jwks: &str) -> Result<Self> {
        self.replace_jwks(jwks)?;
        Ok(self)
    }

    /// Replaces the key set, for every clone of this authenticator (a refresh after the
    /// identity provider rotated its keys). A set that does not parse changes nothing.
    pub fn replace_jwks(&self, jwks: &str) -> Result<()> {
        let keys = keys::from_jwks(jwks)?;
        *self.jwks.write().unwrap_or_else(PoisonError::into_inner) = keys;
        Ok(())
    }

    /// Requires `aud` to name one of `audiences`. Default: `aud` is not checked.
    pub fn with_audience<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// Requires `iss` to be one of `issuers`. Default: `iss` is not checked.
    pub fn with_issuer<I, S>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.issuer = Some(issuers.into_iter().map(Into::into).collect());
        self
    }

    /// Also lets guests in (a name without a token, and guest tokens). Default: off.
    pub fn with_guests(mut self, allow: bool) -> Self {
        self.allow_guests = allow;
        self
    }

    /// Lifetime of tokens from [`Authenticator::issue_token`]. Default: 24 hours.
    ///
    /// [`Authenticator::issue_token`]: crate::auth::Authenticator::issue_token
    pub fn with_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }
}
