//! Room administration over REST (PROTOCOL.md, "REST API"): create and delete rooms, list a
//! room's members, page its audit log. Each needs `Authorization: Bearer <token>`, and
//! applies the same rules as the WebSocket commands through [`Hub`](chatcore::Hub). A
//! private room is invisible to non-members: 404 `unknown_room`, the same as a room that
//! does not exist.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chatcore::ErrorCode;
use chatcore::protocol::RoomKind;
use chatcore::store::MAX_PAGE;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{caller, hidden};
use crate::api_error::ApiError;
use crate::shared::Shared;

type ApiResult<T> = Result<T, ApiError>;

/// Rows of an audit page when the caller names no `limit`.
const AUDIT_PAGE: u32 = 50;

/// Body of `POST /api/rooms`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRoom {
    /// Room name.
    room: String,
    /// `public` or `private`.
    kind: RoomKind,
    /// The first topic.
    #[serde(default)]
    topic: Option<String>,
    /// What the room is for.
    #[serde(default)]
    description: Option<String>,
}

/// Query of `GET /api/rooms/{room}/audit`.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditParams {
    /// Rows with a seq below this: the previous page's `next`.
    before: Option<u64>,
    /// Page size (default 50, at most 1000).
    limit: Option<u32>,
}

fn room_path(room: Result<Path<String>, PathRejection>) -> ApiResult<String> {
    room.map(|Path(r)| r)
        .map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, e.body_text()))
}

/// `POST /api/rooms {room, kind, topic?, description?}`: 201 with the new room's summary.
pub(crate) async fn create(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Json<NewRoom>, JsonRejection>,
) -> ApiResult<Response> {
    let me = caller(&s, &headers).await?;
    let Json(new) = body.map_err(|e| ApiError::from_json(&e))?;
    let summary = s
        .hub
        .create_room_as(&me, &new.room, new.kind, new.topic, new.description)
        .await
        .map_err(|e| ApiError::from_core(&e))?;
    Ok((StatusCode::CREATED, Json(summary)).into_response())
}

/// `DELETE /api/rooms/{room}`: the owner or a server admin; 200 with the audit row.
pub(crate) async fn delete(
    State(s): State<Arc<Shared>>,
    room: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let room = room_path(room)?;
    let me = caller(&s, &headers).await?;
    match s.hub.delete_room_as(&me, &room).await {
        Ok(entry) => Ok(Json(json!({ "deleted": entry }))),
        Err(e) => Err(hidden(&s, &e, &room, &me.user).await),
    }
}

/// `GET /api/rooms/{room}/members`: `{"room", "members": [{user, role, joined}]}`.
pub(crate) async fn members(
    State(s): State<Arc<Shared>>,
    room: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let room = room_path(room)?;
    let me = caller(&s, &headers).await?;
    match s.hub.members(&room, &me.user).await {
        Ok(members) => Ok(Json(json!({ "room": room, "members": members }))),
        Err(e) => Err(hidden(&s, &e, &room, &me.user).await),
    }
}

/// `GET /api/rooms/{room}/audit?before=&limit=`: `{"room", "entries": [...], "next"}`,
/// newest first; `next` (the last row's seq) is the `before` of the next page, `null` on
/// the last one.
pub(crate) async fn audit(
    State(s): State<Arc<Shared>>,
    room: Result<Path<String>, PathRejection>,
    params: Result<Query<AuditParams>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let room = room_path(room)?;
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request(
            ErrorCode::BadRequest,
            format!(
                "before and limit must be non-negative integers: {}",
                e.body_text()
            ),
        )
    })?;
    let limit = params.limit.unwrap_or(AUDIT_PAGE).min(MAX_PAGE);
    let me = caller(&s, &headers).await?;
    let entries = s
        .hub
        .audit(&me, &room, params.before, limit)
        .await
        .map_err(|e| ApiError::from_core(&e))?;
    let next = (entries.len() as u32 == limit && limit > 0)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(
        json!({ "room": room, "entries": entries, "next": next }),
    ))
}
