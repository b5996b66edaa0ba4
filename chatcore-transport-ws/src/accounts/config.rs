//! [`AccountsConfig`]: the store, the signer, the registration policy, argon2 parameters,
//! token lifetimes and login limits.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chatcore::accounts::Accounts;
use chatcore::auth::JwtAuthenticator;

use crate::{Error, Result};

/// Who may create an account with `POST /api/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Registration {
    /// Anyone.
    #[default]
    Open,
    /// Only with a single-use invite code from an admin (`POST /api/invites`).
    Invite,
    /// Nobody: accounts come from the command line (`chat-server admin create`).
    Closed,
}

impl std::str::FromStr for Registration {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            other => Err(format!("{other:?}: expected open, invite or closed")),
        }
    }
}

/// Accounts on a transport: `POST /api/register`, `/api/login`, `/api/refresh`,
/// `/api/logout`, `/api/password`, `/api/invites` (PROTOCOL.md, "Accounts").
///
/// The hub's authenticator should be an
/// [`AccountAuthenticator`](chatcore::accounts::AccountAuthenticator) over the same
/// [`Accounts`] and a [`JwtAuthenticator`] with the same secret as `signer`, so that access
/// tokens stop working at logout.
#[derive(Clone)]
pub struct AccountsConfig {
    pub(crate) accounts: Arc<dyn Accounts>,
    pub(crate) signer: JwtAuthenticator,
    pub(crate) registration: Registration,
    pub(crate) argon2: argon2::Params,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) invite_ttl: Duration,
    pub(crate) login_per_ip: NonZeroU32,
    pub(crate) login_per_account: NonZeroU32,
    pub(crate) refresh_per_ip: NonZeroU32,
}

impl std::fmt::Debug for AccountsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountsConfig")
            .field("registration", &self.registration)
            .field("argon2", &self.argon2)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("login_per_ip", &self.login_per_ip)
            .field("login_per_account", &self.login_per_account)
            .field("refresh_per_ip", &self.refresh_per_ip)
            .finish_non_exhaustive()
    }
}

impl AccountsConfig {
    /// Longest accepted password, in bytes. Longer ones are refused before any hashing.
    pub const MAX_PASSWORD_BYTES: usize = 1024;

    /// Accounts in `accounts`, tokens signed by `signer` (which must hold a secret). Defaults:
    /// open registration; argon2id with 19 MiB, 2 passes, 1 lane (OWASP's first choice);
    /// access tokens 15 minutes, refresh tokens 30 days, invites 7 days; 10 login attempts
    /// per minute per client IP and 5 per minute per account, each with that as its burst; 60
    /// refreshes per minute per client IP (burst 60).
    pub fn new(accounts: Arc<dyn Accounts>, signer: JwtAuthenticator) -> Self {
        Self {
            accounts,
            signer,
            registration: Registration::Open,
            argon2: argon2::Params::DEFAULT,
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            invite_ttl: Duration::from_secs(7 * 24 * 3600),
            login_per_ip: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            login_per_account: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            refresh_per_ip: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// Who may register. Default: [`Registration::Open`].
    pub fn with_registration(mut self, registration: Registration) -> Self {
        self.registration = registration;
        self
    }

    /// argon2id cost: `memory_kib` KiB of memory, `iterations` passes, `lanes` parallel
    /// lanes. Fails on values argon2 refuses (memory below 8 KiB per lane, zero passes…).
    pub fn with_argon2(mut self, memory_kib: u32, iterations: u32, lanes: u32) -> Result<Self> {
        self.argon2 = argon2::Params::new(memory_kib, iterations, lanes, None)
            .map_err(|e| Error::config(format!("argon2 parameters: {e}")))?;
        Ok(self)
    }

    /// Lifetimes of access tokens and refresh tokens. Both at least a second.
    pub fn with_token_ttls(mut self, access: Duration, refresh: Duration) -> Result<Self> {
        if access < Duration::from_secs(1) || refresh < Duration::from_secs(1) {
            return Err(Error::config("token lifetimes must be at least one second"));
        }
        self.access_ttl = access;
        self.refresh_ttl = refresh;
        Ok(self)
    }

    /// Login attempts per minute (also the burst) per client IP and per account.
    /// Registrations count against the IP's limit.
    pub fn with_login_limits(mut self, per_ip: u32, per_account: u32) -> Result<Self> {
        let nz = |n: u32| {
            NonZeroU32::new(n).ok_or_else(|| Error::config("login limits must be at least 1"))
        };
        self.login_per_ip = nz(per_ip)?;
        self.login_per_account = nz(per_account)?;
        Ok(self)
    }

    /// `POST /api/refresh` calls per minute (also the burst) per client IP. Default 60,
    /// because one client refreshes once per access-token lifetime (15 minutes), so even a
    /// NAT of hundreds of users stays far below it, while one address cannot hammer the store
    /// (each refresh is a write) or guess refresh tokens.
    pub fn with_refresh_limit(mut self, per_ip: u32) -> Result<Self> {
        self.refresh_per_ip = NonZeroU32::new(per_ip)
            .ok_or_else(|| Error::config("the refresh limit must be at least 1"))?;
        Ok(self)
    }

    /// The argon2id PHC string of `password` at these parameters, for accounts made outside
    /// the REST API (`chat-server admin create`). Blocks for the hashing time; refuses an
    /// empty password or one over [`AccountsConfig::MAX_PASSWORD_BYTES`].
    pub fn hash_password(&self, password: &str) -> Result<String> {
        if password.is_empty() || password.len() > Self::MAX_PASSWORD_BYTES {
            return Err(Error::config(format!(
                "a password has 1 to {} bytes",
                Self::MAX_PASSWORD_BYTES
            )));
        }
        super::password::hash_with(&self.argon2, password).map_err(Error::from_core_config)
    }

    /// The registration policy in force.
    pub fn registration(&self) -> Registration {
        self.registration
    }

    /// Lifetime of access tokens.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }
}
