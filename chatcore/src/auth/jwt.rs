//! [`JwtAuthenticator`]: HS256 JSON Web Tokens, optionally also letting guests in.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::authenticator::{Authenticator, Credentials, Identity, guest_identity};
use crate::{Error, Result, names};

/// Claims of a chatcore session token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user name.
    sub: String,
    /// Expiry, seconds since the Unix epoch (required).
    exp: u64,
    /// Issued at, seconds since the Unix epoch.
    iat: u64,
    /// Every other claim (roles, tenant…), handed to the policy in [`Identity::claims`].
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// Verifies HS256 tokens signed with a shared secret: the signature, `exp` (required, with no
/// leeway) and a valid user name in `sub`. Tokens with any other algorithm, including
/// `alg: none`, are refused.
#[derive(Clone)]
pub struct JwtAuthenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    allow_guests: bool,
    token_ttl: Duration,
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("allow_guests", &self.allow_guests)
            .field("token_ttl", &self.token_ttl)
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
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            allow_guests: false,
            token_ttl: Duration::from_secs(24 * 3600),
        })
    }

    /// Also lets guests in (a name without a token). Default: off.
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
    /// logins and tests).
    pub fn sign(&self, user: &str, ttl: Duration) -> Result<String> {
        names::validate_user(user)?;
        let now = unix_now();
        let claims = Claims {
            sub: user.to_owned(),
            exp: now + ttl.as_secs(),
            iat: now,
            extra: serde_json::Map::new(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Config(format!("signing a token: {e}")))
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
                let data = jsonwebtoken::decode::<Claims>(
                    token.as_bytes(),
                    &self.decoding,
                    &self.validation,
                )
                .map_err(|e| Error::Unauthorized(format!("invalid token: {e}")))?;
                names::validate_user(&data.claims.sub)
                    .map_err(|e| Error::Unauthorized(format!("token subject: {e}")))?;
                Ok(Identity::new(data.claims.sub).with_claims(data.claims.extra))
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
        self.sign(user, self.token_ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn auth() -> JwtAuthenticator {
        JwtAuthenticator::new(SECRET).expect("secret")
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
            iat: unix_now(),
            extra,
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &a.encoding)
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
            iat: unix_now() - 100,
            extra: serde_json::Map::new(),
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &a.encoding)
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
            iat: unix_now(),
            extra: serde_json::Map::new(),
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &a.encoding)
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
