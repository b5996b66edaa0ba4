//! # chatcore
//!
//! The transport-agnostic core of an embeddable real-time chat engine: the wire protocol and
//! its two codecs, the [`Hub`] with its rooms and sessions, and the [`Store`](store::Store),
//! [`Bus`](bus::Bus) and [`Authenticator`](auth::Authenticator) traits with in-memory
//! implementations. It knows no socket, database or Redis: transports and backends are
//! separate crates (`chatcore-transport-ws`, `chatcore-transport-tcp`, `chatcore-store-sqlite`,
//! `chatcore-store-postgres`, `chatcore-bus-redis`); what the transports share (close codes,
//! rate limit, keep-alive, credentials, stream framing) is in [`transport`].
//!
//! ## The contract
//!
//! 1. Every stored message of a room has a seq 1, 2, 3… with no gap and no reuse.
//! 2. A send is acknowledged only after the store committed it.
//! 3. Every online member receives each message once and in seq order; a client that rejoins
//!    with `resume_after` gets everything after it exactly once, then live messages.
//! 4. A retried send with the same nonce returns the original ack.
//! 5. Each session's outbound queue is bounded; a member behind a burst is fed from the
//!    store as it reads, and a consumer that stops reading is disconnected
//!    ([`CloseReason::SlowConsumer`]) within seconds; nobody else slows down.
//! 6. Bad input gets an error frame with a stable [`ErrorCode`] and the request id.
//! 7. Typing and presence are never stored.
//!
//! ## Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
//! use chatcore::{Hub, Outgoing, auth::Credentials};
//! use chatcore::protocol::{Codec, Command, Event, Request};
//!
//! let hub = Hub::builder().build().await?;
//! let ann = hub.authenticate(&Credentials::Guest("ann".into())).await?;
//! let (mut session, mut outbound) = hub.connect(ann, Codec::Json)?;
//! session.handle(Request::new(1, Command::Join { room: "general".into(), resume_after: None })).await;
//! session.handle(Request::new(2, Command::Send {
//!     room: "general".into(), text: "hello".into(), nonce: None,
//!     kind: Default::default(), reply_to: None, data: None,
//! })).await;
//! loop {
//!     let Outgoing::Frame(frame) = outbound.recv().await else { break };
//!     if let Event::Ack { seq, .. } = frame.event() {
//!         assert_eq!(*seq, 1);
//!         break;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## For the application that embeds it
//!
//! - [`policy::Policy`]: the host's rules, asked before joins, sends (it may rewrite the text
//!   or attach metadata), room creation and direct messages; [`HubBuilder::policy`].
//! - [`Hub::post`], [`Hub::create_room`], [`Hub::add_member`], [`Hub::remove_member`],
//!   [`Hub::disconnect_user`], [`Hub::read_history`]: what the host does from its own code.
//! - [`events`]: every committed room event once per consumer group, resumable from a cursor
//!   the host commits ([`Hub::event_stream`]).
//!
//! `EMBEDDING.md` in the repository is the cookbook.
//!
//! ## What is stable
//!
//! The wire protocol is versioned (`PROTOCOL_VERSION`; fields are only added). The Rust API
//! may still change before 1.0; within 0.x, types that will grow are `#[non_exhaustive]` with
//! constructors and `with_*` setters (build them that way, not with struct literals), traits
//! an embedder implements gain methods only with defaults (except [`store::Store`], whose
//! contract suite grows with it), and no backend library's type appears in the API.
//!
//! In detail, for an embedder:
//!
//! - **Stable within 0.x** (only added to): [`Hub`]'s methods; [`HostPost`] (constructors
//!   and `with_*`), [`Posted`], [`Sender`]; [`policy::Policy`] and [`policy::Draft`]
//!   ([`Draft::attach`](policy::Draft::attach)); [`auth::Authenticator`], [`auth::Identity`],
//!   [`auth::Credentials`]; [`events::EventStream`] and its `StreamConfig`/`StreamFilter`
//!   builders; [`Limits`] (start from `default()`, use the setters); [`Error`] and
//!   [`ErrorCode`] (codes are never renamed or reused). All of these are `#[non_exhaustive]`
//!   or have private fields, so new fields and variants are not breaking changes.
//! - **Open data records**: [`protocol::Message`] and [`store::NewMessage`] are plain
//!   records every store, bus and client builds and reads field by field, so they are
//!   deliberately *not* `#[non_exhaustive]`; they gain fields as rooms gain kinds of change
//!   (this release: `data`). Code that builds one with a struct literal should fill the rest
//!   with `..` from an existing value, or expect to add the new field on upgrade.
//!   [`protocol::MessageKind`] is `#[non_exhaustive]`: match it with a fallback arm, and show
//!   any kind you do not know by its text.
//! - **Exhaustive on purpose**: [`protocol::Codec`] and [`bus::Channel`]: a transport or bus
//!   must handle every codec and channel on purpose, so a new one is a compile error there.
//! - **For backend authors** ([`store::Store`], [`bus::Bus`]): may gain required methods in a
//!   0.x release; the contract suites (feature `test-support`) say what each must do.
//!
//! ## Features
//!
//! - `jwt` (default): [`auth::JwtAuthenticator`], HS256 session tokens.
//! - `test-support`: the `testing` module, the Store and Bus contract suites every backend runs.

pub mod accounts;
pub mod auth;
pub mod bus;
mod clock;
mod error;
pub mod events;
mod hub;
pub mod names;
pub mod policy;
pub mod protocol;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod transport;

pub use clock::now_millis;
pub use error::{BoxError, Error, ErrorCode, Result};
pub use hub::{
    CloseReason, HostPost, Hub, HubBuilder, Limits, Outbound, Outgoing, Posted, Rate, SearchPage,
    Sender, Session, StatsSnapshot,
};
