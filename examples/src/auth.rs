//! Who may connect: the loopback-aware guest default and the JWT secret.
//!
//! The rule (DESIGN.md, "Defaults"): bound to loopback, a person may pick a name without a
//! password; bound to any other address, the server refuses to start unless a signing secret
//! or an explicit `--allow-guests` says who may connect.

use std::net::SocketAddr;
use std::sync::Arc;

use chatcore::auth::{Authenticator, JwtAuthenticator};

use crate::error::{Result, StartupError};

/// The authentication set-up the flags ask for.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthPolicy {
    /// Anyone may connect under any valid name. `POST /api/token` still works: tokens are
    /// signed with a random secret made at start-up, so they last until the process exits
    /// (nodes of a fleet need a shared `--jwt-secret` instead).
    GuestsOnly,
    /// HS256 tokens signed with the secret; guests too when `guests` is set (and then
    /// `POST /api/token` issues tokens).
    Jwt {
        /// The signing secret.
        secret: String,
        /// Whether guests are let in as well.
        guests: bool,
    },
    /// Tokens of an identity provider, verified with its JWKS (`--jwks-file`), no shared
    /// secret; guests too when `guests` is set (their tokens signed with a random secret, as
    /// for [`AuthPolicy::GuestsOnly`]).
    Provider {
        /// Whether guests are let in as well.
        guests: bool,
    },
}

impl std::fmt::Debug for AuthPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthPolicy::GuestsOnly => f.write_str("GuestsOnly"),
            AuthPolicy::Jwt { guests, .. } => f
                .debug_struct("Jwt")
                .field("secret", &"***")
                .field("guests", guests)
                .finish(),
            AuthPolicy::Provider { guests } => {
                f.debug_struct("Provider").field("guests", guests).finish()
            }
        }
    }
}

impl AuthPolicy {
    /// Decides from `--listen`, `--jwt-secret`, `--allow-guests` (absent = default for the
    /// address) and whether an identity provider's keys are given (`--jwks-file`). Refuses
    /// set-ups where anyone on the network could connect by accident, and set-ups where nobody
    /// could connect at all.
    pub fn decide(
        listen: SocketAddr,
        secret: Option<&str>,
        allow_guests: Option<bool>,
        provider: bool,
    ) -> Result<Self> {
        let loopback = listen.ip().is_loopback();
        let guests = allow_guests.unwrap_or(loopback);
        match secret.filter(|s| !s.is_empty()) {
            Some(secret) => {
                if secret.len() < JwtAuthenticator::MIN_SECRET_BYTES {
                    return Err(StartupError::Config(format!(
                        "--jwt-secret (CHATCORE_JWT_SECRET) has {} bytes; use at least {} \
                         random bytes, e.g. `openssl rand -hex 32`",
                        secret.len(),
                        JwtAuthenticator::MIN_SECRET_BYTES
                    )));
                }
                Ok(AuthPolicy::Jwt {
                    secret: secret.to_owned(),
                    guests,
                })
            }
            None if provider => Ok(AuthPolicy::Provider { guests }),
            None if guests => Ok(AuthPolicy::GuestsOnly),
            None if allow_guests == Some(false) => Err(StartupError::Config(
                "guests are turned off (--allow-guests=false) and no --jwt-secret is set, so \
                 nobody could log in; set CHATCORE_JWT_SECRET (32+ random bytes, e.g. `openssl \
                 rand -hex 32`) or allow guests"
                    .into(),
            )),
            None => Err(StartupError::Config(format!(
                "refusing to listen on {listen} without authentication: anyone who can reach \
                 it could chat under any name. Set a signing secret with --jwt-secret or \
                 CHATCORE_JWT_SECRET (32+ random bytes, e.g. `openssl rand -hex 32`) so only \
                 clients with signed tokens get in, or pass --allow-guests \
                 (CHATCORE_ALLOW_GUESTS=true) to let anyone pick a name"
            ))),
        }
    }

    /// `true` when guests are let in.
    pub fn allows_guests(&self) -> bool {
        match self {
            AuthPolicy::GuestsOnly => true,
            AuthPolicy::Jwt { guests, .. } | AuthPolicy::Provider { guests } => *guests,
        }
    }

    /// The authenticator for the hub.
    pub fn authenticator(&self) -> Result<Arc<dyn Authenticator>> {
        Ok(Arc::new(self.jwt(None)?))
    }

    /// The authenticator for the hub, also verifying the tokens of `provider`.
    pub fn jwt(&self, provider: Option<&TokenProvider>) -> Result<JwtAuthenticator> {
        let jwt = match self {
            AuthPolicy::GuestsOnly | AuthPolicy::Provider { .. } => {
                JwtAuthenticator::new(&ephemeral_secret()?)
                    .map_err(|e| StartupError::Config(format!("token signing: {e}")))?
            }
            AuthPolicy::Jwt { secret, .. } => JwtAuthenticator::new(secret.as_bytes())
                .map_err(|e| StartupError::Config(format!("--jwt-secret: {e}")))?,
        };
        let mut jwt = jwt.with_guests(self.allows_guests());
        if let Some(p) = provider.filter(|p| !p.jwks.is_empty()) {
            jwt = jwt
                .with_jwks(&p.jwks)
                .map_err(|e| StartupError::Config(format!("--jwks-file: {e}")))?;
        }
        if let Some(p) = provider.filter(|p| !p.audience.is_empty()) {
            jwt = jwt.with_audience(p.audience.iter().cloned());
        }
        if let Some(p) = provider.filter(|p| !p.issuer.is_empty()) {
            jwt = jwt.with_issuer(p.issuer.iter().cloned());
        }
        Ok(jwt)
    }

    /// One line for the start-up log.
    pub fn describe(&self) -> &'static str {
        match self {
            AuthPolicy::GuestsOnly => "guests (anyone may pick a name; tokens last until restart)",
            AuthPolicy::Jwt { guests: true, .. } => "signed tokens, and guests",
            AuthPolicy::Jwt { guests: false, .. } => "signed tokens only",
            AuthPolicy::Provider { guests: true } => "identity provider tokens, and guests",
            AuthPolicy::Provider { guests: false } => "identity provider tokens only",
        }
    }
}

/// Tokens of an identity provider: its key set and the claims they must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenProvider {
    /// The JWKS document (`--jwks-file`); empty when only claims are required.
    pub jwks: String,
    /// Accepted `aud` values (`--jwt-audience`); empty: `aud` is not checked.
    pub audience: Vec<String>,
    /// Accepted `iss` values (`--jwt-issuer`); empty: `iss` is not checked.
    pub issuer: Vec<String>,
}

/// 32 random bytes from the operating system, for signing tokens of a guests-only server.
fn ephemeral_secret() -> Result<[u8; 32]> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| {
        StartupError::Config(format!("no randomness for a token signing secret: {e}"))
    })?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    #[test]
    fn loopback_lets_guests_in_by_default() {
        for a in ["127.0.0.1:8080", "[::1]:8080"] {
            assert_eq!(
                AuthPolicy::decide(addr(a), None, None, false).ok(),
                Some(AuthPolicy::GuestsOnly)
            );
        }
    }

    #[test]
    fn public_address_needs_a_secret_or_the_flag() {
        let public = addr("0.0.0.0:8080");
        let msg = AuthPolicy::decide(public, None, None, false)
            .expect_err("must refuse")
            .to_string();
        assert!(
            msg.contains("--jwt-secret") && msg.contains("--allow-guests"),
            "{msg}"
        );
        assert_eq!(
            AuthPolicy::decide(public, None, Some(true), false).ok(),
            Some(AuthPolicy::GuestsOnly)
        );
        assert_eq!(
            AuthPolicy::decide(public, Some(SECRET), None, false).ok(),
            Some(AuthPolicy::Jwt {
                secret: SECRET.into(),
                guests: false
            })
        );
    }

    #[test]
    fn an_identity_provider_is_enough_on_a_public_address() {
        let public = addr("0.0.0.0:8080");
        let policy = AuthPolicy::decide(public, None, None, true).expect("policy");
        assert_eq!(policy, AuthPolicy::Provider { guests: false });
        let bad = TokenProvider {
            jwks: "{\"keys\":[]}".into(),
            audience: vec![],
            issuer: vec![],
        };
        let msg = policy.jwt(Some(&bad)).expect_err("no keys").to_string();
        assert!(msg.contains("--jwks-file"), "{msg}");
        let auth = policy.authenticator().expect("auth");
        assert!(!auth.allows_guests() && auth.issue_token("ann").is_err());
    }

    #[test]
    fn nobody_could_log_in_is_refused() {
        assert!(AuthPolicy::decide(addr("127.0.0.1:1"), None, Some(false), false).is_err());
    }

    #[test]
    fn short_secret_is_refused_and_never_echoed() {
        let msg = AuthPolicy::decide(addr("127.0.0.1:1"), Some("tiny-secret"), None, false)
            .expect_err("short")
            .to_string();
        assert!(!msg.contains("tiny-secret"), "{msg}");
        assert!(msg.contains("32"), "{msg}");
    }

    #[test]
    fn secret_with_guests_builds_an_issuing_authenticator() {
        let policy =
            AuthPolicy::decide(addr("127.0.0.1:1"), Some(SECRET), None, false).expect("policy");
        assert!(policy.allows_guests());
        let auth = policy.authenticator().expect("auth");
        assert!(auth.allows_guests());
        assert!(auth.issue_token("ann").is_ok());
        assert!(!format!("{policy:?}").contains(SECRET));
    }

    #[test]
    fn guests_only_servers_issue_tokens_that_other_processes_reject() {
        let policy = AuthPolicy::decide(addr("127.0.0.1:1"), None, None, false).expect("policy");
        let here = policy.authenticator().expect("auth");
        let token = here.issue_token("ann").expect("token");
        let elsewhere = policy.authenticator().expect("auth");
        let other = elsewhere.issue_token("ann").expect("token");
        assert_ne!(
            token, other,
            "each start-up signs with its own random secret"
        );
    }
}
