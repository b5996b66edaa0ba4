//! fred's errors, read for what the bus does next: retry (the connection) or report.

use std::time::Duration;

use crate::Error;

pub(super) fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// fred reports I/O errors as their `Debug` text (`Os { code: 111, kind: ConnectionRefused,
/// message: "Connection refused" }`); keep the human part for a one-line error.
pub(super) fn tidy_reason(details: &str) -> String {
    for field in ["message: \"", "error: \""] {
        if let Some(start) = details.find(field) {
            let rest = &details[start + field.len()..];
            if let Some(end) = rest.find('"') {
                return rest[..end].to_owned();
            }
        }
    }
    details.trim_end_matches('.').replace('\n', " ")
}

/// Whether a failed command is worth retrying later (the connection was lost or slow) rather
/// than a refusal by Redis (permissions, bad arguments).
pub(super) fn is_transient(e: &fred::error::Error) -> bool {
    use fred::error::ErrorKind as K;
    matches!(e.kind(), K::IO | K::Canceled | K::Timeout | K::Backpressure)
}

/// A failed command: `Disconnected` when it was the connection, the error itself otherwise.
pub(super) fn classify(e: fred::error::Error) -> Error {
    if is_transient(&e) {
        Error::Disconnected
    } else {
        Error::from(e)
    }
}

#[cfg(test)]
mod tests {
    use super::tidy_reason;

    #[test]
    fn io_errors_read_like_sentences() {
        assert_eq!(
            tidy_reason(
                r#"Os { code: 111, kind: ConnectionRefused, message: "Connection refused" }"#
            ),
            "Connection refused"
        );
        assert_eq!(
            tidy_reason(
                r#"Custom { kind: Uncategorized, error: "failed to lookup address information: Name or service not known" }"#
            ),
            "failed to lookup address information: Name or service not known"
        );
        assert_eq!(
            tidy_reason("Connection closed.\nbye"),
            "Connection closed.\nbye".replace('\n', " ")
        );
        assert_eq!(tidy_reason("Timeout."), "Timeout");
    }
}
