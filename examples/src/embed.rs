//! Chat inside an existing axum service: the service keeps its own routes and mounts
//! chatcore's router under `/chat` (web client at `/chat`, WebSocket at `/chat/ws`, REST
//! API at `/chat/api/…`, health at `/chat/health`).
//!
//! The `embed-axum` binary serves [`app`]; the tests build the same composition.

use axum::response::Redirect;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// Where the chat routes are mounted.
pub const CHAT_PREFIX: &str = "/chat";

/// The whole service: the existing application's routes plus `chat` under [`CHAT_PREFIX`].
///
/// `chat` is chatcore's router, e.g. `chatcore_transport_ws::Transport::new(hub, config).router()`.
pub fn app(chat: Router) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/api/orders", get(orders))
        // A nested router answers its `/` at `/chat` only; send `/chat/` there too.
        .route("/chat/", get(|| async { Redirect::permanent(CHAT_PREFIX) }))
        .nest(CHAT_PREFIX, chat)
}

/// The existing service's home page, now with a link to its chat.
async fn home() -> axum::response::Html<&'static str> {
    axum::response::Html(
        "<!doctype html><title>Shop</title><h1>Shop</h1>\
         <p>Our orders are at <a href=\"/api/orders\">/api/orders</a>; \
         questions? <a href=\"/chat\">Chat with us</a>.</p>",
    )
}

/// One of the existing service's API routes.
async fn orders() -> Json<Value> {
    Json(json!({
        "orders": [
            {"id": 1, "item": "teapot", "status": "shipped"},
            {"id": 2, "item": "kettle", "status": "packing"}
        ]
    }))
}
