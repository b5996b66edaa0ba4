//! Full-text search: what goes into the FTS5 index, and how a user's query becomes a safe
//! FTS5 expression.
//!
//! The store's word rules (the same as `MemoryStore`'s): a word is a maximal run of
//! alphanumeric characters (Unicode), compared lowercased; a message matches when it contains
//! every word of the query. FTS5's own tokenizers draw word boundaries differently
//! (`unicode61` folds diacritics and knows another Unicode version), so the store does the
//! splitting itself: the index receives the message's words lowercased and joined by single
//! spaces, and the `ascii` tokenizer, which splits only at ASCII non-alphanumerics, cuts that
//! string exactly at those spaces.
//!
//! The user's text never reaches `MATCH` as written: it is split with the same rules and each
//! word becomes one double-quoted string (`"hello" "world"`, an implicit AND of one-token
//! phrases). Words hold only alphanumeric characters, so they cannot contain a quote, an
//! operator character or a parenthesis, and `AND`, `OR`, `NOT`, `NEAR` inside quotes are
//! plain words.

use chatcore::{Error, Result};

/// The words of `text` by the store's rules, lowercased, in order (duplicates kept).
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The text indexed for a message body: its words, lowercased, joined by single spaces.
///
/// Runs on the indexer thread for every message, so ASCII text (the common case) is split
/// and lowercased as bytes, without decoding characters or making a `String` per word.
/// Repeated words are kept: FTS5 records a word once per message anyway (the index keeps no
/// positions), and finding repeats here cost more than FTS5's own check (measured).
pub(crate) fn index_text(body: &str) -> String {
    if body.is_ascii() {
        // In ASCII text the word rules are `is_ascii_alphanumeric`.
        let mut out = Vec::with_capacity(body.len());
        let mut in_word = false;
        for &b in body.as_bytes() {
            if b.is_ascii_alphanumeric() {
                if !in_word && !out.is_empty() {
                    out.push(b' ');
                }
                out.push(b.to_ascii_lowercase());
                in_word = true;
            } else {
                in_word = false;
            }
        }
        // ASCII bytes only, so always valid.
        return String::from_utf8(out).unwrap_or_default();
    }
    let mut out = String::with_capacity(body.len());
    for word in body.split(|c: char| !c.is_alphanumeric()) {
        // `str::to_lowercase`, as `words` does: it knows context rules (final sigma) that
        // char-by-char lowercasing does not.
        push_word(&mut out, &word.to_lowercase());
    }
    out
}

/// Appends `word` (unless empty) to `out`, after a space unless it is the first.
fn push_word(out: &mut String, word: &str) {
    if word.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
}

/// The FTS5 `MATCH` expression for a user's query: each distinct word quoted, all required.
/// A query without a word is [`Error::BadQuery`].
pub(crate) fn match_expression(query: &str) -> Result<String> {
    let mut seen: Vec<String> = Vec::new();
    for word in words(query) {
        if !seen.contains(&word) {
            seen.push(word);
        }
    }
    if seen.is_empty() {
        return Err(Error::BadQuery("no words to search for".into()));
    }
    let mut expr = String::with_capacity(query.len() + 3 * seen.len());
    for word in &seen {
        if !expr.is_empty() {
            expr.push(' ');
        }
        expr.push('"');
        // Words are alphanumeric only, so this never fires; it keeps the quoting correct
        // should the word rules ever change.
        expr.push_str(&word.replace('"', "\"\""));
        expr.push('"');
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_text_is_lowercased_words() {
        assert_eq!(
            index_text("Hello, WORLD!  it's 2024"),
            "hello world it s 2024"
        );
        assert_eq!(index_text("Ça va? Ünïcödé"), "ça va ünïcödé");
        assert_eq!(index_text("  ...  "), "");
        assert_eq!(index_text("a\0b"), "a b");
        assert_eq!(index_text("שלום עולם 🙂 ok"), "שלום עולם ok");
        for text in ["ΣΟΦΟΣ σοφός", "İstanbul", "MiXeD ascii ÀND ñ", "a-b_c"] {
            assert_eq!(index_text(text), words(text).collect::<Vec<_>>().join(" "));
        }
        assert_eq!(index_text("the cat and THE dog"), "the cat and the dog");
        assert_eq!(index_text("Ça ça ÇA"), "ça ça ça");
        assert_eq!(index_text("ok, Ça VA"), "ok ça va");
    }

    #[test]
    fn hostile_queries_become_quoted_words() {
        let cases = [
            ("\"", None),
            ("*", None),
            ("NEAR(", Some("\"near\"")),
            ("a OR", Some("\"a\" \"or\"")),
            ("-x", Some("\"x\"")),
            (":", None),
            ("((a) b", Some("\"a\" \"b\"")),
            ("x* AND NOT y^", Some("\"x\" \"and\" \"not\" \"y\"")),
            ("col:val", Some("\"col\" \"val\"")),
            ("\"unbalanced", Some("\"unbalanced\"")),
            ("Hi hi HI", Some("\"hi\"")),
            ("", None),
            ("   \t\n", None),
        ];
        for (query, want) in cases {
            match (match_expression(query), want) {
                (Ok(expr), Some(want)) => assert_eq!(expr, want, "query {query:?}"),
                (Err(Error::BadQuery(_)), None) => {}
                (got, want) => panic!("query {query:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
