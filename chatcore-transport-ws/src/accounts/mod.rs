//! Accounts over HTTP: [`AccountsConfig`] (what an embedder or `chat-server` sets), and the
//! service the REST handlers (`http/accounts.rs`) call: password hashing, login limits,
//! token minting.
//!
//! Secrets never reach the store: passwords are argon2id PHC strings, refresh tokens and
//! invite codes are random 256-bit values of which only the SHA-256 is stored (a lookup by
//! hash compares nothing secret in variable time).

mod config;
mod limiter;
mod password;
mod tokens;

pub use config::{AccountsConfig, Registration};
pub(crate) use limiter::LoginLimiter;
pub(crate) use password::Passwords;
pub(crate) use tokens::{family_id, hash_secret, new_secret};

/// What the REST handlers need, built once from an [`AccountsConfig`].
pub(crate) struct AccountService {
    pub(crate) config: AccountsConfig,
    pub(crate) passwords: Passwords,
    pub(crate) limiter: LoginLimiter,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AccountService {
    pub(crate) fn new(config: AccountsConfig) -> Self {
        Self {
            passwords: Passwords::new(config.argon2.clone()),
            limiter: LoginLimiter::new(
                config.login_per_ip,
                config.login_per_account,
                config.refresh_per_ip,
            ),
            config,
        }
    }
}
