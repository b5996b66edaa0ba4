//! The words of a command line: splitting it, and wording a usage error.

/// The usage error for the command form `form` (without its leading `:`).
pub(super) fn usage(form: &str) -> String {
    format!("usage: {}", form.trim_start_matches(':'))
}

/// The first word and the rest, both trimmed.
pub(super) fn split(line: &str) -> (&str, &str) {
    let line = line.trim();
    match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    }
}
