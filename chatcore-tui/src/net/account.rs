//! An account's session over the REST API: register or log in, refresh the access token
//! before it expires, log out; the refresh token kept in the session file
//! ([`crate::session`]).

use std::time::Duration;

use chatcore_client::{Client, Error, RestClient, SessionGrant};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::target::Target;
use crate::app::{Action, Secret};
use crate::session::{self, Saved};

/// The access token is refreshed when this share of its life is over (a 15-minute token
/// after 12 minutes), so a reconnect never presents an expired one.
const REFRESH_AT: f64 = 0.8;
/// Never refresh more often than this, whatever the server says the token lives.
const MIN_REFRESH: Duration = Duration::from_secs(5);

/// A signed-in account.
#[derive(Clone)]
pub(super) struct Account {
    /// The account's name, as registered.
    pub(super) user: String,
    /// The access token the client presents.
    pub(super) access: String,
    /// Its refresh token (used up by each refresh).
    refresh: String,
    /// When to refresh.
    pub(super) refresh_at: Instant,
}

impl Account {
    fn from_grant(grant: SessionGrant) -> Account {
        let life = Duration::from_secs(grant.expires_in).mul_f64(REFRESH_AT);
        Account {
            user: grant.user,
            access: grant.access_token,
            refresh: grant.refresh_token,
            refresh_at: Instant::now() + life.max(MIN_REFRESH),
        }
    }
}

/// The account side of one client: where to refresh and log out, and the account, if any.
pub(super) struct Session<'a> {
    /// Where the account is.
    pub(super) target: &'a Target,
    /// The account signed in to, if any.
    pub(super) account: &'a mut Option<Account>,
}

/// The server's own words for a refusal (`wrong user name or password`), else the error.
pub(super) fn server_words(e: &Error) -> String {
    match e {
        Error::Unauthorized(m)
        | Error::Refused { message: m, .. }
        | Error::Server { message: m, .. } => m.clone(),
        other => other.to_string(),
    }
}

fn rest(target: &Target) -> Result<RestClient, String> {
    let api = RestClient::new(&target.server).map_err(|e| e.to_string())?;
    match &target.ca_file {
        Some(path) => api.with_ca_file(path).map_err(|e| e.to_string()),
        None => Ok(api),
    }
}

/// Registers (`create`) or logs in `user`, and saves the session.
pub(super) async fn sign_in(
    target: &Target,
    user: &str,
    password: &str,
    create: bool,
) -> Result<Account, String> {
    let api = rest(target)?;
    let grant = if create {
        api.register(user, password).await
    } else {
        api.login(user, password).await
    };
    let account = Account::from_grant(grant.map_err(|e| server_words(&e))?);
    save(target, &account)?;
    Ok(account)
}

/// Signs in with the session saved for `user` on this server, if there is one that still
/// works (its refresh token is used up and the new one saved).
pub(super) async fn restore(target: &Target, user: &str) -> Option<Account> {
    let saved = session::load(&session::default_path()?, &target.server, user)?;
    let grant = rest(target)
        .ok()?
        .refresh(&saved.refresh_token)
        .await
        .ok()?;
    let account = Account::from_grant(grant);
    save(target, &account).ok()?;
    Some(account)
}

/// Exchanges the refresh token for a new pair (and saves it).
pub(super) async fn refresh(target: &Target, account: &mut Account) -> Result<(), String> {
    let grant = rest(target)?
        .refresh(&account.refresh)
        .await
        .map_err(|e| server_words(&e))?;
    *account = Account::from_grant(grant);
    save(target, account)
}

/// Signs the session out on the server and deletes the session file.
pub(super) async fn logout(target: &Target, account: &Account) -> Result<(), String> {
    if let Some(path) = session::default_path() {
        session::remove(&path).map_err(|e| format!("cannot delete {}: {e}", path.display()))?;
    }
    rest(target)?
        .with_token(account.access.clone())
        .logout()
        .await
        .map(drop)
        .map_err(|e| server_words(&e))
}

fn save(target: &Target, account: &Account) -> Result<(), String> {
    let Some(path) = session::default_path() else {
        return Err("no config directory to keep the session in".into());
    };
    let saved = Saved {
        server: target.server.clone(),
        user: account.user.clone(),
        refresh_token: account.refresh.clone(),
    };
    session::save(&path, &saved).map_err(|e| format!("cannot save {}: {e}", path.display()))
}

/// Refreshes the access token before it expires; the client presents the new one from its
/// next reconnect on. A refused refresh signs the account out here (the open connection
/// goes on until it ends) and says how to sign in again.
pub(super) async fn refresh_now(
    client: &Client,
    tx: &UnboundedSender<Action>,
    session: &mut Session<'_>,
) {
    let Some(a) = session.account.as_mut() else {
        return;
    };
    match refresh(session.target, a).await {
        Ok(()) => client.set_token(a.access.clone()),
        Err(e) => {
            let user = a.user.clone();
            *session.account = None;
            let _ = tx.send(Action::Error(format!(
                "the session could not be renewed ({e}): /login {user} again"
            )));
        }
    }
}

/// Registers or logs in, reporting the outcome: the account, or `None` after an error
/// (in the server's words) went to the app.
pub(super) async fn sign_in_and_tell(
    target: &Target,
    user: &str,
    password: &Secret,
    create: bool,
    tx: &UnboundedSender<Action>,
) -> Option<Account> {
    match sign_in(target, user, password.expose(), create).await {
        Ok(a) => {
            let _ = tx.send(Action::SignedIn {
                user: a.user.clone(),
            });
            Some(a)
        }
        Err(e) => {
            let what = if create { "register" } else { "login" };
            let _ = tx.send(Action::Error(format!("{what}: {e}")));
            None
        }
    }
}
