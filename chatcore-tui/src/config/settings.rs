//! [`Settings`]: the effective settings, merged from the defaults, the file and the flags.

use std::path::PathBuf;

use super::{Args, ConfigError, FileConfig, Notifications, default_path, read_file};
use crate::theme::ThemeName;

/// The effective settings after merging file, environment and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Server URL.
    pub server: String,
    /// PEM file of extra trusted CA certificates, when set.
    pub ca_file: Option<PathBuf>,
    /// Guest name (used when there is no token).
    pub user: String,
    /// Session token, when set.
    pub token: Option<String>,
    /// Account to sign in to at start (`--login`), when set.
    pub login: Option<String>,
    /// Theme.
    pub theme: ThemeName,
    /// Notifications.
    pub notifications: Notifications,
    /// Rooms to join at start.
    pub rooms: Vec<String>,
    /// Where the config file is (read, and written by `:write`).
    pub config_path: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: "http://127.0.0.1:8080".into(),
            ca_file: None,
            user: std::env::var("USER").unwrap_or_else(|_| "guest".into()),
            token: None,
            login: None,
            theme: ThemeName::Dark,
            notifications: Notifications::Bell,
            rooms: Vec::new(),
            config_path: default_path(),
        }
    }
}

impl Settings {
    /// Merges the defaults, the file (at `args.config` or the default path) and the flags
    /// (which clap already merged with their environment twins).
    pub fn load(args: &Args) -> Result<Settings, ConfigError> {
        let path = args.config.clone().or_else(default_path);
        let file = match &path {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        Settings::merge(file, args, path)
    }

    /// Merges `file` and `args` over the defaults: a flag beats the file.
    pub fn merge(
        file: FileConfig,
        args: &Args,
        config_path: Option<PathBuf>,
    ) -> Result<Settings, ConfigError> {
        let d = Settings::default();
        let theme = match args.theme.as_ref().or(file.theme.as_ref()) {
            Some(t) => t.parse().map_err(ConfigError::Invalid)?,
            None => d.theme,
        };
        let notifications = match &args.notifications {
            Some(n) => n.parse().map_err(ConfigError::Invalid)?,
            None => file.notifications.unwrap_or(d.notifications),
        };
        let mut rooms = file.rooms;
        for r in &args.join {
            if !rooms.contains(r) {
                rooms.push(r.clone());
            }
        }
        // A --user flag beats a token from the file; a --token flag beats everything.
        let token = match (&args.token, &args.user) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(_)) => None,
            (None, None) => file.token,
        };
        Ok(Settings {
            server: args.server.clone().or(file.server).unwrap_or(d.server),
            ca_file: args.ca_file.clone().or(file.ca_file),
            user: args.user.clone().or(file.user).unwrap_or(d.user),
            token,
            login: args.login.clone(),
            theme,
            notifications,
            rooms,
            config_path,
        })
    }

    /// The file form of these settings, for `:write`.
    pub fn to_file(&self) -> FileConfig {
        FileConfig {
            server: Some(self.server.clone()),
            ca_file: self.ca_file.clone(),
            user: Some(self.user.clone()),
            token: self.token.clone(),
            theme: Some(self.theme.as_str().to_owned()),
            notifications: Some(self.notifications),
            rooms: self.rooms.clone(),
        }
    }
}
