//! Issuing tokens: HS256 signatures with the shared secret.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};

use super::{Claims, JwtAuthenticator, unix_now};
use crate::{Error, Result, names};

impl JwtAuthenticator {
    /// Signs a token for `user` valid for `ttl`, whatever the guest setting (for account
    /// logins and tests). It is not marked as a guest's.
    pub fn sign(&self, user: &str, ttl: Duration) -> Result<String> {
        self.sign_claims(user, ttl, false)
    }

    /// Signs a token for `user` valid for `ttl` carrying `extra` claims besides `sub`, `exp`
    /// and `iat` (an account session's `sid` and `admin`). It is not marked as a guest's.
    pub fn sign_with(
        &self,
        user: &str,
        ttl: Duration,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<String> {
        self.sign_full(user, ttl, false, extra)
    }

    pub(super) fn sign_claims(&self, user: &str, ttl: Duration, guest: bool) -> Result<String> {
        self.sign_full(user, ttl, guest, serde_json::Map::new())
    }

    fn sign_full(
        &self,
        user: &str,
        ttl: Duration,
        guest: bool,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<String> {
        names::validate_user(user)?;
        let Some(signing) = &self.signing else {
            return Err(Error::Unauthorized(
                "this server verifies an identity provider's tokens and issues none".into(),
            ));
        };
        let now = unix_now();
        let claims = Claims {
            sub: user.to_owned(),
            exp: now + ttl.as_secs(),
            iat: Some(now),
            guest,
            extra,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing)
            .map_err(|e| Error::Config(format!("signing a token: {e}")))
    }
}
