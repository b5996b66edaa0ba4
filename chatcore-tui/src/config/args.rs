//! [`Args`]: the command-line flags of `chat-tui` and their environment twins.

use std::path::PathBuf;

use clap::Parser;

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
