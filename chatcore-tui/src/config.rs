//! Settings: the TOML file at `$XDG_CONFIG_HOME/chatcore/tui.toml`, overridden by
//! environment variables and flags (see [`Args`]).
//!
//! ```toml
//! server = "http://127.0.0.1:8080"   # HTTP base or ws:// URL of the chat server
//! # ca_file = "/etc/chatcore/ca.pem" # PEM of CA certificates trusted for https:// and wss://
//! user = "ann"                       # guest name (servers that let guests in)
//! # token = "eyJ…"                   # session token; wins over `user`
//! theme = "dark"                     # dark | light | high-contrast
//! notifications = "bell"             # bell | desktop | off
//! rooms = ["general"]                # joined at start
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::Parser;
use serde::{Deserialize, Serialize};

use crate::theme::ThemeName;

/// How mentions and direct messages get your attention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notifications {
    /// The terminal bell (BEL). The default, because it works in every terminal and over SSH.
    #[default]
    Bell,
    /// A desktop notification (with the `desktop-notify` feature; falls back to the bell when
    /// there is no notification service or the feature is off).
    Desktop,
    /// Nothing.
    Off,
}

impl Notifications {
    /// The next setting (wrapping), for the settings view.
    pub fn next(self) -> Notifications {
        match self {
            Notifications::Bell => Notifications::Desktop,
            Notifications::Desktop => Notifications::Off,
            Notifications::Off => Notifications::Bell,
        }
    }

    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Notifications::Bell => "bell",
            Notifications::Desktop => "desktop",
            Notifications::Off => "off",
        }
    }
}

impl fmt::Display for Notifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Notifications {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bell" => Ok(Notifications::Bell),
            "desktop" => Ok(Notifications::Desktop),
            "off" | "none" => Ok(Notifications::Off),
            other => Err(format!(
                "unknown notification setting `{other}` (bell, desktop or off)"
            )),
        }
    }
}

/// The config file's contents. Every field is optional in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// Server URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// PEM file of CA certificates trusted besides the built-in roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Guest name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Session token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Theme name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Notification setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Notifications>,
    /// Rooms joined at start.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
}

const ABOUT: &str = "A terminal client of a chatcore chat server.";
const LONG_ABOUT: &str = "A terminal client of a chatcore chat server, with vim-style keys.\n\n\
Settings come from the config file ($XDG_CONFIG_HOME/chatcore/tui.toml, usually \
~/.config/chatcore/tui.toml), then environment variables, then flags: a flag beats its \
environment variable, which beats the file. Press ? inside the client for every key; \
:quit leaves.";

/// Command-line flags of `chat-tui`. Each has an environment twin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Parser)]
#[command(name = "chat-tui", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Args {
    /// The chat server: its HTTP base (`http://host:port`) or socket URL (`ws://host:port/ws`).
    /// Default `http://127.0.0.1:8080`.
    #[arg(long, env = "CHATCORE_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// A PEM file of CA certificates to trust, besides the built-in web roots, for an
    /// `https://` or `wss://` server whose certificate a private CA signed.
    #[arg(long, env = "CHATCORE_CA_FILE", value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Guest name to connect with (servers that let guests in, e.g. `chat-server` on
    /// loopback). Default: $USER.
    #[arg(long, env = "CHATCORE_USER", value_name = "NAME")]
    pub user: Option<String>,
    /// Session token (JWT) to connect with; wins over --user. Get one with `chat-cli token`.
    #[arg(
        long,
        env = "CHATCORE_TOKEN",
        value_name = "JWT",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Sign in to the account NAME (servers with accounts): the password is asked for in
    /// the input line, without echo. A session saved by an earlier login of NAME on this
    /// server is used without asking.
    #[arg(long, env = "CHATCORE_LOGIN", value_name = "NAME")]
    pub login: Option<String>,
    /// Colour theme: dark, light or high-contrast. Default dark.
    #[arg(long, env = "CHATCORE_THEME", value_name = "NAME")]
    pub theme: Option<String>,
    /// How mentions and direct messages notify: bell, desktop or off. Default bell.
    #[arg(long, env = "CHATCORE_NOTIFICATIONS", value_name = "HOW")]
    pub notifications: Option<String>,
    /// Room to join at start (repeat the flag for more); adds to the config file's `rooms`.
    #[arg(long = "join", value_name = "ROOM")]
    pub join: Vec<String>,
    /// Config file to read (and write with :write) instead of
    /// $XDG_CONFIG_HOME/chatcore/tui.toml.
    #[arg(long, env = "CHATCORE_TUI_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
}

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

/// `$XDG_CONFIG_HOME/chatcore/tui.toml` (or the platform's config directory).
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("chatcore").join("tui.toml"))
}

/// Errors reading or writing the config file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file exists but cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A value is invalid (an unknown theme, …).
    #[error("{0}")]
    Invalid(String),
}

/// Reads the config file at `path`; a missing file is an empty config.
pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(source) => Err(ConfigError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes `config` to `path`, creating the directory.
pub fn write_file(path: &Path, config: &FileConfig) -> Result<(), ConfigError> {
    let io = |source| ConfigError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = toml::to_string_pretty(config).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    std::fs::write(path, text).map_err(io)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let file: FileConfig = toml::from_str(
            "server = \"http://file:1\"\nuser = \"filer\"\ntheme = \"light\"\nrooms = [\"a\"]\n",
        )
        .unwrap();
        let args = Args {
            user: Some("flag".into()),
            join: vec!["b".into(), "a".into()],
            ..Args::default()
        };
        let s = Settings::merge(file, &args, None).unwrap();
        assert_eq!(s.server, "http://file:1");
        assert_eq!(s.user, "flag");
        assert_eq!(s.theme, ThemeName::Light);
        assert_eq!(s.rooms, vec!["a", "b"]);
        assert_eq!(s.notifications, Notifications::Bell);
        let args = Args {
            theme: Some("high-contrast".into()),
            ..Args::default()
        };
        let s = Settings::merge(FileConfig::default(), &args, None).unwrap();
        assert_eq!(s.theme, ThemeName::HighContrast);
        assert_eq!(s.server, "http://127.0.0.1:8080");
    }

    #[test]
    fn ca_file_flag_beats_the_file_which_beats_none() {
        let file: FileConfig = toml::from_str("ca_file = \"/etc/file-ca.pem\"\n").unwrap();
        let none = Settings::merge(FileConfig::default(), &Args::default(), None).unwrap();
        assert_eq!(none.ca_file, None);
        let from_file = Settings::merge(file.clone(), &Args::default(), None).unwrap();
        assert_eq!(from_file.ca_file, Some(PathBuf::from("/etc/file-ca.pem")));
        let args = Args {
            ca_file: Some("flag-ca.pem".into()),
            ..Args::default()
        };
        let from_flag = Settings::merge(file, &args, None).unwrap();
        assert_eq!(from_flag.ca_file, Some(PathBuf::from("flag-ca.pem")));
        assert_eq!(
            from_flag.to_file().ca_file,
            Some(PathBuf::from("flag-ca.pem")),
            ":write keeps it"
        );
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(toml::from_str::<FileConfig>("colour = 1").is_err());
        let args = Args {
            theme: Some("neon".into()),
            ..Args::default()
        };
        assert!(Settings::merge(FileConfig::default(), &args, None).is_err());
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = std::env::temp_dir().join(format!("chat-tui-cfg-{}", std::process::id()));
        let path = dir.join("sub").join("tui.toml");
        let mut s = Settings::merge(FileConfig::default(), &Args::default(), None).unwrap();
        s.theme = ThemeName::Light;
        s.rooms = vec!["general".into()];
        write_file(&path, &s.to_file()).unwrap();
        let back = read_file(&path).unwrap();
        assert_eq!(back.theme.as_deref(), Some("light"));
        assert_eq!(back.rooms, vec!["general"]);
        assert_eq!(
            read_file(&dir.join("missing.toml")).unwrap(),
            FileConfig::default()
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn help_mentions_every_flag_and_env() {
        use clap::CommandFactory;
        let help = Args::command().render_long_help().to_string();
        for s in [
            "--server",
            "CHATCORE_SERVER",
            "--ca-file",
            "CHATCORE_CA_FILE",
            "--user",
            "CHATCORE_USER",
            "--token",
            "CHATCORE_TOKEN",
            "--theme",
            "--config",
            "--join",
        ] {
            assert!(help.contains(s), "help lacks {s}:\n{help}");
        }
    }
}
