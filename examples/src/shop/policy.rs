//! [`ShopPolicy`]: who may enter an order's room.

use std::sync::Arc;

use chatcore::auth::Identity;
use chatcore::policy::Policy;
use chatcore::protocol::RoomKind;
use chatcore::{Error, Result};

use super::orders::{Orders, order_of};

/// Only an order's customer and the shop's staff (by name, or by a `role: "staff"` claim in
/// their token) enter `order-N`; order rooms are opened by the shop, never by a client.
#[derive(Debug, Clone)]
pub struct ShopPolicy {
    orders: Arc<Orders>,
}

impl ShopPolicy {
    /// The policy over the shop's orders.
    pub fn new(orders: Arc<Orders>) -> Self {
        Self { orders }
    }

    fn is_staff(&self, who: &Identity) -> bool {
        self.orders.is_staff(&who.user)
            || who.claim("role").and_then(|r| r.as_str()) == Some("staff")
    }
}

#[async_trait::async_trait]
impl Policy for ShopPolicy {
    async fn join(&self, who: &Identity, room: &str) -> Result<()> {
        let Some(id) = order_of(room) else {
            return Ok(());
        };
        let customer = self.orders.get(id).map(|o| o.customer);
        if self.is_staff(who) || customer.as_deref() == Some(who.user.as_str()) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{room} belongs to another customer"
            )))
        }
    }

    async fn create_room(&self, _who: &Identity, room: &str, _kind: RoomKind) -> Result<()> {
        if room.starts_with("order-") {
            return Err(Error::Forbidden(
                "order rooms are opened by the shop".into(),
            ));
        }
        Ok(())
    }
}
