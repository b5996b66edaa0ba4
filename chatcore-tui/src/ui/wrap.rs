//! Word wrapping by display width (wide characters count double).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display width of `s`.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Wraps `text` (one line, no newlines) into lines of at most `first` columns for the first
/// line and `rest` for the others. Words longer than a line are broken.
pub fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let (first, rest) = (first.max(1), rest.max(1));
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0;
    let limit = |lines: &Vec<String>| if lines.is_empty() { first } else { rest };
    for word in text.split(' ') {
        let ww = width(word);
        let space = usize::from(!line.is_empty());
        if w + space + ww <= limit(&lines) {
            if space == 1 {
                line.push(' ');
            }
            line.push_str(word);
            w += space + ww;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            w = 0;
        }
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if w + cw > limit(&lines) && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                w = 0;
            }
            line.push(c);
            w += cw;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_breaks_long_ones() {
        assert_eq!(wrap("aa bb cc", 5, 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("aa bb cc", 2, 8), vec!["aa", "bb cc"]);
        assert_eq!(wrap("abcdefgh", 3, 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 3, 3), vec![""]);
        assert_eq!(wrap("日本語", 4, 4), vec!["日本", "語"]);
    }
}
