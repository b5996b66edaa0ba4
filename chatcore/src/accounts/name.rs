//! The comparison key of an account name: two names with the same key are the same account.
//!
//! The display form is stored as the user typed it; uniqueness and look-ups use
//! [`name_key`]: NFKC (compatibility forms such as full-width `ａｎｎ` and ligatures fold to
//! their plain letters), a Unicode case fold (lower-casing), default-ignorable characters
//! (zero-width space and joiners, soft hyphen, BOM) removed, and a small table of
//! confusables folded to one letter: Cyrillic and Greek letters that look like Latin ones,
//! `0`→`o`, `1`→`l`, and `rn`→`m`. It is cheap and catches the common impersonations; it is
//! not the full Unicode confusables algorithm (UTS #39).

use unicode_normalization::UnicodeNormalization;

/// The key `name` is compared by: NFKC, a case fold, invisible characters removed, and
/// common look-alikes (Cyrillic and Greek letters, `0`, `1`, `rn`) folded to one Latin form.
/// Two names with the same key are the same account.
pub fn name_key(name: &str) -> String {
    let folded: String = name
        .nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| !is_default_ignorable(*c))
        .map(confusable)
        .collect();
    // Case folding can produce decomposed forms again (`İ` → `i̇`): normalize once more.
    let folded: String = folded.nfkc().collect();
    folded.replace("rn", "m")
}

/// Characters that render as nothing and so can hide inside a name.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
    )
}

/// One character folded to the Latin letter it is usually mistaken for.
fn confusable(c: char) -> char {
    match c {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        // Digits and Latin look-alikes
        '0' => 'o',
        '1' | 'ı' | 'ǀ' => 'l',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::name_key;

    #[test]
    fn case_and_compatibility_forms_fold() {
        assert_eq!(name_key("Ann"), name_key("ann"));
        assert_eq!(name_key("ANN"), "ann");
        assert_eq!(name_key("ａｎｎ"), "ann", "full-width");
        assert_eq!(name_key("ﬁona"), "fiona", "ligature");
        assert_eq!(name_key("Straße"), name_key("strasse").replace("ss", "ß"));
    }

    #[test]
    fn confusables_fold() {
        assert_eq!(name_key("аnn"), "ann", "Cyrillic a");
        assert_eq!(name_key("b\u{043E}b"), "bob", "Cyrillic o");
        assert_eq!(name_key("b0b"), "bob");
        assert_eq!(name_key("pau1"), "paul");
        assert_eq!(name_key("an\u{200B}n"), "ann", "zero-width space");
        assert_eq!(name_key("barn"), "bam");
        assert_ne!(name_key("ann"), name_key("anne"));
    }
}
