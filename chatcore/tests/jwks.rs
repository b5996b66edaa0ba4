//! Tokens of an identity provider: RS256, ES256 and EdDSA keys generated here, published as a JWKS the way a
//! provider does, verified without any shared secret.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatcore::auth::{Authenticator, Credentials, JwtAuthenticator};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;

/// A key pair of an identity provider: the signing key, its algorithm and its public JWK.
struct Provider {
    alg: Algorithm,
    signing: EncodingKey,
    jwk: serde_json::Value,
}

impl Provider {
    /// An RSA-2048 key for RS256.
    fn generate(kid: &str) -> Self {
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("RSA key");
        let der = key.to_pkcs1_der().expect("DER");
        let jwk = serde_json::json!({
            "kty": "RSA",
            "kid": kid,
            "use": "sig",
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        });
        Self {
            alg: Algorithm::RS256,
            signing: EncodingKey::from_rsa_der(der.as_bytes()),
            jwk,
        }
    }

    /// A P-256 key for ES256.
    fn es256(kid: &str) -> Self {
        let key = p256::SecretKey::random(&mut rand_core::OsRng);
        let der = key.to_pkcs8_der().expect("PKCS#8");
        let point = key.public_key().to_encoded_point(false);
        let jwk = serde_json::json!({
            "kty": "EC",
            "kid": kid,
            "use": "sig",
            "alg": "ES256",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        });
        Self {
            alg: Algorithm::ES256,
            signing: EncodingKey::from_ec_der(der.as_bytes()),
            jwk,
        }
    }

    /// An Ed25519 key for EdDSA.
    fn eddsa(kid: &str) -> Self {
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let der = key.to_pkcs8_der().expect("PKCS#8");
        let jwk = serde_json::json!({
            "kty": "OKP",
            "kid": kid,
            "use": "sig",
            "alg": "EdDSA",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        });
        Self {
            alg: Algorithm::EdDSA,
            signing: EncodingKey::from_ed_der(der.as_bytes()),
            jwk,
        }
    }

    fn token(&self, kid: Option<&str>, claims: &serde_json::Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.signing).expect("sign")
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn claims(sub: &str) -> serde_json::Value {
    serde_json::json!({
        "sub": sub,
        "exp": now() + 300,
        "iat": now(),
        "iss": "https://idp.example",
        "aud": "chat",
    })
}

async fn verify(auth: &JwtAuthenticator, token: String) -> chatcore::Result<String> {
    auth.authenticate(&Credentials::Token(token))
        .await
        .map(|id| id.user)
}

#[tokio::test]
async fn rs256_from_a_jwks_file_is_accepted_and_another_key_refused() {
    let provider = Provider::generate("k1");
    let stranger = Provider::generate("k1");
    let dir = std::env::temp_dir().join(format!("chatcore-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("jwks.json");
    let jwks = serde_json::json!({ "keys": [provider.jwk] });
    std::fs::write(&file, jwks.to_string()).expect("write JWKS");

    let read = std::fs::read_to_string(&file).expect("read JWKS");
    let auth = JwtAuthenticator::from_jwks(&read)
        .expect("JWKS")
        .with_audience(["chat"])
        .with_issuer(["https://idp.example"]);
    let good = provider.token(Some("k1"), &claims("ann"));
    assert_eq!(verify(&auth, good).await.expect("accepted"), "ann");
    let no_kid = provider.token(None, &claims("bob"));
    assert_eq!(verify(&auth, no_kid).await.expect("accepted"), "bob");

    let forged = stranger.token(Some("k1"), &claims("ann"));
    assert!(verify(&auth, forged).await.is_err(), "another key's token");
    let unknown_kid = provider.token(Some("k9"), &claims("ann"));
    assert!(verify(&auth, unknown_kid).await.is_err(), "unknown kid");
    let mut wrong_aud = claims("ann");
    wrong_aud["aud"] = "billing".into();
    assert!(
        verify(&auth, provider.token(Some("k1"), &wrong_aud))
            .await
            .is_err()
    );
    assert!(
        auth.issue_token("ann").is_err(),
        "a JWKS server issues no tokens"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn the_public_key_is_no_hs256_secret_and_keys_rotate() {
    let provider = Provider::generate("k1");
    let jwks = serde_json::json!({ "keys": [provider.jwk] }).to_string();
    let auth = JwtAuthenticator::from_jwks(&jwks).expect("JWKS");
    // Algorithm confusion: HS256 signed with the public key's bytes as the secret.
    let n = provider.jwk["n"].as_str().expect("n");
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("ann"),
        &EncodingKey::from_secret(n.as_bytes()),
    )
    .expect("sign");
    assert!(verify(&auth, confused).await.is_err());

    let next = Provider::generate("k2");
    auth.replace_jwks(&serde_json::json!({ "keys": [next.jwk] }).to_string())
        .expect("rotate");
    assert!(
        verify(&auth, provider.token(Some("k1"), &claims("ann")))
            .await
            .is_err()
    );
    assert_eq!(
        verify(&auth, next.token(Some("k2"), &claims("ann")))
            .await
            .expect("new key"),
        "ann"
    );
    assert!(
        auth.replace_jwks("{\"keys\":[]}").is_err(),
        "an empty set changes nothing"
    );
    assert!(
        verify(&auth, next.token(Some("k2"), &claims("ann")))
            .await
            .is_ok()
    );
}

#[test]
fn malformed_key_sets_are_config_errors() {
    for bad in [
        "",
        "[]",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
    ] {
        assert!(JwtAuthenticator::from_jwks(bad).is_err(), "{bad}");
    }
}

/// Each key verifies its own algorithm only: an ES256 and an EdDSA key in one set accept
/// their own tokens, refuse another key's, and a token whose header names the other
/// algorithm under a key's kid is refused.
#[tokio::test]
async fn es256_and_eddsa_keys_verify_their_own_algorithm_only() {
    let ec = Provider::es256("ec");
    let ed = Provider::eddsa("ed");
    let jwks = serde_json::json!({ "keys": [ec.jwk, ed.jwk] }).to_string();
    let auth = JwtAuthenticator::from_jwks(&jwks).expect("JWKS");
    assert_eq!(
        verify(&auth, ec.token(Some("ec"), &claims("ann")))
            .await
            .expect("ES256"),
        "ann"
    );
    assert_eq!(
        verify(&auth, ed.token(Some("ed"), &claims("bob")))
            .await
            .expect("EdDSA"),
        "bob"
    );
    // A stranger's keys of the same algorithms, under the same kids.
    let forged_ec = Provider::es256("ec").token(Some("ec"), &claims("ann"));
    assert!(verify(&auth, forged_ec).await.is_err(), "another P-256 key");
    let forged_ed = Provider::eddsa("ed").token(Some("ed"), &claims("ann"));
    assert!(
        verify(&auth, forged_ed).await.is_err(),
        "another Ed25519 key"
    );
    // The right signer, but under the other key's kid: that key's algorithm does not match.
    assert!(
        verify(&auth, ed.token(Some("ec"), &claims("ann")))
            .await
            .is_err()
    );
    assert!(
        verify(&auth, ec.token(Some("ed"), &claims("ann")))
            .await
            .is_err()
    );
    let mut expired = claims("ann");
    expired["exp"] = (now() - 600).into();
    assert!(verify(&auth, ec.token(Some("ec"), &expired)).await.is_err());
}
