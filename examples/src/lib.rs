//! Shared helpers of the example binaries.
//!
//! - `chat-server` ([`cli`], [`server`]): flags with `CHATCORE_…` environment twins, backends
//!   chosen by URL ([`backends`]), the loopback-aware guest policy ([`auth`]), logging
//!   ([`logging`]), ctrl-c/SIGTERM shutdown ([`shutdown`]) and optional TLS termination
//!   ([`tls`]), the open-file limit ([`fds`]) and the names it answers to ([`public_url`]).
//! - `chat-server --registration …` and `chat-server admin …` ([`accounts`]): accounts.
//! - `chat-server --tcp-listen` ([`tcp`]): the TCP transport beside the WebSocket one.
//! - `embed-axum` ([`embed`]): chat mounted into an existing axum service.
//! - [`shop`]: the embedding example grown real: a policy per order room, system posts on
//!   order changes, an event-stream consumer counting messages per order.
//!
//! ## Features
//!
//! - `sqlite` (default): `--store sqlite://PATH`.
//! - `postgres`: `--store postgres://…`.
//! - `redis`: `--bus redis://…`, for several nodes sharing one PostgreSQL store.

pub mod accounts;
pub mod auth;
pub mod backend_metrics;
pub mod backends;
pub mod cli;
pub mod embed;
mod error;
pub mod fds;
pub mod limits;
pub mod logging;
#[cfg(feature = "postgres")]
mod postgres;
pub mod public_url;
pub mod server;
pub mod shop;
pub mod shutdown;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod tcp;
pub mod tls;

pub use error::{Result, StartupError};

/// EMBEDDING.md's recipes, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../EMBEDDING.md")]
pub struct EmbeddingRecipes;
