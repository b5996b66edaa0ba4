//! `:` commands (command mode) and `/` slash commands (typed in the input line).

mod rooms;
mod types;
mod words;

pub use rooms::{ROOM_HELP, parse_duration};
pub use types::{Command, RoomCmd};

use words::{split, usage};

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

#[cfg(test)]
mod tests;
