//! REST handlers: rooms, room info, history pages, development tokens, health and metrics.
//!
//! Reading follows the socket's rules: public rooms are readable by anyone; private and
//! direct rooms only with `Authorization: Bearer <token>` of a member. A token that is
//! present but invalid is refused (401) rather than ignored.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use chatcore::ErrorCode;
use chatcore::auth::Credentials;
use chatcore::protocol::RoomSummary;
use chatcore::store::HistoryQuery;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::bearer::bearer;
use crate::shared::Shared;

/// The browser client.
const INDEX_HTML: &str = include_str!("../../static/index.html");

type ApiResult<T> = Result<T, ApiError>;

/// Query of `GET /api/rooms/{room}/messages`.
#[derive(Debug, Deserialize)]
pub(crate) struct HistoryParams {
    /// Messages with a seq below this (scrolling back).
    before: Option<u64>,
    /// Messages with a seq above this (catching up).
    after: Option<u64>,
    /// Page size: 1 to the hub's `max_history_page` (larger values are clamped).
    limit: Option<u32>,
}

/// Body of `POST /api/token`.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenRequest {
    /// The name to issue a token for.
    user: String,
}

/// `GET /`: the web client.
pub(crate) async fn index() -> impl IntoResponse {
    ([(CACHE_CONTROL, "no-cache")], Html(INDEX_HTML))
}

/// `GET /health`: the process is alive.
pub(crate) async fn health() -> &'static str {
    "ok"
}

/// `GET /ready`: the store and the bus answer.
pub(crate) async fn ready(State(s): State<Arc<Shared>>) -> Response {
    match s.hub.ready().await {
        Ok(()) => "ready".into_response(),
        Err(e) => ApiError::unavailable(format!("not ready: {e}")).into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let body = s.metrics.render(s.hub.stats());
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
}

/// `GET /api/rooms`: public rooms, plus the caller's private rooms when it presents a token.
pub(crate) async fn list_rooms(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let viewer = viewer(&s, &headers).await?;
    let rooms = s
        .hub
        .list_rooms(viewer.as_deref())
        .await
        .map_err(|e| ApiError::from_core(&e))?;
    Ok(Json(json!({ "rooms": rooms })))
}

/// `GET /api/rooms/{room}`: one room's summary.
pub(crate) async fn room_info(
    State(s): State<Arc<Shared>>,
    room: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<RoomSummary>> {
    let Path(room) = room.map_err(path_error)?;
    let viewer = viewer(&s, &headers).await?;
    let info = s.hub.room_info(&room, viewer.as_deref()).await;
    info.map(Json).map_err(|e| room_error(&e, viewer.is_none()))
}

/// `GET /api/rooms/{room}/messages?before=&after=&limit=`: a history page, oldest first.
pub(crate) async fn history(
    State(s): State<Arc<Shared>>,
    room: Result<Path<String>, PathRejection>,
    params: Result<Query<HistoryParams>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let Path(room) = room.map_err(path_error)?;
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request(
            ErrorCode::BadRequest,
            format!(
                "before, after and limit must be non-negative integers: {}",
                e.body_text()
            ),
        )
    })?;
    let limits = s.hub.limits();
    // As the `history` command: absent is the default page, 0 an empty page, more than the
    // hub's page size is clamped.
    let limit = params.limit.unwrap_or(limits.history_on_join);
    let query = HistoryQuery {
        before: params.before,
        after: params.after,
        limit,
    };
    let viewer = viewer(&s, &headers).await?;
    let page = s
        .hub
        .history(&room, viewer.as_deref(), query)
        .await
        .map_err(|e| room_error(&e, viewer.is_none()))?;
    Ok(Json(json!({
        "room": room,
        "messages": page.messages,
        "has_more": page.has_more,
        "current_to": page.current_to,
    })))
}

/// `POST /api/token` with `{"user":"NAME"}`: a session token, only while guests are allowed
/// (anyone may pick a name then, so a token proves nothing more than the name).
pub(crate) async fn issue_token(
    State(s): State<Arc<Shared>>,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let auth = s.hub.authenticator();
    if !auth.allows_guests() {
        return Err(ApiError::forbidden(
            "this server issues tokens only while guests are allowed; sign in with an account",
        ));
    }
    let Json(request) = body.map_err(|e| ApiError::from_json(&e))?;
    chatcore::names::validate_user(&request.user).map_err(|e| ApiError::from_core(&e))?;
    match auth.issue_token(&request.user) {
        Ok(token) => Ok(Json(json!({ "token": token, "user": request.user }))),
        // The authenticator cannot sign (guests without a secret): not the caller's fault.
        Err(chatcore::Error::Unauthorized(reason)) => Err(ApiError::forbidden(reason)),
        Err(e) => Err(ApiError::from_core(&e)),
    }
}

/// Any other path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such endpoint",
    )
}

/// The caller's user name when it presents a valid bearer token; `None` without one.
pub(crate) async fn viewer(s: &Shared, headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(token) = bearer(headers)? else {
        return Ok(None);
    };
    let identity = s
        .hub
        .authenticate(&Credentials::Token(token))
        .await
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    Ok(Some(identity.user))
}

/// Like [`ApiError::from_core`], but an anonymous caller refused a members-only room is told
/// to authenticate (401) rather than that it is not allowed (403).
pub(crate) fn room_error(e: &chatcore::Error, anonymous: bool) -> ApiError {
    match e {
        chatcore::Error::Forbidden(_) if anonymous => ApiError::unauthorized(
            "this room is readable by its members only; present a member's bearer token",
        ),
        other => ApiError::from_core(other),
    }
}

fn path_error(e: PathRejection) -> ApiError {
    ApiError::bad_request(ErrorCode::BadRequest, e.body_text())
}
