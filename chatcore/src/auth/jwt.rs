//! [`JwtAuthenticator`]: JSON Web Tokens signed with a shared HS256 secret or by an identity
//! provider's keys (RS256, ES256, EdDSA from a JWKS), optionally also letting guests in.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::authenticator::{Authenticator, Credentials, Identity, guest_identity};
use super::keys::{self, VerifyKey};
use crate::{Error, Result, names};

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
    pub fn with_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

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

    fn sign_claims(&self, user: &str, ttl: Duration, guest: bool) -> Result<String> {
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

    /// The checks of a token signed with `alg`.
    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = 0;
        let mut required = vec!["exp", "sub"];
        match &self.audience {
            Some(audience) => {
                validation.set_audience(audience);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(issuer);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// Verifies `token` and returns its claims.
    fn verify(&self, token: &str) -> Result<Claims> {
        let invalid =
            |e: jsonwebtoken::errors::Error| Error::Unauthorized(format!("invalid token: {e}"));
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        let jwks = self.jwks.read().unwrap_or_else(PoisonError::into_inner);
        let key = match header.alg {
            Algorithm::HS256 => self.secret.as_ref(),
            _ => keys::find(&jwks, &header),
        }
        .ok_or_else(|| {
            Error::Unauthorized(format!(
                "invalid token: no key of this server verifies {:?} tokens{}",
                header.alg,
                header
                    .kid
                    .as_ref()
                    .map(|k| format!(" with kid {k:?}"))
                    .unwrap_or_default()
            ))
        })?;
        let data =
            jsonwebtoken::decode::<Claims>(token.as_bytes(), &key.key, &self.validation(key.alg))
                .map_err(invalid)?;
        Ok(data.claims)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[async_trait::async_trait]
impl Authenticator for JwtAuthenticator {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Identity> {
        match credentials {
            Credentials::Token(token) => {
                let claims = self.verify(token)?;
                if claims.guest && !self.allow_guests {
                    return Err(Error::Unauthorized(
                        "this is a guest's token and this server does not let guests in".into(),
                    ));
                }
                names::validate_user(&claims.sub)
                    .map_err(|e| Error::Unauthorized(format!("token subject: {e}")))?;
                let mut extra = claims.extra;
                if claims.guest {
                    extra.insert("guest".into(), serde_json::Value::Bool(true));
                }
                Ok(Identity::new(claims.sub).with_claims(extra))
            }
            Credentials::Guest(_) if self.allow_guests => guest_identity(credentials),
            Credentials::Guest(_) => Err(Error::Unauthorized(
                "guests are not allowed on this server; present a token".into(),
            )),
        }
    }

    fn allows_guests(&self) -> bool {
        self.allow_guests
    }

    fn issue_token(&self, user: &str) -> Result<String> {
        if !self.allow_guests {
            return Err(Error::Unauthorized(
                "this server issues tokens only while guests are allowed".into(),
            ));
        }
        self.sign_claims(user, self.token_ttl, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn auth() -> JwtAuthenticator {
        JwtAuthenticator::new(SECRET).expect("secret")
    }

    fn signing(a: &JwtAuthenticator) -> &EncodingKey {
        a.signing.as_ref().expect("a secret")
    }

    async fn check(a: &JwtAuthenticator, token: &str) -> Result<Identity> {
        a.authenticate(&Credentials::Token(token.to_owned())).await
    }

    #[tokio::test]
    async fn signed_token_authenticates() {
        let a = auth();
        let t = a.sign("ann", Duration::from_secs(60)).expect("sign");
        assert_eq!(check(&a, &t).await.expect("valid").user, "ann");
    }

    #[tokio::test]
    async fn extra_claims_reach_the_identity() {
        let a = auth();
        let mut extra = serde_json::Map::new();
        extra.insert("roles".into(), serde_json::json!(["staff"]));
        let claims = Claims {
            sub: "ann".into(),
            exp: unix_now() + 60,
            iat: Some(unix_now()),
            guest: false,
            extra,
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a))
            .expect("encode");
        let who = check(&a, &t).await.expect("valid");
        assert_eq!(who.claim("roles"), Some(&serde_json::json!(["staff"])));
        assert_eq!(
            who.claim("sub"),
            None,
            "sub is the user, not an extra claim"
        );
    }

    #[tokio::test]
    async fn forged_signature_is_refused() {
        let other = JwtAuthenticator::new(b"another-secret-another-secret-xx").expect("secret");
        let t = other.sign("ann", Duration::from_secs(60)).expect("sign");
        assert!(matches!(
            check(&auth(), &t).await,
            Err(Error::Unauthorized(_))
        ));
    }

    #[tokio::test]
    async fn expired_token_is_refused() {
        let a = auth();
        let claims = Claims {
            sub: "ann".into(),
            exp: unix_now() - 10,
            iat: Some(unix_now() - 100),
            guest: false,
            extra: serde_json::Map::new(),
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a))
            .expect("encode");
        let err = check(&a, &t).await.expect_err("expired");
        assert!(err.to_string().contains("xpired"), "{err}");
    }

    #[tokio::test]
    async fn alg_none_is_refused() {
        use base64_free::b64;
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let body = b64(format!(r#"{{"sub":"ann","exp":{}}}"#, unix_now() + 60).as_bytes());
        let t = format!("{header}.{body}.");
        assert!(matches!(
            check(&auth(), &t).await,
            Err(Error::Unauthorized(_))
        ));
    }

    #[tokio::test]
    async fn garbage_and_bad_subjects_are_refused() {
        let a = auth();
        for t in ["", "a.b.c", "not a token", &"x".repeat(10_000)] {
            assert!(check(&a, t).await.is_err(), "{t:.20}");
        }
        let claims = Claims {
            sub: "bad name".into(),
            exp: unix_now() + 60,
            iat: Some(unix_now()),
            guest: false,
            extra: serde_json::Map::new(),
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a))
            .expect("encode");
        assert!(check(&a, &t).await.is_err());
    }

    #[tokio::test]
    async fn guests_only_when_enabled() {
        let guest = Credentials::Guest("ann".into());
        assert!(auth().authenticate(&guest).await.is_err());
        assert!(auth().issue_token("ann").is_err());
        let open = auth().with_guests(true);
        assert_eq!(open.authenticate(&guest).await.expect("guest").user, "ann");
        let t = open.issue_token("ann").expect("issue");
        assert_eq!(check(&open, &t).await.expect("valid").user, "ann");
    }

    #[tokio::test]
    async fn guest_tokens_need_a_server_that_lets_guests_in() {
        let open = auth().with_guests(true);
        let guest = open.issue_token("ann").expect("issue");
        let closed = auth();
        let err = check(&closed, &guest)
            .await
            .expect_err("guest token on a guests-off server");
        assert!(err.to_string().contains("guest"), "{err}");
        // A token signed for an account is not a guest's.
        let account = closed.sign("ann", Duration::from_secs(60)).expect("sign");
        assert_eq!(check(&closed, &account).await.expect("valid").user, "ann");
    }

    #[tokio::test]
    async fn aud_and_iss_are_checked_when_configured_and_ignored_otherwise() {
        let a = auth();
        let claims = serde_json::json!({
            "sub": "ann", "exp": unix_now() + 60, "aud": ["chat", "other"], "iss": "https://idp.example"
        });
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a))
            .expect("encode");
        assert_eq!(check(&a, &t).await.expect("aud/iss ignored").user, "ann");
        let strict = auth()
            .with_audience(["chat"])
            .with_issuer(["https://idp.example"]);
        assert_eq!(check(&strict, &t).await.expect("match").user, "ann");
        let other_aud = auth().with_audience(["billing"]);
        assert!(check(&other_aud, &t).await.is_err());
        let other_iss = auth().with_issuer(["https://evil.example"]);
        assert!(check(&other_iss, &t).await.is_err());
        let bare = a.sign("ann", Duration::from_secs(60)).expect("sign");
        assert!(
            check(&strict, &bare).await.is_err(),
            "aud/iss required once configured"
        );
    }

    #[test]
    fn short_secret_is_a_config_error() {
        assert!(matches!(
            JwtAuthenticator::new(b"short"),
            Err(Error::Config(_))
        ));
    }

    /// Unpadded base64url, just enough to forge a token by hand.
    mod base64_free {
        pub(super) fn b64(bytes: &[u8]) -> String {
            const T: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                    << (8 * (3 - chunk.len()));
                for i in 0..=chunk.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }
}
