//! The shop's own data: [`Order`]s, the [`Orders`] book its API and its chat policy share,
//! and the naming of order rooms.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use chatcore::protocol::Data;
use serde::Serialize;

/// One order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// Order number.
    pub id: u64,
    /// The customer's user name (the only customer let into the order's room).
    pub customer: String,
    /// What was ordered.
    pub item: String,
    /// Where it is: `placed`, `packing`, `shipped`…
    pub status: String,
}

/// The shop's own data, shared by its API handlers and its chat policy. A std mutex: only map
/// operations happen under it.
#[derive(Debug, Default)]
pub struct Orders {
    orders: Mutex<BTreeMap<u64, Order>>,
    staff: BTreeSet<String>,
}

impl Orders {
    /// No orders yet; `staff` may enter every order's room.
    pub fn new<'a>(staff: impl IntoIterator<Item = &'a str>) -> Arc<Self> {
        Arc::new(Self {
            orders: Mutex::default(),
            staff: staff.into_iter().map(str::to_owned).collect(),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Order>> {
        self.orders.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The order, if there is one.
    pub fn get(&self, id: u64) -> Option<Order> {
        self.lock().get(&id).cloned()
    }

    /// `true` for the shop's staff.
    pub fn is_staff(&self, user: &str) -> bool {
        self.staff.contains(user)
    }
}

/// The kind of the shop's order cards: namespaced, so no other application's kind and no
/// kind of chatcore's own can collide with it.
pub const ORDER_KIND: &str = "shop.order";

impl Order {
    /// The card's data: the order's fields, for a client that draws order cards.
    pub fn card(&self) -> Data {
        let mut data = Data::new();
        data.insert("order".into(), self.id.into());
        data.insert("customer".into(), self.customer.clone().into());
        data.insert("item".into(), self.item.clone().into());
        data.insert("status".into(), self.status.clone().into());
        data
    }
}

/// The room of order `id`.
pub fn room_of(id: u64) -> String {
    format!("order-{id}")
}

/// The order a room belongs to, if it is an order room.
pub fn order_of(room: &str) -> Option<u64> {
    room.strip_prefix("order-")?.parse().ok()
}
