//! Accounts in `chat-server`: the flags ([`AccountsPlan`]) and the `admin` subcommands that
//! act on the database directly ([`run_admin`]).

use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use chatcore::accounts::{Accounts, Created, MemoryAccounts, NewAccount};
use chatcore::auth::JwtAuthenticator;
use chatcore_transport_ws::{AccountsConfig, Registration};

use crate::backends::StoreUrl;
use crate::cli::{AdminAction, ServerArgs};
use crate::error::{Result, StartupError};

/// The account settings of the flags, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountsPlan {
    /// Who may register.
    pub registration: Registration,
    /// argon2id memory (KiB), passes and lanes.
    pub argon2: (u32, u32, u32),
    /// Access and refresh token lifetimes.
    pub ttls: (Duration, Duration),
    /// Login attempts per minute per IP and per account.
    pub login_limits: (u32, u32),
    /// Refreshes per minute per IP.
    pub refreshes_per_ip: u32,
}

impl AccountsPlan {
    /// The plan of `args` (`registration` may be unset for the admin commands, which need
    /// only the hashing cost); checks every value now.
    pub fn from_args(args: &ServerArgs, registration: Registration) -> Result<Self> {
        let plan = Self {
            registration,
            argon2: (
                args.argon2_memory_kib,
                args.argon2_iterations,
                args.argon2_lanes,
            ),
            ttls: (
                Duration::from_secs(args.access_token_ttl),
                Duration::from_secs(args.refresh_token_ttl),
            ),
            login_limits: (args.login_attempts_per_ip, args.login_attempts_per_account),
            refreshes_per_ip: args.refreshes_per_ip,
        };
        let signer = JwtAuthenticator::new(&[0; JwtAuthenticator::MIN_SECRET_BYTES])
            .map_err(|e| StartupError::Config(e.to_string()))?;
        plan.config(Arc::new(MemoryAccounts::new()), signer)?;
        Ok(plan)
    }

    /// The transport's account settings over `accounts`, tokens signed by `signer`.
    pub fn config(
        &self,
        accounts: Arc<dyn Accounts>,
        signer: JwtAuthenticator,
    ) -> Result<AccountsConfig> {
        let (m, t, p) = self.argon2;
        AccountsConfig::new(accounts, signer)
            .with_registration(self.registration)
            .with_argon2(m, t, p)
            .map_err(|e| flag("--argon2-memory-kib/--argon2-iterations/--argon2-lanes", &e))?
            .with_token_ttls(self.ttls.0, self.ttls.1)
            .map_err(|e| flag("--access-token-ttl/--refresh-token-ttl", &e))?
            .with_login_limits(self.login_limits.0, self.login_limits.1)
            .map_err(|e| flag("--login-attempts-per-ip/--login-attempts-per-account", &e))?
            .with_refresh_limit(self.refreshes_per_ip)
            .map_err(|e| flag("--refreshes-per-ip", &e))
    }
}

fn flag(name: &str, e: &dyn std::fmt::Display) -> StartupError {
    StartupError::Config(format!("{name}: {e}"))
}

fn store_error(e: &chatcore::Error) -> StartupError {
    StartupError::Store(format!("the accounts store: {e}"))
}

/// Runs `chat-server admin ACTION` on the store of `args`, reading a new admin's password from
/// `input`. Returns the line to print.
pub async fn run_admin(
    args: &ServerArgs,
    action: &AdminAction,
    input: impl BufRead + Send + 'static,
) -> Result<String> {
    let plan = AccountsPlan::from_args(args, Registration::Closed)?;
    let store = StoreUrl::parse(&args.store)?;
    let opened = store.open_with_accounts().await?;
    let accounts = opened.accounts;
    let done = match action {
        AdminAction::Create { name } => create(&plan, accounts.clone(), name, input).await,
        AdminAction::Grant { name } => set_admin(accounts.as_ref(), name, true).await,
        AdminAction::Revoke { name } => set_admin(accounts.as_ref(), name, false).await,
        AdminAction::Delete { name } => match accounts.delete_account(name).await {
            Ok(true) => Ok(format!("deleted the account {name}")),
            Ok(false) => Err(no_account(name)),
            Err(e) => Err(store_error(&e)),
        },
    };
    let _ = opened.store.close().await;
    done
}

fn no_account(name: &str) -> StartupError {
    StartupError::Config(format!("there is no account {name:?}"))
}

async fn create(
    plan: &AccountsPlan,
    accounts: Arc<dyn Accounts>,
    name: &str,
    mut input: impl BufRead + Send + 'static,
) -> Result<String> {
    chatcore::names::validate_user(name).map_err(|e| flag("the name", &e))?;
    let signer = JwtAuthenticator::new(&[0; JwtAuthenticator::MIN_SECRET_BYTES])
        .map_err(|e| StartupError::Config(e.to_string()))?;
    let config = plan.config(accounts.clone(), signer)?;
    let hash = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| StartupError::Config(format!("reading the password: {e}")))?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        config
            .hash_password(password)
            .map_err(|e| flag("the password (first line of standard input)", &e))
    })
    .await
    .map_err(|e| StartupError::Config(format!("hashing the password: {e}")))??;
    let account = NewAccount::new(name, hash).with_admin(true);
    match accounts.create_account(account, None).await {
        Ok(Created::Created(a)) => Ok(format!("created the admin account {}", a.name)),
        Ok(_) => Err(StartupError::Config(format!(
            "the name {name:?} (or one differing only in case or look-alike letters) is \
             taken; `chat-server admin grant {name}` makes that account an admin"
        ))),
        Err(e) => Err(store_error(&e)),
    }
}

async fn set_admin(accounts: &dyn Accounts, name: &str, admin: bool) -> Result<String> {
    match accounts.set_admin(name, admin).await {
        Ok(true) => {}
        Ok(false) => return Err(no_account(name)),
        Err(e) => return Err(store_error(&e)),
    }
    // The role travels in access tokens: sign the account out so the next login carries it.
    let revoked = accounts
        .revoke_sessions(name, None)
        .await
        .map_err(|e| store_error(&e))?;
    let what = if admin { "is now" } else { "is no longer" };
    Ok(format!(
        "{name} {what} a server admin ({revoked} session(s) signed out)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(argv: &[&str]) -> ServerArgs {
        ServerArgs::try_parse_from(std::iter::once("chat-server").chain(argv.iter().copied()))
            .expect("flags")
    }

    #[test]
    fn bad_argon2_costs_are_refused_at_start_up() {
        let bad = args(&["--argon2-iterations=0"]);
        let e = AccountsPlan::from_args(&bad, Registration::Open).expect_err("zero passes");
        assert!(e.to_string().contains("--argon2"), "{e}");
        assert!(AccountsPlan::from_args(&args(&[]), Registration::Open).is_ok());
        let e = AccountsPlan::from_args(&args(&["--login-attempts-per-ip=0"]), Registration::Open)
            .expect_err("zero");
        assert!(e.to_string().contains("--login-attempts"), "{e}");
    }

    #[tokio::test]
    async fn admins_are_created_granted_and_revoked_in_the_database() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = format!("--store=sqlite://{}", dir.path().join("a.db").display());
        let a = args(&[&store, "--argon2-memory-kib=8192", "--argon2-iterations=1"]);
        let create = AdminAction::Create {
            name: "Root".into(),
        };
        let out = run_admin(&a, &create, std::io::Cursor::new("s3cret pw\n"))
            .await
            .expect("create");
        assert_eq!(out, "created the admin account Root");
        let again = run_admin(&a, &create, std::io::Cursor::new("x\n")).await;
        assert!(again.expect_err("taken").to_string().contains("taken"));
        let empty = AdminAction::Create {
            name: "other".into(),
        };
        let e = run_admin(&a, &empty, std::io::Cursor::new("\n"))
            .await
            .expect_err("empty");
        assert!(e.to_string().contains("password"), "{e}");
        let revoke = AdminAction::Revoke {
            name: "root".into(),
        };
        let out = run_admin(&a, &revoke, std::io::Cursor::new(""))
            .await
            .expect("revoke");
        assert_eq!(
            out,
            "root is no longer a server admin (0 session(s) signed out)"
        );
        let opened = StoreUrl::parse(&store["--store=".len()..])
            .expect("url")
            .open_with_accounts()
            .await
            .expect("open");
        let root = opened
            .accounts
            .account("ROOT")
            .await
            .expect("a")
            .expect("root");
        assert!(!root.admin);
        assert!(
            root.password_hash
                .starts_with("$argon2id$v=19$m=8192,t=1,p=1$")
        );
        let _ = opened.store.close().await;
        let missing = AdminAction::Grant {
            name: "nobody".into(),
        };
        let e = run_admin(&a, &missing, std::io::Cursor::new(""))
            .await
            .expect_err("none");
        assert_eq!(e.to_string(), "there is no account \"nobody\"");
    }
}
