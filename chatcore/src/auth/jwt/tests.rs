use jsonwebtoken::{Algorithm, Header};

use super::*;
use crate::auth::authenticator::{Authenticator, Credentials, Identity};
use crate::{Error, Result};

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
    let t =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a)).expect("encode");
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
    let t =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a)).expect("encode");
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
    let t =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a)).expect("encode");
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
    let t =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing(&a)).expect("encode");
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
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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
