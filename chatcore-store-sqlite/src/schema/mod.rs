//! The schema, its migrations (`PRAGMA user_version`) and the connection settings.
//!
//! The migrations, one per version, are in `migrations.rs`; checking a file's identity and
//! version and applying what is missing in `versions.rs`; opening the connections in
//! `connections.rs`; the search index file in `index_file.rs`.

mod connections;
mod index_file;
mod migrations;
#[cfg(test)]
mod tests;
mod versions;

pub(crate) use connections::{database_id, open_checkpointer, open_reader, open_writer};
pub(crate) use index_file::open_index;
pub use migrations::SCHEMA_VERSION;
