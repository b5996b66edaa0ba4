//! What a reaction's emoji may be: one short grapheme cluster, not arbitrary text.
//!
//! The rule is checked before anything is stored, so a hostile client cannot pin a kilobyte of
//! text, a zero-width-joiner chain or control characters to someone else's message. It is a
//! shape check, not an emoji table: a new emoji needs no server upgrade.

use unicode_segmentation::UnicodeSegmentation;

use crate::{Error, Result};

/// Largest emoji in bytes (UTF-8). Every recommended emoji sequence fits: the longest, a kiss
/// or couple with two skin tones, is 35 bytes; a zero-width-joiner chain or a stack of
/// combining marks past that (one grapheme cluster of any length) does not.
pub const MAX_EMOJI_BYTES: usize = 40;

/// Checks that `emoji` may be used as a reaction: 1 to [`MAX_EMOJI_BYTES`] bytes, exactly one
/// extended grapheme cluster, no control, whitespace or letter characters, and at least one
/// character outside ASCII (so `a`, `1` or `:` are refused, while the keycap `1️⃣` is fine).
///
/// Refusals are [`Error::Invalid`] on the field `emoji`, with the reason.
pub fn check_emoji(emoji: &str) -> Result<()> {
    if emoji.is_empty() {
        return Err(Error::invalid("emoji", "must not be empty"));
    }
    if emoji.len() > MAX_EMOJI_BYTES {
        return Err(Error::invalid(
            "emoji",
            format!("must be at most {MAX_EMOJI_BYTES} bytes"),
        ));
    }
    if emoji.graphemes(true).nth(1).is_some() {
        return Err(Error::invalid("emoji", "must be one grapheme cluster"));
    }
    if emoji
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c.is_alphabetic())
    {
        return Err(Error::invalid(
            "emoji",
            "must not contain control, space or letter characters",
        ));
    }
    if emoji.is_ascii() {
        return Err(Error::invalid("emoji", "must be an emoji, not plain text"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(emoji: &str) -> String {
        match check_emoji(emoji) {
            Err(Error::Invalid { field, reason }) => {
                assert_eq!(field, "emoji");
                reason
            }
            other => panic!("{emoji:?} should be refused as invalid, got {other:?}"),
        }
    }

    #[test]
    fn single_emoji_are_accepted() {
        for emoji in [
            "👍",
            "❤️",
            "🎉",
            "1️⃣",
            "👍🏽",
            "🇫🇷",
            "👨\u{200d}👩\u{200d}👧\u{200d}👦",
            "🏳️\u{200d}🌈",
            "👨🏻\u{200d}❤️\u{200d}💋\u{200d}👨🏼",
        ] {
            assert!(check_emoji(emoji).is_ok(), "{emoji:?} should be accepted");
        }
    }

    #[test]
    fn hostile_emoji_are_refused_with_the_reason() {
        assert_eq!(refused(""), "must not be empty");
        assert!(refused(&"👍".repeat(256)).contains(&format!("at most {MAX_EMOJI_BYTES} bytes")));
        assert_eq!(refused("👍👍"), "must be one grapheme cluster");
        assert_eq!(refused("ok"), "must be one grapheme cluster");
        assert!(refused("\0").contains("control"));
        assert!(refused("👍\0").contains("grapheme") || refused("👍\0").contains("control"));
        assert!(refused(" ").contains("control, space"));
        assert!(refused("é").contains("letter"));
        assert!(refused("中").contains("letter"));
        assert_eq!(refused("1"), "must be an emoji, not plain text");
        assert_eq!(refused(":"), "must be an emoji, not plain text");
    }

    #[test]
    fn a_zero_width_joiner_chain_is_one_cluster_but_too_long() {
        let chain = ["👨"; 12].join("\u{200d}");
        assert_eq!(chain.graphemes(true).count(), 1, "the chain is one cluster");
        assert!(refused(&chain).contains(&format!("at most {MAX_EMOJI_BYTES} bytes")));
    }

    #[test]
    fn combining_marks_cannot_stack_past_the_bound() {
        let zalgo = format!("👍{}", "\u{0301}".repeat(40));
        assert_eq!(zalgo.graphemes(true).count(), 1);
        assert!(refused(&zalgo).contains(&format!("at most {MAX_EMOJI_BYTES} bytes")));
    }
}
