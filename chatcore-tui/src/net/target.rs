//! Where to connect and as whom: the [`Target`], and the client configuration it makes.

use std::path::PathBuf;
use std::time::Duration;

use chatcore_client::{Auth, ClientConfig};

use crate::config::Settings;

/// First and longest wait between connection attempts: quick after a blip, and never more
/// than 15 s behind a server that came back.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(15));

/// Where to connect and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Server URL.
    pub server: String,
    /// Guest name (used without a token).
    pub user: String,
    /// Session token.
    pub token: Option<String>,
    /// PEM file of CA certificates trusted besides the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// The account to sign in to (`--login`, `/login`): no client runs until it is.
    pub login: Option<String>,
}

impl Target {
    /// Where and as whom `settings` say to connect.
    pub fn from_settings(settings: &Settings) -> Target {
        Target {
            server: settings.server.clone(),
            user: settings.user.clone(),
            token: settings.token.clone(),
            ca_file: settings.ca_file.clone(),
            login: settings.login.clone(),
        }
    }

    /// Reads the CA file, if one is set, so a missing or malformed one stops the client at
    /// start-up with [`Error::Config`](chatcore_client::Error::Config) naming it. (With a server URL that is not valid, there
    /// is nothing to check yet: that shows on the status line and `:server` can fix it.)
    pub fn check_ca_file(&self) -> chatcore_client::Result<()> {
        match (&self.ca_file, ClientConfig::new(self.server.clone())) {
            (Some(path), Ok(config)) => config.with_ca_file(path).map(drop),
            _ => Ok(()),
        }
    }

    /// The client's configuration: with `access`, the access token of the account signed in
    /// to, when there is one, else with the token or as a guest.
    pub(super) fn config(&self, access: Option<&str>) -> chatcore_client::Result<ClientConfig> {
        let auth = match (access, &self.token) {
            (Some(a), _) => Auth::Token(a.to_owned()),
            (None, Some(t)) => Auth::Token(t.clone()),
            (None, None) => Auth::Guest(self.user.clone()),
        };
        let config = ClientConfig::new(self.server.clone())?;
        let config = match &self.ca_file {
            Some(path) => config.with_ca_file(path)?,
            None => config,
        };
        config.with_auth(auth).with_backoff(BACKOFF.0, BACKOFF.1)
    }
}
