//! Choosing backends at run time by URL: `--store sqlite://…|memory://|postgres://…` and
//! `--bus local|redis://…`. Which schemes work depends on the cargo features the binary was
//! built with; a scheme whose feature is off gets an error saying how to rebuild.

mod bus;
mod opened;
mod redact;
mod store;

pub use bus::{BusUrl, OpenedBus, default_node_id};
pub use opened::OpenedStore;
pub use redact::redact;
pub use store::StoreUrl;

#[cfg(test)]
mod tests;
