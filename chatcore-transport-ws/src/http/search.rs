//! `GET /api/search?q=&room=&before=&limit=`: the `search` command over REST, with the same
//! rules (see `PROTOCOL.md`, "Search"): the messages the caller may read, newest first, with
//! highlights; anonymous callers search public rooms only.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chatcore::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{room_error, viewer};
use crate::api_error::ApiError;
use crate::shared::Shared;

/// Query of `GET /api/search`.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchParams {
    /// The words to find.
    q: Option<String>,
    /// Only this room.
    room: Option<String>,
    /// The `next` cursor of the previous page.
    before: Option<String>,
    /// Page size (default 20, at most 100).
    limit: Option<u32>,
}

/// `GET /api/search`: `{"hits": [{"message": …, "highlights": [[start, end], …]}], "next": …}`.
pub(crate) async fn search(
    State(s): State<Arc<Shared>>,
    params: Result<Query<SearchParams>, QueryRejection>,
    headers: http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request(
            ErrorCode::BadRequest,
            format!("limit must be a non-negative integer: {}", e.body_text()),
        )
    })?;
    let Some(q) = params.q else {
        return Err(ApiError::bad_request(
            ErrorCode::BadQuery,
            "q (the words to find) is required",
        ));
    };
    let viewer = viewer(&s, &headers).await?;
    let room = params.room.clone();
    let found = s
        .hub
        .search(
            viewer.as_deref(),
            &q,
            params.room,
            params.before.as_deref(),
            params.limit,
        )
        .await;
    let page = match found {
        Ok(page) => page,
        Err(e) => return Err(room_error(&s, &e, room.as_deref(), viewer.as_deref()).await),
    };
    Ok(Json(json!({ "hits": page.hits, "next": page.next })))
}
