//! The keys a [`JwtAuthenticator`](super::JwtAuthenticator) verifies with: its own HS256
//! secret, and public keys (RS256, ES256, EdDSA) from a JSON Web Key Set, so an embedder can
//! take the tokens of its identity provider without sharing a secret with it.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Header};

use crate::{Error, Result};

/// One verifying key and the only algorithm it verifies (so a token cannot pick another,
/// such as HS256 with the public key as the secret).
#[derive(Clone)]
pub(super) struct VerifyKey {
    /// The JWK's `kid`, matched against a token header's `kid` when both have one.
    pub(super) kid: Option<String>,
    pub(super) alg: Algorithm,
    pub(super) key: DecodingKey,
}

impl VerifyKey {
    /// The HS256 key of a shared secret.
    pub(super) fn secret(secret: &[u8]) -> Self {
        Self {
            kid: None,
            alg: Algorithm::HS256,
            key: DecodingKey::from_secret(secret),
        }
    }
}

/// The verifying keys of a JWKS document (`{"keys":[…]}`). Keys for encryption (`use: enc`)
/// are skipped; a key of another algorithm, or a set with no usable key, is an error.
pub(super) fn from_jwks(json: &str) -> Result<Vec<VerifyKey>> {
    let set: JwkSet = serde_json::from_str(json)
        .map_err(|e| Error::Config(format!("the JWKS is not a JSON Web Key Set: {e}")))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        ) {
            continue;
        }
        let alg = algorithm(jwk)?;
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| Error::Config(format!("JWKS key {:?}: {e}", jwk.common.key_id)))?;
        keys.push(VerifyKey {
            kid: jwk.common.key_id.clone(),
            alg,
            key,
        });
    }
    if keys.is_empty() {
        return Err(Error::Config("the JWKS has no signing key".into()));
    }
    Ok(keys)
}

/// The algorithm of a JWK: its `alg` when given, else what its key type implies.
fn algorithm(jwk: &Jwk) -> Result<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        _ => None,
    };
    let named = match jwk.common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
        Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
        Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
        Some(other) => {
            return Err(Error::Config(format!(
                "JWKS key {:?} is for {other:?}; supported are RS256, ES256 and EdDSA",
                jwk.common.key_id
            )));
        }
    };
    match (named, implied) {
        (Some(named), Some(implied)) if named == implied => Ok(named),
        (None, Some(implied)) => Ok(implied),
        _ => Err(Error::Config(format!(
            "JWKS key {:?}: its key type does not fit {:?}; supported are RSA (RS256), P-256 \
             (ES256) and Ed25519 (EdDSA)",
            jwk.common.key_id, named
        ))),
    }
}

/// The key that verifies a token with `header`: same algorithm, and the same `kid` when the
/// key and the token both name one.
pub(super) fn find<'a>(keys: &'a [VerifyKey], header: &Header) -> Option<&'a VerifyKey> {
    let candidates = keys.iter().filter(|k| k.alg == header.alg);
    let mut fallback = None;
    for key in candidates {
        match (&key.kid, &header.kid) {
            (Some(a), Some(b)) if a == b => return Some(key),
            (Some(_), Some(_)) => {}
            _ => {
                fallback.get_or_insert(key);
            }
        }
    }
    fallback
}
