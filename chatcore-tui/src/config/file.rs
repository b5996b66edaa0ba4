//! The config file: its contents ([`FileConfig`]), where it is, and reading and writing it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Notifications;

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
