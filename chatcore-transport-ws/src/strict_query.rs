//! Strict UTF-8 in query strings, checked before any handler runs.
//!
//! The usual query decoders replace bytes that are not UTF-8 with U+FFFD, so `?user=%FF%FE`
//! and `?user=%FE%FF` would both become `"\u{fffd}\u{fffd}"`: different raw names, one user.
//! A query with a percent-escape that does not decode to UTF-8 is
//! refused with 400 instead.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chatcore::ErrorCode;

use crate::api_error::ApiError;

/// Whether every `&`-separated key and value of `query` percent-decodes to valid UTF-8.
pub(crate) fn is_strict_utf8(query: &str) -> bool {
    let mut decoded = Vec::with_capacity(query.len());
    for part in query.split(['&', '=']) {
        decoded.clear();
        let bytes = part.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            decoded.push(b);
                            i += 3;
                        }
                        // A lone `%` is kept as is, as form decoding does.
                        None => {
                            decoded.push(b'%');
                            i += 1;
                        }
                    }
                }
                b => {
                    decoded.push(b);
                    i += 1;
                }
            }
        }
        if std::str::from_utf8(&decoded).is_err() {
            return false;
        }
    }
    true
}

/// The middleware: 400 `bad_request` for a query string that is not strict UTF-8.
pub(crate) async fn guard(request: Request, next: Next) -> Response {
    match request.uri().query() {
        Some(query) if !is_strict_utf8(query) => ApiError::bad_request(
            ErrorCode::BadRequest,
            "the query string is not valid UTF-8 once percent-decoded",
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_bytes_are_refused() {
        for bad in ["user=%FF%FE", "user=a%C0b", "x=1&user=%E2%82", "%FF=x"] {
            assert!(!is_strict_utf8(bad), "{bad}");
        }
        for good in [
            "user=ann",
            "user=g%C3%A9n%C3%A9ral",
            "user=%E2%82%AC&token=a.b.c",
            "q=100%",
            "",
            "a=&b",
        ] {
            assert!(is_strict_utf8(good), "{good}");
        }
    }
}
