//! The bearer token of an HTTP request (WebSocket handshake and REST API alike).

use http::header::{AUTHORIZATION, HeaderMap};

use crate::api_error::ApiError;

/// A bearer token from `Authorization`, if the header is there.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "unsupported Authorization scheme; use `Authorization: Bearer <token>`",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::unauthorized("empty bearer token"));
    }
    Ok(Some(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// Headers with one `Authorization` value, or none.
    fn authorization(value: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(v) = value {
            headers.insert(AUTHORIZATION, HeaderValue::from_static(v));
        }
        headers
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(&authorization(None)).ok(), Some(None));
        let t = authorization(Some("bearer abc"));
        assert_eq!(bearer(&t).ok(), Some(Some("abc".to_owned())));
        assert!(bearer(&authorization(Some("Basic abc"))).is_err());
        assert!(bearer(&authorization(Some("Bearer "))).is_err());
    }
}
