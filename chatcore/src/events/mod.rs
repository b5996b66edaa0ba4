//! The host's durable event stream: every committed room event, in seq order per room,
//! resumable from a cursor the host commits, once per consumer group across a fleet.
//!
//! An event is a [`Message`](crate::protocol::Message) — a message today; edits, deletes,
//! reactions, moderation and membership changes are later kinds of the same shape, each with
//! the room's next seq (see `PROTOCOL.md`, "Sequenced events").
//!
//! How it works:
//! - **Cursors** (room → last processed seq) are kept in the [`Store`](crate::store::Store)
//!   under the consumer group's name; the host commits them with [`EventStream::commit`],
//!   as a Kafka consumer would. A restarted consumer starts after the committed cursors, so
//!   an event the host committed is never delivered to the group again.
//! - **A lease** per group in the store lets one consumer at a time deliver; the others wait
//!   on standby and take over when it lapses. Commits carry the lease's fencing token, so a
//!   consumer that lost the lease can no longer commit.
//! - **Catch-up** reads the store in pages, a page per room in turn; **live tail** wakes on
//!   this node's commits and polls the store for the rest of the fleet's. Nothing is pushed:
//!   a consumer that stops reading holds one page at most, and catches up from the store when
//!   it reads again.
//!
//! Exactly once, precisely: every committed event is delivered to the group in order per room;
//! an event is delivered again only if its consumer stopped after receiving it and before
//! committing it. A host that must not repeat an effect commits right after it (or makes the
//! effect idempotent by `(room, seq)`).
//!
//! ```
//! # async fn demo(hub: chatcore::Hub) -> chatcore::Result<()> {
//! use chatcore::events::{StreamConfig, StreamFilter};
//! let mut stream = hub.event_stream(
//!     StreamConfig::new("indexer").with_filter(StreamFilter::default().room_prefix("order-")),
//! )?;
//! loop {
//!     let event = stream.next().await?;
//!     println!("{} #{}: {}", event.room, event.seq, event.text);
//!     stream.commit(&event).await?;
//! }
//! # }
//! ```

mod config;
mod stream;
mod wake;

pub use config::{StreamConfig, StreamFilter};
pub use stream::EventStream;
pub(crate) use wake::Wake;
