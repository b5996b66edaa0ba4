//! JSON error responses: `{"error":{"code":"...","message":"..."}}` with a fitting status.

use axum::Json;
use axum::response::{IntoResponse, Response};
use chatcore::ErrorCode;
use http::StatusCode;
use http::header::{HeaderName, HeaderValue, WWW_AUTHENTICATE};
use serde_json::json;

/// An HTTP error with a stable code (the same codes as WebSocket error frames).
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.headers.push((name, HeaderValue::from_static(value)));
        self
    }

    pub(crate) fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 with the `WWW-Authenticate` challenge.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
            .with_header(WWW_AUTHENTICATE, "Bearer realm=\"chatcore\"")
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            message,
        )
    }

    /// A JSON body that could not be read: syntax and data errors alike are a bad request
    /// (axum says 422 for the latter); 413 and 415 keep their status.
    pub(crate) fn from_json(e: &axum::extract::rejection::JsonRejection) -> Self {
        let status = match e.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            other => other,
        };
        Self::new(status, ErrorCode::BadRequest, e.body_text())
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// Maps a core error to its HTTP status, keeping the core's stable code.
    pub(crate) fn from_core(e: &chatcore::Error) -> Self {
        use chatcore::Error as E;
        let status = match e {
            E::UnknownRoom(_) => StatusCode::NOT_FOUND,
            E::NotMember(_) | E::Forbidden(_) => StatusCode::FORBIDDEN,
            E::RoomTaken(_) => StatusCode::CONFLICT,
            E::Invalid { .. } | E::BadCursor(_) | E::BadQuery(_) => StatusCode::BAD_REQUEST,
            E::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::Unauthorized(_) => return Self::unauthorized(e.to_string()),
            E::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            E::Closed => return Self::unavailable("the server is shutting down"),
            E::Store(_) | E::Bus(_) | E::SchemaTooNew { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code.as_str(), "message": self.message}}));
        let mut response = (self.status, body).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_statuses() {
        let cases = [
            (
                chatcore::Error::UnknownRoom("r".into()),
                404,
                "unknown_room",
            ),
            (chatcore::Error::Forbidden("x".into()), 403, "forbidden"),
            (chatcore::Error::BadCursor("x".into()), 400, "bad_cursor"),
            (
                chatcore::Error::Unauthorized("x".into()),
                401,
                "unauthorized",
            ),
            (chatcore::Error::Closed, 503, "unavailable"),
        ];
        for (e, status, code) in cases {
            let a = ApiError::from_core(&e);
            assert_eq!(a.status.as_u16(), status, "{e}");
            assert_eq!(a.code.as_str(), code, "{e}");
        }
        let r = ApiError::unauthorized("no").into_response();
        assert!(r.headers().contains_key(WWW_AUTHENTICATE));
    }
}
