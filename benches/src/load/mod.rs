//! `chat-load`, the end-to-end load generator: opens many WebSocket (or chatcore TCP
//! transport) connections to a chatcore server (or the `baseline-server`), joins them to
//! rooms, publishes timestamped messages and measures what arrives.
//!
//! Each module holds one idea: [`args`] (flags), [`plan`] (validated settings), [`scenario`] (the presets),
//! [`changes`] (which ticks edit or react, and on what), [`reads`] (the `read` every
//! connection sends), [`payload`]
//! (the timestamp carried in every message), [`wire`] (frames of both targets), [`conn`]
//! (opening a socket), [`tcp`] (chatcore's TCP transport as a socket), [`ctx`] (what the tasks of a run share), [`member`] (a lean receiving connection), [`publisher`] (a sending
//! connection), [`stats`] (counters and histograms), [`procstat`] (CPU and memory from
//! `/proc`), [`run`] (the ramp, run and drain phases) and [`summary`] (the report).

pub mod args;
pub mod changes;
pub mod conn;
pub mod ctx;
pub mod member;
pub mod payload;
pub mod plan;
pub mod procstat;
pub mod publisher;
pub mod reads;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod summary;
pub mod tcp;
pub mod wire;
