//! Security headers on every HTTP response: no MIME sniffing, no referrer, no framing (a page
//! elsewhere cannot overlay the client to steal clicks), no plugins, no `<base>` rewriting.
//!
//! The Content-Security-Policy lets pages run only scripts and stylesheets of this origin: the
//! browser client's are files (`/js/*.js`, `/app.css`), with no inline script, inline style or
//! `eval`, so a script that slipped into the page as markup would not run either.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::{
    CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

/// The policy: scripts, styles and form targets locked to this origin; framing, plugins and
/// `<base>` to nothing.
const CSP: &str = "script-src 'self'; style-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// The headers and their values, set unless a handler set them already.
const HEADERS: [(HeaderName, &str); 4] = [
    (CONTENT_SECURITY_POLICY, CSP),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (REFERRER_POLICY, "no-referrer"),
    (X_FRAME_OPTIONS, "DENY"),
];

/// The middleware.
pub(crate) async fn add(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
