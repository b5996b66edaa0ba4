//! # chatcore-store-postgres
//!
//! A durable [`Store`](chatcore::store::Store) for chatcore on PostgreSQL (version 12 or
//! newer): rooms, memberships, messages with a gapless per-room `seq`, read positions and
//! full-text search. Several chat server nodes may share one database: each room still gets
//! one sequence 1, 2, 3… with no gap and no reuse, and a retried nonce is stored once.
//!
//! It uses `tokio-postgres` with a `deadpool-postgres` pool rather than sqlx: sqlx (with its
//! `sqlite` feature, which its `macros`/`migrate` features pull in) links its own
//! `libsqlite3-sys`, which cannot share one lockfile with the `rusqlite` of
//! `chatcore-store-sqlite` (both declare `links = "sqlite3"`), and binaries build both stores.
//!
//! ## Example
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
//! use chatcore::protocol::{MessageKind, RoomKind};
//! use chatcore::store::{HistoryQuery, NewMessage, NewRoom, Store};
//! use chatcore_store_postgres::{PostgresConfig, PostgresStore};
//!
//! let config = PostgresConfig::new("postgres://chat@127.0.0.1:5432/chat").with_schema("chat")?;
//! let store = PostgresStore::connect(config).await?;
//! store
//!     .create_room(NewRoom {
//!         name: "general".into(),
//!         kind: RoomKind::Public,
//!         creator: "ann".into(),
//!         created: chatcore::now_millis(),
//!     })
//!     .await?;
//! // `append` queues at once; the future resolves when the batch holding it committed.
//! let appended = store
//!     .append(NewMessage {
//!         room: "general".into(),
//!         id: "01JAZ7Q6W3N8D3X1V0CJ2M9G5K".into(),
//!         sender: "ann".into(),
//!         kind: MessageKind::Text,
//!         text: "hello".into(),
//!         ts: chatcore::now_millis(),
//!         nonce: Some("ann-1".into()),
//!         reply_to: None,
//!         data: None,
//!         ..Default::default()
//!     })
//!     .await?;
//! assert_eq!(appended.message.seq, 1);
//! let page = store.history("general", HistoryQuery::latest(50)).await?;
//! assert_eq!(page.messages.len(), 1);
//! store.close().await?; // commits whatever is still queued
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! None. TLS is not built in: connect over a private network, a local socket, or a TLS proxy.
//!
//! ## How it works
//!
//! **Batching.** [`Store::append`](chatcore::store::Store::append) is not async: it sends the
//! message on an unbounded queue and returns a future waiting on a oneshot reply. Rooms are
//! spread by a hash of their name over [`PostgresConfig::pipelines`] writer tasks, each with
//! its own connection, so one room's appends always go through one queue, in call order.
//! A pipeline takes everything queued (up to [`PostgresConfig::max_batch`]) and commits it in
//! one transaction; appends that arrive meanwhile form the next batch. Under load a commit
//! carries thousands of messages, so its round trips and its WAL flush cost little per
//! message; when idle a batch is one message and commits at once. The queue is unbounded:
//! callers are bounded by waiting for their acknowledgements. Call order is kept per room
//! (what the hub relies on); appends to rooms on different pipelines may commit in either
//! order.
//!
//! **Seq assignment.** Inside the batch's transaction the pipeline locks the batch's rooms
//! (`SELECT … FOR UPDATE`, in name order so writers on several nodes never deadlock) and
//! reads each room's `last_seq`; new messages get the following numbers in queue order, one
//! `UPDATE … FROM UNNEST($1::bigint[], $2::bigint[])` sets each room's new `last_seq`, and
//! one binary `COPY messages FROM STDIN` streams all the rows. The row lock serializes
//! writers of one room across nodes until `COMMIT`, and a transaction that rolls back takes
//! its numbers back with it: the sequence stays gapless.
//!
//! **Nonces.** `(sender, nonce)` is unique across rooms, enforced by a unique index. A
//! nonce repeated inside a batch refers to its first use (checked in memory). A nonce stored
//! before is rare (a client retrying after a reconnect), so batches are planned
//! *optimistically*, without looking nonces up: when one holds a stored nonce, the unique
//! index rejects the copy, the transaction rolls back (seqs included), and the batch is
//! planned again after one query over `UNNEST(senders, nonces)` has found the originals.
//! Duplicates return the original with `duplicate = true` and take no seq. After such a
//! conflict the pipeline looks nonces up before copying for its next 16 batches, then goes
//! optimistic again, so a client that keeps repeating old nonces wastes at most one copy per
//! 16 batches ([`WriteStats::lookups`] counts the batches that looked up). The same rollback
//! covers another node committing one of the batch's nonces at the same time. (There is
//! deliberately no `ON CONFLICT (sender, nonce) DO NOTHING`: a skipped row would leave a hole
//! in the sequence, so the batch must roll back anyway, and the speculative insertion behind
//! `ON CONFLICT` cost twice as much per row when measured.)
//!
//! **Closing.** [`Store::close`](chatcore::store::Store::close) drops the queues, waits until
//! every pipeline committed what was queued, and from then on appends fail with
//! [`chatcore::Error::Closed`]. Queries keep working until the store is dropped.
//!
//! **Schema.** Tables live in [`PostgresConfig::schema`] (every pooled connection sets its
//! `search_path` to it when created):
//!
//! | table | columns | keys and indexes |
//! |---|---|---|
//! | `rooms` | `id`, `name`, `kind`, `topic`, `creator`, `created`, `last_seq` | `id` identity, `UNIQUE (name)` |
//! | `memberships` | `room_id`, `user_name`, `role`, `joined` | `PRIMARY KEY (room_id, user_name)`, index on `user_name` |
//! | `messages` | `room_id`, `seq`, `id`, `sender`, `kind`, `body`, `body_exact`, `ts`, `nonce`, `reply_to`, `search`, `data` (the message's JSON object as TEXT, NULL when none) | `PRIMARY KEY (room_id, seq)` (serves every history page), `UNIQUE (nonce, sender)` where a nonce is set (nonce first: time-ordered nonces are added at the index's right edge); `search` has no index |
//! | `message_search` | `room_id`, `seq`, `search` | GIN on `search`; filled behind the appends |
//! | `search_progress` | `room_id`, `seq` | `PRIMARY KEY (room_id)`: the seq up to which the room is in `message_search` |
//! | `read_positions` | `room_id`, `user_name`, `seq` | `PRIMARY KEY (room_id, user_name)` |
//! | `users` | `name`, `display_name`, `password_hash`, `created` | for accounts; unused by the `Store` trait so far |
//! | `chatcore_schema` | `version` | one row |
//!
//! Times are milliseconds since the Unix epoch (`BIGINT`), seqs are `BIGINT`. Migrations are
//! compiled into the crate and numbered; [`PostgresStore::connect`] applies the missing
//! ones in one transaction while holding an advisory lock (two nodes starting at once apply
//! them once), and refuses a database whose version is newer than [`SCHEMA_VERSION`] with
//! [`chatcore::Error::SchemaTooNew`].
//!
//! **Strings and NUL.** PostgreSQL `TEXT` cannot hold the NUL character, yet every string
//! must come back exactly as given. Names, ids, senders, nonces and topics are therefore
//! stored as their UTF-8 bytes in `BYTEA` columns: exact, compared byte by byte, and sorted
//! in the same order as Rust's `String` (no collation). Message bodies are stored in the
//! `TEXT` column `body`, readable by any SQL tool; when a body contains NUL, `body` holds it
//! with each NUL replaced by a space and `body_exact` holds the original bytes, otherwise
//! `body_exact` is `NULL` and costs nothing. Reading takes `body_exact` when present.
//!
//! **Search.** A message's words are its maximal runs of alphanumeric characters
//! (`char::is_alphanumeric`), lower-cased with `str::to_lowercase`: exactly the words of the
//! in-memory store, so `ann@example.com` contains `example`, and no stemming or stop words.
//! The writer computes them in Rust and sends the distinct ones as the `tsvector` column
//! `search` (in the binary `tsvector` format, so PostgreSQL's text-search
//! parser never runs). A query is split the same way; each word becomes a
//! quoted lexeme of a `tsquery` (`'quick' & 'brown'`) passed as a parameter, so every word
//! must match and no query syntax of the user's is ever interpreted. No words at all is
//! [`chatcore::Error::BadQuery`]. Results are newest first (`ts`, then `seq`). Words longer
//! than 2047 bytes (PostgreSQL's lexeme limit) are not indexed, and a query containing one
//! finds nothing. Splitting in Rust is also what makes batches fast: running
//! `to_tsvector` (and a `regexp_replace` to match the in-memory word rules) in the database
//! cost several times as much per row as the rest of the insert.
//!
//! **Search indexing behind the appends.** The GIN index cost as much as the rest of an
//! append, so appends no longer pay for it: it lives on `message_search`, and each node runs
//! an indexer task that copies the words of newly committed messages there, room by room
//! from `search_progress`, moving a room's progress in the same statement while it holds the
//! room's progress row (nodes never index a message twice; two passes run side by side,
//! each skipping rooms another pass holds). Acknowledgements go first: the task waits while
//! its node's pipelines have appends in flight, for at most 10 s after the oldest unindexed
//! commit, so the index trails by milliseconds under ordinary load and a burst is indexed
//! right after it. A search first brings every room up to the commits made before it was
//! called (waiting for rooms another node is indexing), so it finds every acknowledged
//! message, whichever node stored it; right after a large burst that can take seconds. The
//! words are stored twice (`messages.search` and `message_search.search`).
//!
//! ## Performance
//!
//! `cargo bench -p chatcore-benches --bench store_postgres` on a shared 2-core machine with
//! PostgreSQL 15 on the same host (`synchronous_commit = on`, 100-byte bodies, 8 rooms,
//! many appends in flight): 100,000–150,000 acknowledged appends/s with nonces on a quiet
//! machine, in batches of about 2,000, the search index catching up 4–5 s after a burst of
//! 500,000; a history page of 50 in about 210 µs (p99 about 330 µs). Measured on a busy
//! machine before search indexing left the append path (see `BENCHMARKS.md`), an append
//! with a nonce cost the database about 30 µs of CPU: the `tsvector` GIN index about 12 µs
//! (no better with a larger `gin_pending_list_limit` or `work_mem`; `fastupdate = off` costs
//! five times as much), the nonce index (then `(sender, nonce)`, with random senders) about
//! 8–12 µs, the row, its primary key and the WAL (about 1 KB per message) the rest. The
//! optimistic nonce check saves the lookup's 3 µs. The store spends about 5 µs per message on the
//! client side. Each pipeline keeps one server backend busy, so more cores should help; on
//! 2 cores, 2 and 4 pipelines performed alike and 8 worse.

mod accounts;
mod admission;
mod authority;
mod changes;
mod codec;
mod config;
mod error;
mod indexer;
mod room_admin;
mod schema;
mod state;
mod store;
mod stream;
mod unread;
mod writer;

pub use config::PostgresConfig;
pub use error::PostgresError;
pub use schema::SCHEMA_VERSION;
pub use store::PostgresStore;
pub use writer::WriteStats;
