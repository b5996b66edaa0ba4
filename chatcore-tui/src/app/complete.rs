//! Tab completion in the message line: command names after a leading `/`, user names
//! (members and online users of the current room) anywhere else.

use super::command::NAMES;
use super::{App, Notice};

impl App {
    /// Completes the word before the cursor: fully when one name fits, to the longest
    /// common start when several do (listing them on the notice line).
    pub(super) fn complete(&mut self) {
        let chars: Vec<char> = self.input.chars().collect();
        let cursor = self.cursor.min(chars.len());
        let start = chars[..cursor]
            .iter()
            .rposition(|c| c.is_whitespace())
            .map_or(0, |i| i + 1);
        let word: String = chars[start..cursor].iter().collect();
        let (lead, prefix, candidates): (&str, &str, Vec<String>) =
            if start == 0 && word.starts_with('/') {
                let names = NAMES.iter().map(|n| (*n).to_owned()).collect();
                ("/", &word[1..], names)
            } else if let Some(bare) = word.strip_prefix('@') {
                ("@", bare, self.user_names())
            } else {
                ("", word.as_str(), self.user_names())
            };
        let lower = prefix.to_lowercase();
        let fits: Vec<&String> = candidates
            .iter()
            .filter(|c| c.to_lowercase().starts_with(&lower))
            .collect();
        let done = match fits.as_slice() {
            [] => return,
            [one] => format!("{lead}{one} "),
            many => {
                let names: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
                self.notice = Some(Notice::Info(names.join("  ")));
                format!("{lead}{}", common_start(&names))
            }
        };
        let tail: String = chars[cursor..].iter().collect();
        let head: String = chars[..start].iter().collect();
        self.input = format!("{head}{done}{tail}");
        self.cursor = head.chars().count() + done.chars().count();
    }

    /// Members and online users of the current room (not the user), sorted, once each.
    fn user_names(&self) -> Vec<String> {
        let Some(r) = self.room() else {
            return Vec::new();
        };
        let mut names: Vec<String> = r
            .members
            .iter()
            .chain(r.online.iter())
            .filter(|n| **n != self.me)
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The longest start all `names` share (by characters).
fn common_start(names: &[&str]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let mut out = String::new();
    for (i, c) in first.chars().enumerate() {
        if names.iter().all(|n| n.chars().nth(i) == Some(c)) {
            out.push(c);
        } else {
            break;
        }
    }
    out
}
