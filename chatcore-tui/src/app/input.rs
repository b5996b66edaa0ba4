//! Editing the message line: a `String` and a cursor counted in characters.

use super::Action;

/// Byte offset of character `cursor` in `s`.
fn byte_at(s: &str, cursor: usize) -> usize {
    s.char_indices().nth(cursor).map_or(s.len(), |(b, _)| b)
}

/// Applies an editing action to `line`; returns the new cursor.
pub(super) fn apply(line: &mut String, cursor: usize, action: &Action) -> usize {
    let len = line.chars().count();
    let cursor = cursor.min(len);
    match action {
        Action::Char(c) => {
            line.insert(byte_at(line, cursor), *c);
            cursor + 1
        }
        Action::Backspace if cursor > 0 => {
            line.remove(byte_at(line, cursor - 1));
            cursor - 1
        }
        Action::Delete if cursor < len => {
            line.remove(byte_at(line, cursor));
            cursor
        }
        Action::DeleteWord => {
            let end = byte_at(line, cursor);
            let head = &line[..end];
            let start = head
                .trim_end()
                .rfind(char::is_whitespace)
                .map_or(0, |i| i + 1);
            let removed = line[start..end].chars().count();
            line.replace_range(start..end, "");
            cursor - removed
        }
        Action::ClearLine => {
            line.clear();
            0
        }
        Action::CursorLeft => cursor.saturating_sub(1),
        Action::CursorRight => (cursor + 1).min(len),
        Action::CursorHome => 0,
        Action::CursorEnd => len,
        _ => cursor,
    }
}

/// Deletes the last word of `line` (command line: the cursor is always at the end).
pub(super) fn delete_word_end(line: &mut String) {
    let n = line.chars().count();
    apply(line, n, &Action::DeleteWord);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_at_the_cursor_with_multibyte_text() {
        let mut s = String::new();
        let mut c = 0;
        for ch in "héllo".chars() {
            c = apply(&mut s, c, &Action::Char(ch));
        }
        c = apply(&mut s, c, &Action::CursorLeft);
        c = apply(&mut s, c, &Action::Backspace);
        assert_eq!((s.as_str(), c), ("hélo", 3));
        c = apply(&mut s, c, &Action::CursorHome);
        c = apply(&mut s, c, &Action::Delete);
        assert_eq!((s.as_str(), c), ("élo", 0));
        let mut w = "say hello world".to_owned();
        let c = apply(&mut w, 15, &Action::DeleteWord);
        assert_eq!((w.as_str(), c), ("say hello ", 10));
        delete_word_end(&mut w);
        assert_eq!(w, "say ");
    }
}
