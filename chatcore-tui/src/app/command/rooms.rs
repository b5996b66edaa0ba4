//! The moderation commands of the current room (`/invite`, `/kick`, `/ban`, …), parsed
//! into a [`RoomCmd`] the network task runs against the server.

use std::time::Duration;

use chatcore_client::Role;

use super::types::{Command, RoomCmd};
use super::words::{split, usage};

/// Every room command, for the help overlay.
pub const ROOM_HELP: &[(&str, &str)] = &[
    ("/create ROOM [--private]", "create a room (you own it)"),
    ("/invite USER", "invite to this private room"),
    ("/kick USER [REASON]", "remove from this room"),
    ("/ban USER [DUR] [REASON]", "ban (DUR: 30s 10m 2h 7d)"),
    ("/unban USER", "lift a ban"),
    ("/mute USER [DUR]", "stop USER sending here"),
    ("/unmute USER", "lift a mute"),
    ("/topic TEXT", "set (or clear) the topic"),
    ("/op USER  /deop USER", "make moderator / member"),
    ("/members", "list members with roles"),
    ("/block USER", "refuse USER's direct messages"),
];

/// Parses a room command's `word` and `rest`; `None` when `word` is not one.
pub(super) fn parse(word: &str, rest: &str) -> Option<Result<Command, String>> {
    let one = |form: &str| -> Result<String, String> {
        let (user, extra) = split(rest);
        if user.is_empty() || !extra.is_empty() {
            Err(usage(form))
        } else {
            Ok(user.to_owned())
        }
    };
    let room = |r: Result<RoomCmd, String>| Some(r.map(Command::Room));
    match word {
        "create" => Some(create(rest)),
        "block" => Some(one("/block USER").map(Command::Block)),
        "invite" => room(one("/invite USER").map(RoomCmd::Invite)),
        "unban" => room(one("/unban USER").map(RoomCmd::Unban)),
        "unmute" => room(one("/unmute USER").map(RoomCmd::Unmute)),
        "op" => room(one("/op USER").map(|user| RoomCmd::Role {
            user,
            role: Role::Moderator,
        })),
        "deop" => room(one("/deop USER").map(|user| RoomCmd::Role {
            user,
            role: Role::Member,
        })),
        "members" | "names" => room(Ok(RoomCmd::Members)),
        "topic" => room(Ok(RoomCmd::Topic(rest.to_owned()))),
        "kick" => room(
            with_user(rest, "/kick USER [REASON]").map(|(user, reason)| RoomCmd::Kick {
                user,
                reason: non_empty(reason),
            }),
        ),
        "ban" => room(
            with_user(rest, "/ban USER [DURATION] [REASON]").and_then(|(user, tail)| {
                let (duration, reason) = duration_then(&tail)?;
                Ok(RoomCmd::Ban {
                    user,
                    duration,
                    reason: non_empty(reason),
                })
            }),
        ),
        "mute" => room(
            with_user(rest, "/mute USER [DURATION]").and_then(|(user, tail)| match duration_then(
                &tail,
            )? {
                (duration, rest) if rest.is_empty() => Ok(RoomCmd::Mute { user, duration }),
                _ => Err(usage("/mute USER [DURATION]")),
            }),
        ),
        _ => None,
    }
}

fn create(rest: &str) -> Result<Command, String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let private = words.contains(&"--private");
    match words
        .iter()
        .filter(|w| **w != "--private")
        .collect::<Vec<_>>()[..]
    {
        [room] => Ok(Command::Create {
            room: room.to_string(),
            private,
        }),
        _ => Err(usage("/create ROOM [--private]")),
    }
}

fn with_user(rest: &str, form: &str) -> Result<(String, String), String> {
    let (user, tail) = split(rest);
    if user.is_empty() {
        return Err(usage(form));
    }
    Ok((user.to_owned(), tail.to_owned()))
}

fn non_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

/// A leading duration (`90`, `30s`, `10m`, `2h`, `7d`) and the rest; a first word that is
/// no duration starts the rest.
fn duration_then(text: &str) -> Result<(Option<Duration>, String), String> {
    let (first, rest) = split(text);
    match parse_duration(first) {
        Some(Ok(d)) => Ok((Some(d), rest.to_owned())),
        Some(Err(e)) => Err(e),
        None => Ok((None, text.trim().to_owned())),
    }
}

/// `None` when `word` does not look like a duration; an error when it does but is 0.
pub fn parse_duration(word: &str) -> Option<Result<Duration, String>> {
    let at = word
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(word.len());
    let (digits, unit) = word.split_at(at);
    if digits.is_empty() {
        return None;
    }
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    let n: u64 = digits.parse().ok()?;
    if n == 0 {
        return Some(Err(format!("duration {word}: must be more than 0")));
    }
    Some(Ok(Duration::from_secs(n.saturating_mul(scale))))
}
