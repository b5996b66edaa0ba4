//! The `Host` allow-list checked before any handler runs: the defence against DNS rebinding.
//!
//! A web page can point a name it controls (`rebind.example`) at the server's address; the
//! browser then treats the server as that page's own origin, and the page can read every
//! answer, `Origin` check or not. What gives it away is the `Host` header, which is the
//! page's name: the server answers only to loopback names, IP addresses (a page cannot be
//! served from a name that is an IP address of ours without being ours) and the names it was
//! configured with ([`WsConfig::allowed_hosts`](crate::WsConfig::allowed_hosts)).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chatcore::ErrorCode;
use http::header::HOST;
use http::{HeaderMap, StatusCode};

use crate::api_error::ApiError;
use crate::metrics::Rejection;
use crate::origin::{is_ip_host, is_loopback_host, split_authority};
use crate::shared::Shared;

/// Whether the host name `host` (lowercase, no port) is one the server answers to.
pub(crate) fn is_allowed(allowed: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.');
    is_loopback_host(host) || is_ip_host(host) || allowed.iter().any(|a| a == "*" || a == host)
}

/// Checks the request's `Host` against the allow-list; a request without one (HTTP/1.0, not
/// a browser) passes.
pub(crate) fn check(allowed: &[String], headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(HOST) else {
        return Ok(());
    };
    let raw = value.to_str().unwrap_or("<non-ASCII host>");
    match split_authority(raw, 0) {
        Some((host, _)) if is_allowed(allowed, &host) => Ok(()),
        _ => Err(format!(
            "this server does not answer to the host {raw}; it answers to loopback names, IP \
             addresses and its configured public names"
        )),
    }
}

/// The middleware: 421 Misdirected Request for a `Host` that is not allowed.
pub(crate) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    match check(&shared.config.allowed_hosts, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(why) => {
            shared.metrics.rejected(Rejection::Host);
            tracing::debug!(reason = %why, "request for a foreign host refused");
            ApiError::new(StatusCode::MISDIRECTED_REQUEST, ErrorCode::Forbidden, why)
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_host(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).expect("host"));
        h
    }

    #[test]
    fn loopback_ips_and_listed_names_pass() {
        let listed = ["chat.example.com".to_owned()];
        for host in [
            "localhost:8080",
            "app.localhost",
            "127.0.0.1:8080",
            "[::1]:8080",
            "10.1.2.3",
            "[2001:db8::1]:443",
            "chat.example.com",
            "CHAT.example.com.:443",
        ] {
            assert!(check(&listed, &with_host(host)).is_ok(), "{host}");
        }
        assert!(check(&listed, &HeaderMap::new()).is_ok(), "no Host");
    }

    #[test]
    fn other_names_are_refused() {
        let listed = ["chat.example.com".to_owned()];
        for host in [
            "rebind.example",
            "rebind.example:8080",
            "chat.example.com.evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(check(&listed, &with_host(host)).is_err(), "{host}");
        }
        assert!(check(&["*".to_owned()], &with_host("rebind.example")).is_ok());
    }
}
