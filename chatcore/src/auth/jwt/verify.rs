//! Verifying tokens: the signature, `exp`, `aud`, `iss` and the guest mark, and the
//! [`Authenticator`] implementation built on it.

use std::sync::PoisonError;

use jsonwebtoken::{Algorithm, Validation};

use super::{Claims, JwtAuthenticator};
use crate::auth::authenticator::{Authenticator, Credentials, Identity, guest_identity};
use crate::auth::keys;
use crate::{Error, Result, names};

impl JwtAuthenticator {
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
