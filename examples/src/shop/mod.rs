//! The shop: an existing service that embeds chat the way a real one would.
//!
//! - Each order gets a room `order-N` ([`Shop::open_order`]); [`ShopPolicy`] lets only that
//!   order's customer and the shop's staff in, and no client may create `order-*` rooms.
//! - When an order changes state through the shop's own API (`POST /api/orders/N/status`),
//!   the shop posts a system message into the order's room ([`Hub::post`]), with a nonce per
//!   state so a retried request posts once. The message is a card: kind [`ORDER_KIND`]
//!   (`shop.order`) with the order as its `data` ([`Order::card`]), and a sentence as the
//!   text that clients without a card for it show.
//! - [`counter::MessageCounter`], an in-process consumer of the event stream, counts messages
//!   per order and survives a restart without counting anything twice.
//!
//! [`router`] puts the shop's routes and chatcore's router (under `/chat`) in one service.

pub mod counter;
mod orders;
mod policy;

pub use orders::{ORDER_KIND, Order, Orders, order_of, room_of};
pub use policy::ShopPolicy;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chatcore::protocol::{MessageKind, RoomKind};
use chatcore::{HostPost, Hub, Posted};
use serde::Deserialize;

/// The shop: its orders and the chat hub it posts to.
#[derive(Debug, Clone)]
pub struct Shop {
    orders: Arc<Orders>,
    hub: Hub,
}

impl Shop {
    /// The shop over `orders`, posting to `hub` (built with a [`ShopPolicy`] over the same
    /// orders).
    pub fn new(orders: Arc<Orders>, hub: Hub) -> Self {
        Self { orders, hub }
    }

    /// The chat hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Records an order, opens its room and greets the customer there.
    pub async fn open_order(&self, id: u64, customer: &str, item: &str) -> chatcore::Result<Order> {
        let order = Order {
            id,
            customer: customer.to_owned(),
            item: item.to_owned(),
            status: "placed".to_owned(),
        };
        self.orders.lock().insert(id, order.clone());
        self.hub.create_room(&room_of(id), RoomKind::Public).await?;
        self.announce(&order).await?;
        Ok(order)
    }

    /// Moves an order to `status` and tells its room. `None` for an unknown order.
    pub async fn set_status(&self, id: u64, status: &str) -> Option<chatcore::Result<Posted>> {
        let order = {
            let mut orders = self.orders.lock();
            let order = orders.get_mut(&id)?;
            order.status = status.to_owned();
            order.clone()
        };
        Some(self.announce(&order).await)
    }

    /// The system message of a state change, as an order card; the nonce makes a retried
    /// change post once.
    async fn announce(&self, order: &Order) -> chatcore::Result<Posted> {
        let (id, status) = (order.id, &order.status);
        let text = format!("Order {id} is now {status}.");
        self.hub
            .post(
                HostPost::system(room_of(id), text)
                    .with_kind(MessageKind::from_name(ORDER_KIND))
                    .with_data(order.card())
                    .with_nonce(format!("order-{id}-{status}")),
            )
            .await
    }
}

/// Body of `POST /api/orders/{id}/status`.
#[derive(Debug, Deserialize)]
struct NewStatus {
    status: String,
}

/// The shop's routes plus chatcore's router (`chat`) under `/chat`.
pub fn router(shop: Shop, chat: Router) -> Router {
    Router::new()
        .route("/api/orders", get(list))
        .route("/api/orders/{id}/status", post(change))
        .with_state(shop)
        .nest("/chat", chat)
}

async fn list(State(shop): State<Shop>) -> Json<Vec<Order>> {
    Json(shop.orders.lock().values().cloned().collect())
}

async fn change(
    State(shop): State<Shop>,
    Path(id): Path<u64>,
    Json(body): Json<NewStatus>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let status = body.status;
    let valid = !status.is_empty()
        && status.len() <= 32
        && status
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "status: 1 to 32 letters, digits, '-' or '_'".into(),
        ));
    }
    match shop.set_status(id, &status).await {
        None => Err((StatusCode::NOT_FOUND, format!("no order {id}"))),
        Some(Err(e)) => Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
        Some(Ok(posted)) => Ok(Json(serde_json::json!({
            "order": id,
            "status": status,
            "seq": posted.message.seq,
            "duplicate": posted.duplicate,
        }))),
    }
}
