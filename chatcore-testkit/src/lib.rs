//! The test kit of the chatcore workspace: everything the crates' tests share, written once.
//!
//! Every crate takes it as a **dev-dependency** (`chatcore-testkit.workspace = true` under
//! `[dev-dependencies]`); it is never published. It holds:
//!
//! - [`TestServer`]: a hub served by `chatcore_transport_ws::serve` on `127.0.0.1:0`, as
//!   `chat-server` serves it, stopped gracefully;
//! - [`Probe`]: a WebSocket client that speaks the protocol (JSON or MessagePack), sends
//!   requests and reads events with bounded waits; [`SessionProbe`] does the same with a
//!   [`chatcore::Session`] in process, without a socket;
//! - tokens ([`token`], [`jwt`], [`b64url`] to forge one by hand);
//! - commands and replies ([`send`], [`reply_id`], [`SentBack`]: a sender's acks and own
//!   copies, checked whole and in order);
//! - HTTP calls on hyper-util's client ([`http`], [`get`], [`get_as`], [`post_json`],
//!   [`try_http_from`] from another loopback address);
//! - a server with accounts ([`account_server`]), [`register`] and [`login`];
//! - [`half_open`] sockets that never finish their handshake, from many [`loopback`] peers,
//!   and [`still_open_after`]; a connected [`tcp_pair`] whose client side fills up soon;
//! - this process's memory ([`rss_kib`], [`rss_anon_kib`]) for tests that bound a server's;
//! - [`Proxy`], a TCP proxy that cuts connections or swallows what the server sends;
//! - [`FlakyBus`], a local bus whose readiness can be switched off, and which under a
//!   seeded [`BusChaos`] drops, duplicates, delays, reorders and partitions;
//!   [`HookedStore`], the one forwarding `Store` wrapper whose [`StoreHook`]s inject faults
//!   (an [`Outage`]: [`FlakyStore`]) or observe calls; [`SimRng`], the seeded generator both
//!   simulations and their fault plans draw from;
//! - [`ChatServerProcess`] and [`PrivateRedis`]: real `chat-server` and `redis-server`
//!   processes;
//! - with feature `browser`, the `browser` module: headless Chromium on chromiumoxide;
//! - the store and bus fixtures of [`chatcore::testing::fixtures`], re-exported as
//!   [`fixtures`].
//!
//! Every wait is bounded by [`BOUND`]; nothing sleeps to assert.
//!
//! ```no_run
//! # async fn demo() {
//! use chatcore_testkit::{Probe, TestServer};
//!
//! let server = TestServer::start().await;
//! let mut ann = Probe::guest(&server, "ann").await;
//! ann.join("lobby").await;
//! assert_eq!(ann.say("lobby", "hello").await, 1);
//! # }
//! ```

mod accounts;
#[cfg(feature = "browser")]
pub mod browser;
mod bus;
mod chaos;
pub mod error;
mod events;
mod fleet;
mod flood;
mod http;
mod memory;
mod probe;
mod process;
mod proxy;
mod rng;
mod server;
mod session;
mod store;
mod token;
mod wait;

pub use accounts::{account_server, accounts_config, login, register};
pub use bus::FlakyBus;
pub use chaos::{BusChaos, BusFaults, Fate};
pub use chatcore::testing::fixtures;
pub use error::Error;
pub use events::{SentBack, dm, error_code, reply_id, send, send_card, seqs};
pub use fleet::{Fleet, node};
pub use flood::{half_open, loopback, still_open_after, tcp_pair};
pub use http::{HttpResponse, get, get_as, http, post_json, try_get, try_http, try_http_from};
pub use memory::{proc_status_kib, rss_anon_kib, rss_kib};
pub use probe::{Probe, Ws, open, open_from, refusal, still_serves};
pub use process::{ChatServerProcess, PrivateRedis, free_port, unique_name};
pub use proxy::Proxy;
pub use rng::SimRng;
pub use server::{TestServer, ws_config};
pub use session::{SessionProbe, guest, guest_session, memory_hub};
pub use store::{CallLog, FlakyStore, HookedStore, Outage, StoreHook};
pub use token::{SECRET, admin_token, b64url, jwt, token};
pub use wait::{BOUND, eventually, services_required, within};
