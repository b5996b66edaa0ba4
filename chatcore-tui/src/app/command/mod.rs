//! `:` commands (command mode) and `/` slash commands (typed in the input line).

mod rooms;

pub use rooms::{ROOM_HELP, RoomCmd, parse_duration};

use crate::config::Notifications;
use crate::theme::ThemeName;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `:join ROOM`, `/join ROOM`.
    Join(String),
    /// `:leave [ROOM]`, `/leave [ROOM]`: the current room when none is named.
    Leave(Option<String>),
    /// `:dm USER [TEXT]`, `/msg USER TEXT`: a direct message.
    Dm {
        /// Recipient.
        to: String,
        /// Text; without it the input line is prepared for one.
        text: Option<String>,
    },
    /// `/me TEXT`: an emote in the current room.
    Me(String),
    /// `/nick NAME`, `:nick NAME`: reconnect as another guest.
    Nick(String),
    /// `:server URL`: connect to another server.
    Server(String),
    /// `:theme NAME`.
    Theme(ThemeName),
    /// `:notify bell|desktop|off`.
    Notify(Notifications),
    /// `:rooms`: list the server's rooms.
    Rooms,
    /// `:write`: save the settings to the config file.
    Write,
    /// `:settings`.
    Settings,
    /// `:help`, `/help`.
    Help,
    /// `:quit`, `:q`, `/quit`.
    Quit,
    /// `//text`: send text that starts with a slash.
    Say(String),
    /// `/register NAME`: create an account (the password is asked for next).
    Register(String),
    /// `/login NAME`: sign in to an account (the password is asked for next).
    Login(String),
    /// `/logout`: sign out and forget the saved session.
    Logout,
    /// `/create ROOM [--private]`.
    Create {
        /// Room name.
        room: String,
        /// Invite-only.
        private: bool,
    },
    /// A moderation command on the current room.
    Room(RoomCmd),
    /// `/block USER`: refuse their direct messages.
    Block(String),
    /// `/search TEXT`: full-text search over the readable rooms.
    Search(String),
}

/// Every `:` command with its arguments, for the help overlay.
pub const COLON_HELP: &[(&str, &str)] = &[
    (":join ROOM", "join (or create) a room"),
    (":leave [ROOM]", "leave the current or named room"),
    (":dm USER [TEXT]", "direct message"),
    (":nick NAME", "reconnect under another guest name"),
    (":server URL", "connect to another server"),
    (":theme NAME", "dark, light or high-contrast"),
    (":notify HOW", "bell, desktop or off"),
    (":rooms", "list the server's rooms"),
    (":settings", "open the settings view"),
    (":write", "save settings to the config file"),
    (":help", "this help"),
    (":quit  :q", "leave chat-tui"),
];

/// Every slash command, for the help overlay.
pub const SLASH_HELP: &[(&str, &str)] = &[
    ("/join ROOM", "join (or create) a room"),
    ("/leave [ROOM]", "leave the current or named room"),
    ("/msg USER TEXT", "direct message"),
    ("/me TEXT", "emote: * you TEXT"),
    ("/nick NAME", "reconnect under another guest name"),
    ("/register NAME", "create an account"),
    ("/login NAME", "sign in (password asked)"),
    ("/logout", "sign out, forget the session"),
    ("/search TEXT", "search messages"),
    ("//TEXT", "send TEXT starting with /"),
];

/// Every command name, for Tab completion.
pub const NAMES: &[&str] = &[
    "ban", "block", "create", "deop", "help", "invite", "join", "kick", "leave", "login", "logout",
    "me", "members", "msg", "mute", "nick", "op", "quit", "register", "search", "topic", "unban",
    "unmute",
];

/// Parses a `:` command line (without the `:`).
pub fn parse_colon(line: &str) -> Result<Command, String> {
    let (word, rest) = split(line);
    match word {
        "" => Err("empty command".into()),
        "q" | "quit" | "q!" | "qa" | "wq" => Ok(Command::Quit),
        "w" | "write" => Ok(Command::Write),
        "theme" => rest.parse().map(Command::Theme).map_err(|e: String| {
            if rest.is_empty() {
                usage("theme NAME")
            } else {
                e
            }
        }),
        "notify" | "notifications" => rest.parse().map(Command::Notify).map_err(|e: String| {
            if rest.is_empty() {
                usage("notify HOW")
            } else {
                e
            }
        }),
        "rooms" => Ok(Command::Rooms),
        "settings" | "set" => Ok(Command::Settings),
        "server" => one_arg(rest, ":server URL").map(Command::Server),
        "dm" | "msg" => dm(rest, ":dm USER [TEXT]", false),
        _ => shared(word, rest, ':'),
    }
}

/// Parses a slash command (without the leading `/`).
pub fn parse_slash(line: &str) -> Result<Command, String> {
    if let Some(text) = line.strip_prefix('/') {
        return Ok(Command::Say(format!("/{text}")));
    }
    let (word, rest) = split(line);
    match word {
        "me" if rest.is_empty() => Err(usage("/me TEXT")),
        "me" => Ok(Command::Me(rest.to_owned())),
        "msg" | "dm" | "query" => dm(rest, "/msg USER TEXT", true),
        "quit" => Ok(Command::Quit),
        "" => Err("empty command (type // to send a slash)".into()),
        _ => shared(word, rest, '/'),
    }
}

/// Commands both forms know.
fn shared(word: &str, rest: &str, prefix: char) -> Result<Command, String> {
    if let Some(parsed) = rooms::parse(word, rest) {
        return parsed;
    }
    match word {
        "join" | "j" => one_arg(rest, &format!("{prefix}join ROOM")).map(Command::Join),
        "leave" | "part" => Ok(Command::Leave(
            Some(rest.to_owned()).filter(|r| !r.is_empty()),
        )),
        "nick" => one_arg(rest, &format!("{prefix}nick NAME")).map(Command::Nick),
        "help" | "h" => Ok(Command::Help),
        "register" => one_arg(rest, &format!("{prefix}register NAME")).map(Command::Register),
        "login" => one_arg(rest, &format!("{prefix}login NAME")).map(Command::Login),
        "logout" => Ok(Command::Logout),
        "search" if rest.is_empty() => Err(usage(&format!("{prefix}search TEXT"))),
        "search" => Ok(Command::Search(rest.to_owned())),
        other => Err(format!(
            "unknown command {prefix}{other} (press ? for the list)"
        )),
    }
}

fn dm(rest: &str, form: &str, text_required: bool) -> Result<Command, String> {
    let (to, text) = split(rest);
    if to.is_empty() || (text_required && text.is_empty()) {
        return Err(usage(form));
    }
    Ok(Command::Dm {
        to: to.to_owned(),
        text: Some(text.to_owned()).filter(|t| !t.is_empty()),
    })
}

fn one_arg(rest: &str, form: &str) -> Result<String, String> {
    let (arg, extra) = split(rest);
    if arg.is_empty() || !extra.is_empty() {
        return Err(usage(form));
    }
    Ok(arg.to_owned())
}

fn usage(form: &str) -> String {
    format!("usage: {}", form.trim_start_matches(':'))
}

/// The first word and the rest, both trimmed.
fn split(line: &str) -> (&str, &str) {
    let line = line.trim();
    match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    }
}

#[cfg(test)]
mod tests;
