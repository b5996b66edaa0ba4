//! Benchmark support: the `chat-load` end-to-end load generator ([`load`]) and the
//! `baseline-server` it is compared against ([`baseline`]).

pub mod baseline;
pub mod load;
pub mod workload;
