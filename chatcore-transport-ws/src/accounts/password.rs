//! argon2id password hashes, made and checked on blocking threads.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Hashes and verifies passwords with one set of argon2id parameters. A login for an
/// account that does not exist verifies against a hash made at start-up, so it costs the
/// same time as a wrong password and does not tell who has an account.
pub(crate) struct Passwords {
    params: Params,
    /// The hash of a random password, for logins of unknown users.
    decoy: String,
}

impl Passwords {
    pub(crate) fn new(params: Params) -> Self {
        let decoy = hash_with(&params, &super::tokens::new_secret()).unwrap_or_default();
        Self { params, decoy }
    }

    /// The PHC string of `password`.
    pub(crate) async fn hash(&self, password: String) -> chatcore::Result<String> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, &password))
            .await
            .map_err(|e| chatcore::Error::Config(format!("hashing task: {e}")))?
    }

    /// Whether `password` matches `hash` (the decoy when `hash` is `None`, which never does).
    pub(crate) async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.clone());
        let params = self.params.clone();
        let matched = tokio::task::spawn_blocking(move || {
            argon2(params)
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .unwrap_or(false);
        matched && known
    }
}

fn argon2(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub(super) fn hash_with(params: &Params, password: &str) -> chatcore::Result<String> {
    argon2(params.clone())
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| chatcore::Error::Config(format!("hashing a password: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let p = Passwords::new(Params::new(8 * 1024, 1, 1, None).expect("params"));
        let h = p.hash("correct horse".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{h}");
        assert!(p.verify("correct horse".into(), Some(h.clone())).await);
        assert!(!p.verify("wrong".into(), Some(h)).await);
        assert!(!p.verify("anything".into(), None).await);
        assert!(!p.verify("x".into(), Some("not a hash".into())).await);
    }
}
