//! REST handlers: rooms, room info, history pages, development tokens, health and metrics.
//!
//! Reading follows the socket's rules: public rooms are readable by anyone; private and
//! direct rooms only with `Authorization: Bearer <token>` of a member. A token that is
//! present but invalid is refused (401) rather than ignored.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chatcore::ErrorCode;
use chatcore::auth::{Credentials, Identity};
use chatcore::protocol::{RoomKind, RoomSummary};
use chatcore::store::HistoryQuery;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::bearer::bearer;
use crate::shared::Shared;

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
    match s.hub.room_info(&room, viewer.as_deref()).await {
        Ok(info) => Ok(Json(info)),
        Err(e) => Err(room_error(&s, &e, Some(&room), viewer.as_deref()).await),
    }
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
    let page = match s.hub.history(&room, viewer.as_deref(), query).await {
        Ok(page) => page,
        Err(e) => return Err(room_error(&s, &e, Some(&room), viewer.as_deref()).await),
    };
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

/// The caller's identity when it presents a bearer token; `None` without one; 401 for a
/// token the hub's authenticator refuses. Every REST route reads its caller through here.
pub(crate) async fn identity(s: &Shared, headers: &HeaderMap) -> ApiResult<Option<Identity>> {
    let Some(token) = bearer(headers)? else {
        return Ok(None);
    };
    s.hub
        .authenticate(&Credentials::Token(token))
        .await
        .map(Some)
        .map_err(|e| ApiError::unauthorized(e.to_string()))
}

/// The caller's identity from a bearer token it must present (401 without).
pub(crate) async fn caller(s: &Shared, headers: &HeaderMap) -> ApiResult<Identity> {
    identity(s, headers)
        .await?
        .ok_or_else(|| ApiError::unauthorized("present `Authorization: Bearer <token>`"))
}

/// The caller's user name when it presents a valid bearer token; `None` without one.
pub(crate) async fn viewer(s: &Shared, headers: &HeaderMap) -> ApiResult<Option<String>> {
    Ok(identity(s, headers).await?.map(|i| i.user))
}

/// Like [`ApiError::from_core`], but a private `room` the caller may not read is unknown
/// (404, as [`hidden`]), and an anonymous caller refused a direct room is told to
/// authenticate (401) rather than that it is not allowed (403).
pub(crate) async fn room_error(
    s: &Shared,
    e: &chatcore::Error,
    room: Option<&str>,
    viewer: Option<&str>,
) -> ApiError {
    if let (Some(room), chatcore::Error::Forbidden(_)) = (room, e) {
        if is_private(s, room).await {
            return unknown(room);
        }
        if viewer.is_none() {
            return ApiError::unauthorized(
                "this room is readable by its members only; present a member's bearer token",
            );
        }
    }
    ApiError::from_core(e)
}

/// [`ApiError::from_core`], except that a refusal about a private `room` that `user` is no
/// member of is 404 `unknown_room`: its existence is not told to outsiders.
pub(crate) async fn hidden(s: &Shared, e: &chatcore::Error, room: &str, user: &str) -> ApiError {
    if matches!(
        e,
        chatcore::Error::Forbidden(_) | chatcore::Error::NotMember(_)
    ) && is_private(s, room).await
        && !matches!(s.hub.store().member(room, user).await, Ok(Some(_)))
    {
        return unknown(room);
    }
    ApiError::from_core(e)
}

async fn is_private(s: &Shared, room: &str) -> bool {
    matches!(s.hub.store().room(room).await, Ok(Some(r)) if r.kind == RoomKind::Private)
}

fn unknown(room: &str) -> ApiError {
    ApiError::from_core(&chatcore::Error::UnknownRoom(room.to_owned()))
}

fn path_error(e: PathRejection) -> ApiError {
    ApiError::bad_request(ErrorCode::BadRequest, e.body_text())
}
