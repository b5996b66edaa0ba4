//! Validation of user and room names, and the stable id of a direct-message room.
//!
//! Names are checked once at the edge so stores, buses and logs never see control characters
//! or unbounded strings. Names are stored and compared exactly (case-sensitive, no
//! normalization).

use crate::{Error, Result};

/// Longest user name, in characters.
pub const MAX_USER_CHARS: usize = 32;
/// Longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 64;
/// Prefix of every direct-message room name.
pub const DM_PREFIX: &str = "dm:";
/// The sender of messages the host posts as the system ([`Sender::System`](crate::Sender::System)).
/// It contains `:`, which [`validate_user`] refuses, so no client can connect under it.
pub const SYSTEM_USER: &str = ":system";

/// Checks a user name: 1–32 characters, no whitespace, no control characters, no `:` (the DM
/// room separator). Letters of any script, digits, emoji and punctuation are fine.
pub fn validate_user(name: &str) -> Result<()> {
    check(name, "user", MAX_USER_CHARS)?;
    if name.contains(':') {
        return Err(Error::invalid("user", "must not contain ':'"));
    }
    Ok(())
}

/// Checks a room name a client may join or create: 1–64 characters, no whitespace, no control
/// characters, and not starting with `dm:` (direct rooms are made with the `dm` command).
pub fn validate_room(name: &str) -> Result<()> {
    check(name, "room", MAX_ROOM_CHARS)?;
    if name.starts_with(DM_PREFIX) {
        return Err(Error::invalid(
            "room",
            "names starting with 'dm:' are reserved for direct messages",
        ));
    }
    Ok(())
}

/// The stable room name of the direct conversation between `a` and `b` (order does not
/// matter): `dm:<lesser>:<greater>`.
pub fn dm_room(a: &str, b: &str) -> String {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    format!("{DM_PREFIX}{x}:{y}")
}

/// The two users of a direct-message room name, or `None` when it is not one.
pub fn dm_members(room: &str) -> Option<(&str, &str)> {
    room.strip_prefix(DM_PREFIX)?.split_once(':')
}

fn check(name: &str, field: &'static str, max: usize) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let chars = name.chars().count();
    if chars > max {
        return Err(Error::invalid(
            field,
            format!("{chars} characters, at most {max} allowed"),
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_unicode_names() {
        for n in ["alice", "Bob_2", "żółw", "שלום", "🦀", "o'neil", "a%b_c"] {
            validate_user(n).expect(n);
            validate_room(n).expect(n);
        }
    }

    #[test]
    fn rejects_bad_names() {
        for n in ["", "a b", "a\0b", "tab\t", "new\nline", &"x".repeat(65)] {
            assert!(validate_room(n).is_err(), "{n:?}");
        }
        assert!(validate_user("a:b").is_err());
        assert!(
            validate_user(SYSTEM_USER).is_err(),
            "nobody can be the system"
        );
        assert!(validate_user(&"x".repeat(33)).is_err());
        assert!(validate_room("dm:a:b").is_err());
    }

    #[test]
    fn dm_room_is_symmetric_and_parses_back() {
        assert_eq!(dm_room("bob", "alice"), dm_room("alice", "bob"));
        assert_eq!(dm_members(&dm_room("bob", "alice")), Some(("alice", "bob")));
        assert_eq!(dm_members("general"), None);
    }
}
