//! # chatcore-store-sqlite
//!
//! A durable [`Store`](chatcore::store::Store) for chatcore in one SQLite file (plus a
//! second file for the search index, rebuilt from the first if lost): rooms, memberships,
//! messages with per-room sequence numbers, read positions and full-text search.
//! It is the default store of `chat-server` (`--store sqlite://chat.db`) and the right
//! choice for a single node; several nodes sharing one database need
//! `chatcore-store-postgres`.
//!
//! ## Example
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> chatcore::Result<()> {
//! use std::sync::Arc;
//!
//! use chatcore::protocol::RoomKind;
//! use chatcore::store::{HistoryQuery, NewMessage, NewRoom, Store};
//! use chatcore_store_sqlite::{SqliteConfig, SqliteStore, Synchronous};
//!
//! // Defaults: `SqliteStore::open("chat.db")`. Here every commit is also fsynced.
//! let store = SqliteStore::open_with(
//!     SqliteConfig::new("chat.db").with_synchronous(Synchronous::Full),
//! )?;
//! store
//!     .create_room(NewRoom {
//!         name: "general".into(),
//!         kind: RoomKind::Public,
//!         creator: "ann".into(),
//!         created: chatcore::now_millis(),
//!     })
//!     .await?;
//!
//! // `append` logs or queues at once; the future resolves when the message is durable.
//! let pending = store.append(NewMessage {
//!     room: "general".into(),
//!     id: "01J0000000000000000000000".into(),
//!     sender: "ann".into(),
//!     kind: Default::default(),
//!     text: "hello".into(),
//!     ts: chatcore::now_millis(),
//!     nonce: Some("n-1".into()),
//!     reply_to: None,
//!     data: None,
//!     ..Default::default()
//! });
//! let appended = pending.await?;
//! assert_eq!(appended.message.seq, 1);
//!
//! let page = store.history("general", HistoryQuery::latest(50)).await?;
//! assert_eq!(page.messages.len(), 1);
//!
//! // The hub takes any `Store` behind an `Arc`.
//! let _shared: Arc<dyn Store> = Arc::new(store.clone());
//! store.close().await?;
//! # Ok(()) }
//! ```
//!
//! ## How it works
//!
//! **Threads.** Opening the store starts one *writer thread*, which owns the only write
//! connection, and [`SqliteConfig::readers`] *reader threads*, each with its own
//! `query_only` connection. Every change (append, create room, membership, read position) is
//! a command sent over one FIFO channel to the writer, with a oneshot channel for the reply.
//! Reads (history, search, lookups) go to whichever reader thread is free. The database is in
//! WAL mode, so readers see the last commit and never wait for the writer. A fourth kind of
//! thread, the *indexer*, keeps the search index up to date (see **Search**). No async runtime
//! thread ever blocks on SQLite.
//!
//! **Batching (group commit).** [`append`](chatcore::store::Store::append) is not `async`: it
//! puts the message on the writer's queue before it returns, and the returned future waits
//! for the reply. The writer blocks for the first command, takes everything else already
//! queued (up to [`SqliteConfig::max_batch`]), runs it in one transaction and commits, then
//! replies to all of them. Whatever arrives during a commit goes into the next one, so the
//! cost of a commit is shared by every message waiting for it, and appends called in sequence
//! commit in that order. A command that fails on its own (unknown room) writes nothing and
//! does not disturb its batch; a database error rolls the transaction back, and its commands
//! are run again one per transaction so only the faulty one fails.
//!
//! **The message log** ([`SqliteConfig::message_log`], on by default). With few messages in
//! flight nearly every batch holds one message, and a transaction of its own (three or four
//! WAL frames, the WAL's locks) cost several times the rest of that message's delivery. So
//! a new message is acknowledged from a log file beside the database (`chatcore.db-msglog`)
//! instead: one `write` per batch (and an `fdatasync` under [`Synchronous::Full`]), after
//! which the message is as durable as a commit would have made it. The writer inserts what
//! the log holds into SQLite hundreds of messages per transaction: 10 ms after the oldest was
//! logged when nothing else keeps the writer busy, else at the latest 100 ms after it (or at
//! 1,024 messages, or 1 MiB), at the start of any other transaction (an edit, a membership change: they see every message
//! acknowledged before them) and before any read, so history, search and lookups always see
//! every acknowledged message. After each such apply the file is cut back to its header.
//! When nothing is queued for the writer and it is free, [`append`](chatcore::store::Store::append)
//! logs the message on its caller's thread and returns with the reply ready: no hand-over to
//! the writer thread and back (two thread switches, most of what a logged message still
//! cost on one core). Not under [`Synchronous::Full`], whose `fdatasync` stays on the writer
//! thread, shared by every message queued meanwhile. Opening the store replays whatever a crash left in the log (records are
//! checksummed: one cut short by the crash was never acknowledged and ends the replay; a log
//! whose header names another database is refused rather than replayed into the wrong
//! file). Change events, retried nonces and messages for a room the writer does not know yet
//! take the transaction's way.
//!
//! **Nonces** are checked before a message is logged (a retry is answered with its
//! original). A Bloom filter of every `(nonce, sender)` stored — those already in the file,
//! scanned by a short-lived `sqlite-nonces` thread after the open, and those the writer
//! stores since — answers "unused" for nearly every fresh nonce without a read of the
//! database (a read transaction, and its `fcntl` locks, per message before); a retry or one
//! of the filter's false positives (about 1 in 100) reads the nonce index. About 1.2 bytes
//! per nonce, at most 32 Mi nonces: past that every nonce is read again.
//!
//! **Checkpoints.** Committed pages are copied from the WAL back into the database file by a
//! third thread with its own connection, signalled by the writer's WAL hook each time the log
//! has grown by [`SqliteConfig::checkpoint_pages`], so the writer never stops for a
//! checkpoint's bulk copy. Such a checkpoint cannot catch up with a busy writer, so once it
//! has copied all it saw the writer copies the few frames appended since, between two
//! batches, and the log starts over (two `fsync`s on the writer's thread per threshold's
//! worth of log; no acknowledgement waits for them).
//!
//! **Sequence numbers** are assigned, when a message is logged or inside its commit, from a
//! per-room cache of the newest seq kept by the writer (loaded from the database and the
//! log on first use). When a transaction fails the cache is dropped and reloaded from what
//! was committed and logged, so a failed write never burns a number: seqs stay 1, 2, 3…
//! without gaps.
//!
//! **Durability.** `synchronous=NORMAL` by default: an acknowledged message survives a crash
//! of the process (it is in the WAL or in the message log, both written before the ack); a
//! power cut may take back the last commits and log writes (never corrupt the file).
//! [`Synchronous::Full`] fsyncs the WAL at every commit and the log at every write, so
//! acknowledged messages survive a power cut too, at the price of one fsync per batch. The
//! database, its `-wal` and its `-msglog` belong together: copy, move or delete them
//! together (the `-search` file can be rebuilt).
//!
//! **Schema.** Versioned migrations inside the crate, applied at open and recorded in
//! `PRAGMA user_version` ([`SCHEMA_VERSION`]); a database written by a newer version is
//! refused with [`Error::SchemaTooNew`](chatcore::Error::SchemaTooNew). Version 2 rewrites
//! the messages table of a version-1 database in the new layout, so the first open after the
//! upgrade takes time in proportion to its size, and the search index is then rebuilt in the
//! background.
//!
//! | table | key | holds |
//! |---|---|---|
//! | `rooms` | `id` (integer), `name` unique | kind, topic, creator, created |
//! | `memberships` | `(room_id, user)` | role, joined; indexed by user for room lists |
//! | `messages` | `pos` (integer, commit order); unique `(room_id, seq)` | id, sender, kind, ts, nonce, reply_to, body, data (the message's JSON object as text, NULL when none); unique `(nonce, sender)` |
//! | `meta` | `key` | `database_id`, which the index file checks it was built from |
//! | `users` | `name` | password hash (nullable), created — for accounts |
//! | `read_positions` | `(room_id, user)` | seq |
//!
//! Every message gets `pos`, its place in commit order across all rooms, as its primary key:
//! appends always land at the right edge of the table, where SQLite fills pages completely
//! and splits them cheaply. A page of history is one range of the small `(room_id, seq)`
//! index plus one primary-key lookup per message, whatever the size of the table. The
//! `(nonce, sender)` index leads with the nonce, so time-ordered nonces (ULIDs, as
//! `chatcore-client` makes them) are also added at the right edge of their index. The newest
//! seq and the member count of a room are computed from those keys, not stored.
//!
//! **Search.** A word is a run of alphanumeric characters, compared lowercased; a message
//! matches when it has every word of the query. The store splits the text itself: the index
//! receives each message's words lowercased and joined by spaces, and the query's words are
//! sent to FTS5 `MATCH` as double-quoted strings, so FTS5 operators in a user's text (`OR`,
//! `NEAR(`, `*`, `-`, `:`, quotes, parentheses) are plain words and can never break the query.
//! Results come newest first.
//!
//! The FTS5 index (contentless, `detail=none`, keyed by `pos`) lives in a file of its own,
//! [`SqliteConfig::index_path`] (by default the database's path with `-search` appended),
//! attached to every reader connection. Appends do not index: after each commit the writer
//! tells the indexer thread the newest `pos`, and the indexer reads the new messages back
//! and indexes them in its own transactions, recording in the same transaction how far it
//! got. Acknowledgements go first: the indexer lets commits gather for 50 ms (or until 1,024
//! messages wait), so it runs one index transaction per gathering rather than one per
//! commit, and then works while the writer waits for commands (under any load short of
//! saturation, most of the time, so the index trails by tens of milliseconds), defers while
//! the writer is busy without a pause (for at most 10 s), and runs at a lower CPU priority
//! (Linux). A search first waits until every message committed before it was called is
//! indexed, making the indexer go ahead at once (at most [`SqliteConfig::search_wait`]), so
//! an acknowledged message is always found. The index file is derived data: deleted, copied
//! from another database, or ahead of the messages (after a power cut took back the last
//! commits of the database), it is rebuilt from the messages at the next open; a file at
//! that path that is not a chatcore index is refused, never overwritten.
//!
//! **Shutdown.** [`close`](chatcore::store::Store::close) commits everything queued before
//! it, closes the write connection and stops the writer; later writes fail with
//! [`Error::Closed`](chatcore::Error::Closed) while reads keep working. Dropping the last
//! clone of the store does the same, then stops the reader threads.
//!
//! Text is always bound as a parameter, never spliced into SQL: quotes, `%`, `_`, NUL
//! characters, emoji, right-to-left text and long strings are stored and read back exactly.
//!
//! ## Features
//!
//! None. SQLite is compiled in (rusqlite's `bundled` feature), with FTS5.

mod accounts;
mod admission;
mod authority;
mod changes;
mod checkpoint;
mod config;
#[cfg(test)]
mod gate;
mod indexer;
mod queries;
mod reader;
mod room_admin;
mod rows;
mod schema;
mod search;
mod state;
mod store;
mod stream;
mod unread;
mod writer;

pub use accounts::SqliteAccounts;
pub use config::{SqliteConfig, Synchronous};
pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;
pub use writer::WriterStats;
