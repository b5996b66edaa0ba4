//! [`JwtAuthenticator`]: JSON Web Tokens signed with a shared HS256 secret or by an identity
//! provider's keys (RS256, ES256, EdDSA from a JWKS), optionally also letting guests in.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::EncodingKey;
use serde::{Deserialize, Serialize};

use super::keys::VerifyKey;

mod config;
mod sign;
mod verify;

/// Claims of a chatcore session token. Other claims (`iss`, `aud`, an identity provider's
/// own) are ignored unless configured.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user name.
    sub: String,
    /// Expiry, seconds since the Unix epoch (required).
    exp: u64,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    /// Set on tokens issued to guests (`POST /api/token`): a server that does not let guests
    /// in refuses them, so a guest token from one node is no credential on another.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    guest: bool,
    /// Every other claim (roles, tenant…), handed to the policy in [`Identity::claims`].
    ///
    /// [`Identity::claims`]: crate::auth::Identity::claims
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// Verifies JSON Web Tokens: the signature (HS256 with the shared secret, or RS256, ES256 or
/// EdDSA with a key of a JWKS, chosen by the token's `alg` and `kid`), `exp` (required, with
/// no leeway), a valid user name in `sub`, `aud` and `iss` when configured
/// ([`JwtAuthenticator::with_audience`], [`JwtAuthenticator::with_issuer`]; ignored
/// otherwise), and the guest mark: a token issued to a guest is refused unless guests are
/// allowed. Tokens of any other algorithm, including `alg: none`, are refused.
///
/// Cheap to clone; clones share the key set, so [`JwtAuthenticator::replace_jwks`] on one
/// (a periodic refresh from the identity provider) reaches the hub's copy.
#[derive(Clone)]
pub struct JwtAuthenticator {
    /// The HS256 secret's signing half, when this server issues tokens.
    signing: Option<EncodingKey>,
    /// The secret's verifying key, if any.
    secret: Option<VerifyKey>,
    /// Keys of the identity provider's JWKS.
    jwks: Arc<RwLock<Vec<VerifyKey>>>,
    audience: Option<Vec<String>>,
    issuer: Option<Vec<String>>,
    allow_guests: bool,
    token_ttl: Duration,
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("allow_guests", &self.allow_guests)
            .field("token_ttl", &self.token_ttl)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
