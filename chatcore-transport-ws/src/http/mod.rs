//! The HTTP surface as one axum [`Router`]: routes, and the tower-http layers around them.
//! Every request passes the `Host` allow-list ([`host`](crate::host)) first, then the strict
//! UTF-8 check of its query string ([`strict_query`](crate::strict_query)).
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the browser client (`static/index.html`) |
//! | `GET /app.css`, `GET /js/{module}.js` | its stylesheet and ES modules ([`assets`]) |
//! | `GET /ws` | WebSocket upgrade (see [`handshake`](crate::handshake)) |
//! | `GET /health` | 200 `ok` while the process runs |
//! | `GET /ready` | 200 `ready` when store and bus answer, else 503 with the reason |
//! | `GET /metrics` | Prometheus text format |
//! | `GET /api/rooms` | `{"rooms":[RoomSummary…]}` |
//! | `GET /api/rooms/{room}` | one `RoomSummary` |
//! | `POST /api/rooms` | `{"room","kind","topic"?,"description"?}` → 201 `RoomSummary` (bearer) |
//! | `DELETE /api/rooms/{room}` | `{"deleted": AuditEntry}` (the owner or a server admin) |
//! | `GET /api/rooms/{room}/members` | `{"room","members"}` (bearer; whoever may read the room) |
//! | `GET /api/rooms/{room}/audit?before=&limit=` | `{"room","entries","next"}` (room admins and up, server admins) |
//! | `GET /api/rooms/{room}/messages?before=&after=&limit=` | `{"room","messages","has_more"}` |
//! | `POST /api/token` | `{"user":"NAME"}` → `{"token","user"}` |
//! | `POST /api/register`, `/api/login` | `{"user","password"}` → tokens (accounts on) |
//! | `POST /api/refresh` | `{"refresh_token"}` → new tokens |
//! | `POST /api/logout`, `/api/password`, `/api/invites`, `DELETE /api/account` | with an account's access token |

mod account;
mod accounts;
mod api;
mod assets;
mod rooms;
mod search;

use crate::api_error::ApiError;

use std::any::Any;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Router, middleware};
use http::{Request, StatusCode};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::shared::Shared;
use crate::{handshake, headers, host, strict_query};

/// Builds the router over shared transport state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let config = &shared.config;
    let layers = ServiceBuilder::new()
        .layer(CatchPanicLayer::custom(panic_response))
        // Spans name the path only: a query string may carry a token (`/ws?token=…`).
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::debug_span!("http", method = %request.method(), path = %request.uri().path())
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes));
    Router::new()
        .route("/", get(assets::index))
        .route("/app.css", get(assets::stylesheet))
        .route("/js/{file}", get(assets::script))
        .route("/ws", get(handshake::upgrade))
        .route("/health", get(api::health))
        .route("/ready", get(api::ready))
        .route("/metrics", get(api::metrics))
        .route("/api/rooms", get(api::list_rooms).post(rooms::create))
        .route(
            "/api/rooms/{room}",
            get(api::room_info).delete(rooms::delete),
        )
        .route("/api/rooms/{room}/members", get(rooms::members))
        .route("/api/rooms/{room}/audit", get(rooms::audit))
        .route("/api/rooms/{room}/messages", get(api::history))
        .route("/api/search", get(search::search))
        .route("/api/token", post(api::issue_token))
        .route("/api/register", post(accounts::register))
        .route("/api/login", post(accounts::login))
        .route("/api/refresh", post(accounts::refresh))
        .route("/api/logout", post(accounts::logout))
        .route("/api/password", post(account::change_password))
        .route("/api/invites", post(account::create_invite))
        .route("/api/account", delete(account::delete_account))
        .fallback(api::not_found)
        .layer(middleware::from_fn(strict_query::guard))
        .layer(middleware::from_fn(headers::add))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            host::guard,
        ))
        .layer(layers)
        .with_state(shared)
}

/// A handler panicked: answer 500 in the usual error shape, and log it.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "HTTP handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        chatcore::ErrorCode::Internal,
        "internal server error",
    )
    .into_response()
}
