//! Tokens: the test secret, a JWT authenticator with it, signed tokens, and base64url for
//! forging tokens by hand.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatcore::auth::JwtAuthenticator;

/// The JWT secret of test servers that use tokens.
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

/// A JWT authenticator with [`SECRET`]; `guests` lets people in by name without a token.
pub fn jwt(guests: bool) -> JwtAuthenticator {
    JwtAuthenticator::new(SECRET)
        .expect("secret")
        .with_guests(guests)
}

/// A valid token for `user`, good for ten minutes.
pub fn token(user: &str) -> String {
    jwt(false)
        .sign(user, Duration::from_secs(600))
        .expect("sign")
}

/// A valid token for `user` carrying the server-admin claim
/// ([`ADMIN_CLAIM`](chatcore::accounts::ADMIN_CLAIM)), good for ten minutes.
pub fn admin_token(user: &str) -> String {
    let mut claims = serde_json::Map::new();
    claims.insert(chatcore::accounts::ADMIN_CLAIM.into(), true.into());
    jwt(false)
        .sign_with(user, Duration::from_secs(600), claims)
        .expect("sign")
}

/// Unpadded base64url, the encoding of a JWT's parts, to forge tokens by hand.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64url_is_unpadded_and_url_safe() {
        assert_eq!(b64url(b"\xfb\xff"), "-_8");
        assert_eq!(b64url(br#"{"alg":"none"}"#), "eyJhbGciOiJub25lIn0");
    }

    #[tokio::test]
    async fn tokens_verify_with_the_test_secret() {
        use chatcore::auth::{Authenticator, Credentials};
        let identity = jwt(false)
            .authenticate(&Credentials::Token(token("ann")))
            .await;
        assert_eq!(identity.expect("valid").user, "ann");
    }
}
