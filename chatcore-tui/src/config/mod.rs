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

mod args;
mod file;
mod notifications;
mod settings;

pub use args::Args;
pub use file::{ConfigError, FileConfig, default_path, read_file, write_file};
pub use notifications::Notifications;
pub use settings::Settings;

#[cfg(test)]
mod tests;
