//! `GET /ws`: everything decided before the upgrade, in this order: a valid WebSocket request
//! (else 400/426), an allowed `Origin` (else 403), a known subprotocol (else 400), valid
//! credentials (else 401), a free connection slot (else 503), an open hub (else 503). Only
//! then does the server answer 101 and hand the socket to [`connection::run`]. A peer IP at
//! the hub's `max_connections_per_ip` is answered 101 too and then closed with 4429 at once:
//! a browser cannot read the HTTP status of a refused WebSocket, but it reads a close code.
//!
//! The upgrade is done here rather than through axum's `WebSocketUpgrade` because ending a
//! connection well needs the raw socket back after the WebSocket is done with it (see
//! [`connection`](crate::connection)): after an oversized message tungstenite can no longer
//! read, and only the raw socket can drain the rest so the 1009 close frame is not lost to a
//! TCP reset. Only HTTP/1.1 upgrades are supported.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::response::{IntoResponse, Response};
use chatcore::ErrorCode;
use chatcore::auth::Credentials;
use chatcore::protocol::Codec;
use chatcore::transport::{CredentialHints, choose_credentials};
use futures::StreamExt;
use http::header::{
    CONNECTION, HeaderMap, RETRY_AFTER, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderValue, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::accept::PendingHandshake;
use crate::api_error::ApiError;
use crate::bearer::bearer;
use crate::connection::{self, ConnContext};
use crate::metrics::Rejection;
use crate::shared::Shared;
use crate::{close, origin};

/// Credentials a browser can only pass in the URL (it cannot set headers on a WebSocket).
#[derive(Debug, Default, Deserialize)]
struct WsQuery {
    /// A JWT, as an alternative to `Authorization: Bearer`.
    token: Option<String>,
    /// A guest name, when the authenticator lets guests in.
    user: Option<String>,
}

type Refusal = (Rejection, ApiError);

/// The `/ws` handler.
pub(crate) async fn upgrade(State(shared): State<Arc<Shared>>, mut request: Request) -> Response {
    match accept(&shared, &mut request).await {
        Ok(response) => response,
        Err((why, error)) => {
            shared.metrics.rejected(why);
            tracing::debug!(reason = ?why, status = %error.status(), "WebSocket handshake refused");
            error.into_response()
        }
    }
}

async fn accept(shared: &Arc<Shared>, request: &mut Request) -> Result<Response, Refusal> {
    let headers = request.headers();
    let key = websocket_key(headers)?;
    let policy = origin::Policy {
        allowed: &shared.config.allowed_origins,
        loopback: shared.config.allow_loopback_origins,
        hosts: &shared.config.allowed_hosts,
    };
    origin::check(policy, headers).map_err(|r| (Rejection::Origin, ApiError::forbidden(r.0)))?;
    let (codec, echo) = choose_codec(headers)?;
    let hub = &shared.hub;
    let credentials = credentials(headers, request, hub.authenticator().allows_guests())
        .map_err(|e| (Rejection::Unauthorized, e))?;
    let identity = hub.authenticate(&credentials).await.map_err(|e| {
        (
            Rejection::Unauthorized,
            ApiError::unauthorized(e.to_string()),
        )
    })?;
    let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
        let error = ApiError::bad_request(
            ErrorCode::BadRequest,
            "this connection cannot be upgraded; open the WebSocket over HTTP/1.1",
        );
        return Err((Rejection::BadRequest, error));
    };
    // The connection's own slot under the cap (taken at accept, see `accept`), else a free one.
    let held = request
        .extensions()
        .get::<PendingHandshake>()
        .and_then(PendingHandshake::finish);
    let permit = held
        .map_or_else(|| Arc::clone(&shared.permits).try_acquire_owned(), Ok)
        .map_err(|_| {
            let message = format!(
                "the server is at its limit of {} connections; retry later",
                shared.config.max_connections
            );
            (
                Rejection::Capacity,
                ApiError::unavailable(message).with_header(RETRY_AFTER, "5"),
            )
        })?;
    // The peer's address, for the hub's per-IP limits (see `accept::serve_http`); a router
    // served without it opens the host's own, unlimited kind of session.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let connected = match peer {
        Some(ip) => hub.connect_from(identity, codec, ip),
        None => hub.connect(identity, codec),
    };
    let kill = shared.kill.clone();
    let upgrade_timeout = shared.config.handshake_timeout;
    match connected {
        Ok((session, outbound)) => {
            shared.metrics.connections_total.increment(1);
            let ctx = ConnContext {
                config: Arc::clone(&shared.config),
                metrics: Arc::clone(&shared.metrics),
            };
            shared.tracker.spawn(async move {
                let _permit = permit;
                let Some(upgraded) = upgraded(on_upgrade, upgrade_timeout).await else {
                    return;
                };
                // Plain TCP lets the hub write to the socket itself (`connection::direct`).
                let run: Pin<Box<dyn Future<Output = ()> + Send>> =
                    match upgraded.downcast::<TokioIo<TcpStream>>() {
                        // Copied: the bytes hyper read past the request (usually none) are a
                        // view of its whole read buffer, which would stay allocated.
                        Ok(parts) => Box::pin(connection::run_tcp(
                            parts.io.into_inner(),
                            parts.read_buf.to_vec(),
                            session,
                            outbound,
                            ctx,
                        )),
                        Err(upgraded) => {
                            Box::pin(connection::run(TokioIo::new(upgraded), session, outbound, ctx))
                        }
                    };
                tokio::select! {
                    () = kill.cancelled() => tracing::debug!("connection dropped at the end of shutdown"),
                    () = run => {}
                }
            });
        }
        Err(e @ chatcore::Error::TooManyConnections(_)) => {
            shared.metrics.rejected(Rejection::PerIp);
            tracing::debug!(
                ?peer,
                "too many sessions from this address; closing with 4429"
            );
            shared.tracker.spawn(async move {
                let _permit = permit;
                let Some(upgraded) = upgraded(on_upgrade, upgrade_timeout).await else {
                    return;
                };
                let refuse = refuse(TokioIo::new(upgraded), e.to_string());
                tokio::select! {
                    () = kill.cancelled() => {}
                    () = refuse => {}
                }
            });
        }
        Err(e) => {
            let error = match e {
                chatcore::Error::Closed => ApiError::unavailable("the server is shutting down"),
                other => ApiError::from_core(&other),
            };
            return Err((Rejection::Unavailable, error));
        }
    }

    let mut response = (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (CONNECTION, HeaderValue::from_static("upgrade")),
            (UPGRADE, HeaderValue::from_static("websocket")),
        ],
    )
        .into_response();
    let accept_key = derive_accept_key(key.as_bytes());
    if let Ok(value) = HeaderValue::from_str(&accept_key) {
        response.headers_mut().insert(SEC_WEBSOCKET_ACCEPT, value);
    }
    if echo {
        response.headers_mut().insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(codec.subprotocol()),
        );
    }
    Ok(response)
}

/// The upgraded socket, once the peer took the 101 (within the handshake timeout).
async fn upgraded(on_upgrade: OnUpgrade, timeout: Duration) -> Option<Upgraded> {
    match tokio::time::timeout(timeout, on_upgrade).await {
        Ok(Ok(upgraded)) => Some(upgraded),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "HTTP upgrade failed");
            None
        }
        Err(_) => {
            tracing::debug!("the upgrade response was not taken within the handshake timeout");
            None
        }
    }
}

/// Closes a just-upgraded WebSocket with 4429 and `reason`, and waits (briefly) for the peer's
/// close so the frame is not lost to a reset.
async fn refuse<S>(io: S, reason: String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    let frame = CloseFrame {
        code: close::TOO_MANY_CONNECTIONS.into(),
        reason: chatcore::transport::close::reason_text(&reason)
            .to_owned()
            .into(),
    };
    if ws.close(Some(frame)).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// How long a refused WebSocket waits for the peer's close frame.
const REFUSAL_LINGER: Duration = Duration::from_secs(2);

/// `true` when a comma-separated header lists `token` (case-insensitively).
fn lists(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Checks the upgrade headers and returns `Sec-WebSocket-Key`.
fn websocket_key(headers: &HeaderMap) -> Result<HeaderValue, Refusal> {
    if !lists(headers, CONNECTION, "upgrade") || !lists(headers, UPGRADE, "websocket") {
        let error = ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            ErrorCode::BadRequest,
            "this endpoint speaks WebSocket: send a GET with `Connection: Upgrade` and `Upgrade: websocket`",
        )
        .with_header(UPGRADE, "websocket")
        .with_header(CONNECTION, "Upgrade");
        return Err((Rejection::BadRequest, error));
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let error = ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            ErrorCode::BadRequest,
            "unsupported WebSocket version: this server speaks version 13 (RFC 6455)",
        )
        .with_header(SEC_WEBSOCKET_VERSION, "13");
        return Err((Rejection::BadRequest, error));
    }
    match headers.get(SEC_WEBSOCKET_KEY) {
        Some(key) if key.len() == 24 => Ok(key.clone()),
        _ => Err((
            Rejection::BadRequest,
            ApiError::bad_request(
                ErrorCode::BadRequest,
                "missing or malformed Sec-WebSocket-Key",
            ),
        )),
    }
}

/// The codec from `Sec-WebSocket-Protocol`, and whether to echo it. No subprotocol asked for
/// means JSON; subprotocols asked for of which none is known are refused (a browser would
/// fail a connection that answers without one of them anyway).
fn choose_codec(headers: &HeaderMap) -> Result<(Codec, bool), Refusal> {
    let offered: Vec<&str> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if offered.is_empty() {
        return Ok((Codec::Json, false));
    }
    match offered.iter().find_map(|p| Codec::from_subprotocol(p)) {
        Some(codec) => Ok((codec, true)),
        None => {
            let message = format!(
                "unsupported subprotocol {}; this server speaks {} and {}",
                offered.join(", "),
                Codec::Json.subprotocol(),
                Codec::MsgPack.subprotocol()
            );
            Err((
                Rejection::Subprotocol,
                ApiError::bad_request(ErrorCode::BadRequest, message),
            ))
        }
    }
}

/// How a WebSocket client presents credentials, for refusals.
const HINTS: CredentialHints = CredentialHints {
    token: "`Authorization: Bearer …` or `?token=…`",
    guest: "`?user=NAME`",
};

/// The credentials of a WebSocket handshake: a bearer header, else `?token=`, else a guest
/// `?user=` when guests are allowed.
fn credentials(
    headers: &HeaderMap,
    request: &Request,
    guests: bool,
) -> Result<Credentials, ApiError> {
    if let Some(token) = bearer(headers)? {
        return Ok(Credentials::Token(token));
    }
    let Query(query) = Query::<WsQuery>::try_from_uri(request.uri()).map_err(|e| {
        ApiError::bad_request(ErrorCode::BadRequest, format!("bad query string: {e}"))
    })?;
    choose_credentials(query.token, query.user, guests, &HINTS).map_err(|e| match e {
        chatcore::Error::Unauthorized(why) => ApiError::unauthorized(why),
        other => ApiError::from_core(&other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn codec_negotiation() {
        assert_eq!(choose_codec(&h(&[])).map(|c| c.0).ok(), Some(Codec::Json));
        let both = h(&[(
            "sec-websocket-protocol",
            "chatcore.v2.json, chatcore.v1.msgpack",
        )]);
        assert_eq!(choose_codec(&both).ok(), Some((Codec::MsgPack, true)));
        let unknown = h(&[("sec-websocket-protocol", "graphql-ws")]);
        assert!(choose_codec(&unknown).is_err());
    }

    #[test]
    fn upgrade_headers_are_checked() {
        let ok = h(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert!(websocket_key(&ok).is_ok());
        let plain = h(&[("connection", "keep-alive")]);
        let (_, e) = websocket_key(&plain).expect_err("not an upgrade");
        assert_eq!(e.status(), StatusCode::UPGRADE_REQUIRED);
    }
}
