//! Opaque secrets (refresh tokens, invite codes) and their stored hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A new random secret: 256 bits from the OS, base64url (43 characters).
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is not something to serve through: every secret would be
    // guessable. getrandom only fails on platforms without one.
    #[allow(clippy::expect_used, reason = "no randomness, no safe secrets")]
    getrandom::fill(&mut bytes).expect("the OS random number generator");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a secret: its SHA-256, hex.
pub(crate) fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new session id (not secret: it travels inside signed access tokens).
pub(crate) fn family_id() -> String {
    hash_secret(&new_secret())[..32].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_secret("abc").len(), 64);
        assert_eq!(hash_secret("abc"), hash_secret("abc"));
        assert_eq!(family_id().len(), 32);
    }
}
