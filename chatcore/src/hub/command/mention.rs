//! Mentions: which users a message names with `@name`, and the `mention` notification they
//! get once it is committed.
//!
//! The rule (also in `PROTOCOL.md`, "Mentions"):
//! - a mention starts with `@` at the start of the text or after a character that is neither
//!   alphanumeric nor `@` (so `ann@example.com` mentions nobody);
//! - the name is the run of non-whitespace characters after the `@`, cut at
//!   [`MAX_USER_CHARS`](crate::names::MAX_USER_CHARS); when that run is not a member, up to
//!   [`MAX_TRAILING`] trailing ASCII punctuation characters are dropped one by one (so
//!   `@ann,` and `(@ann)` mention `ann`, while a member really named `ann,` still matches
//!   first);
//! - only durable members of the room count (a mention never reveals or notifies someone
//!   outside the room), the sender never mentions themselves, each user counts once, and at
//!   most [`MAX_MENTIONS`] distinct names are looked up per message; the list is sorted.

use crate::Result;
use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::names::{MAX_USER_CHARS, validate_user};
use crate::protocol::{Event, Message};

/// Most distinct `@name`s looked up in one message; later ones are not mentions.
pub(crate) const MAX_MENTIONS: usize = 20;

/// Most trailing punctuation characters dropped from a candidate name.
pub(crate) const MAX_TRAILING: usize = 3;

/// Longest text a `mention` notification carries, in bytes.
pub(crate) const MENTION_TEXT_BYTES: usize = 200;

/// The candidate names of each `@` in `text`, longest first, at most [`MAX_MENTIONS`]
/// mentions (duplicates dropped).
pub(crate) fn candidates(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    // Most messages mention no one: one `memchr` instead of a look at every character (1 %
    // of the server's CPU in a room of 10, measured).
    if !text.contains('@') {
        return out;
    }
    let mut prev: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && prev.is_none_or(|p| !p.is_alphanumeric() && p != '@');
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let run: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace())
            .take(MAX_USER_CHARS)
            .collect();
        let mut names = Vec::new();
        let mut name = run.as_str();
        for _ in 0..=MAX_TRAILING {
            if validate_user(name).is_ok() {
                names.push(name.to_owned());
            }
            match name.chars().last() {
                Some(last) if last.is_ascii_punctuation() => name = &name[..name.len() - 1],
                _ => break,
            }
        }
        if !names.is_empty() && !out.contains(&names) {
            out.push(names);
            if out.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    out
}

/// The members of `room` that `text` mentions, sorted and without duplicates (see the module
/// docs for the rule). Costs one membership lookup per candidate, and nothing for text
/// without an `@`.
pub(crate) async fn resolve(
    core: &Core,
    room: &str,
    sender: &str,
    text: &str,
) -> Result<Vec<String>> {
    let mut found: Vec<String> = Vec::new();
    for names in candidates(text) {
        for name in names {
            if name == sender || found.contains(&name) {
                break;
            }
            if core.store.member(room, &name).await?.is_some() {
                found.push(name);
                break;
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Tells each user `message` mentions, on this node and through the bus on the others.
pub(crate) fn notify(core: &Core, message: &Message) {
    for user in &message.mentions {
        let event = mention_event(message);
        core.bus.publish(BusEvent::Mention {
            user: user.clone(),
            room: message.room.clone(),
            seq: message.seq,
            sender: message.sender.clone(),
            text: short_text(&message.text).to_owned(),
        });
        notify_here(core, user, event);
    }
}

/// Sends a `mention` to `user`'s sessions on this node.
pub(crate) fn notify_here(core: &Core, user: &str, event: Event) {
    for session in core.sessions_of(user) {
        session.queue.send(event.clone());
    }
}

fn mention_event(message: &Message) -> Event {
    Event::Mention {
        room: message.room.clone(),
        seq: message.seq,
        sender: message.sender.clone(),
        text: short_text(&message.text).to_owned(),
    }
}

/// The start of `text`, at most [`MENTION_TEXT_BYTES`] bytes, cut at a character boundary.
fn short_text(text: &str) -> &str {
    if text.len() <= MENTION_TEXT_BYTES {
        return text;
    }
    let mut end = MENTION_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Vec<String> {
        candidates(text).into_iter().map(|c| c[0].clone()).collect()
    }

    #[test]
    fn word_boundary_and_punctuation() {
        assert_eq!(first("hi @ann and @bob"), ["ann", "bob"]);
        assert_eq!(first("@ann, @bob."), ["ann,", "bob."]);
        assert_eq!(candidates("(@ann)!")[0], ["ann)!", "ann)", "ann"]);
        assert!(candidates("mail ann@example.com").is_empty());
        // The second `@` follows an `@`: only the user literally named `@ann` is a candidate.
        assert_eq!(candidates("@@ann"), [["@ann"]]);
        assert!(candidates("@ alone").is_empty());
        assert!(candidates("a @:system b").is_empty());
        assert!(candidates("@Ünï\0x").is_empty());
        assert_eq!(first("@Ünï!"), ["Ünï!"]);
    }

    #[test]
    fn duplicates_dropped_and_count_bounded() {
        assert_eq!(first("@ann @ann @bob @ann"), ["ann", "bob"]);
        let many: String = (0..100).map(|i| format!("@u{i} ")).collect();
        assert_eq!(candidates(&many).len(), MAX_MENTIONS);
        let long = format!("@{}", "x".repeat(100));
        assert_eq!(first(&long), ["x".repeat(MAX_USER_CHARS)]);
    }

    #[test]
    fn short_text_cuts_at_a_char_boundary() {
        let text = "é".repeat(150);
        let cut = short_text(&text);
        assert!(cut.len() <= MENTION_TEXT_BYTES && cut.len() >= MENTION_TEXT_BYTES - 1);
        assert_eq!(short_text("hi"), "hi");
    }
}
