//! [`SqliteStore`]: the `Store` implementation that ties the writer thread and the reader
//! pool together.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use chatcore::protocol::Message;
use chatcore::store::{
    Appended, HistoryPage, HistoryQuery, Member, NewMessage, NewRoom, Pending, ReadMark, Role,
    RoomRecord, SearchQuery, Store,
};
use chatcore::{Error, Result};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::indexer::{Indexer, Progress};
use crate::reader::{JoinOnDrop, Readers};
use crate::writer::{Command, Commands, Counters, Write, Writer, WriterStats};
use crate::{SqliteConfig, checkpoint, queries, schema, search, state};

/// A durable [`Store`] in one SQLite file.
///
/// Opening starts one writer thread (batched commits) and [`SqliteConfig::readers`] reader
/// threads. Clones are cheap and share those threads and connections; the threads stop when
/// the last clone is dropped, after committing every queued write (the drop waits for that
/// commit).
///
/// See the [crate docs](crate) for how it works.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Set by `close`: new writes fail at once with `Error::Closed` instead of queueing
    /// behind the close.
    closed: AtomicBool,
    // Field order matters: `writer` (the sender) drops before `threads` joins, so the
    // thread sees its queue close, commits what is left and exits.
    writer: Sender<Command>,
    /// The writer thread, then the checkpoint and indexer threads.
    threads: JoinOnDrop,
    readers: Readers,
    counters: Arc<Counters>,
    /// What the search indexer has caught up with.
    progress: Arc<Progress>,
    config: SqliteConfig,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.config.path)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default settings.
    ///
    /// Blocks while it opens the file and applies schema migrations (milliseconds, or longer
    /// the first time a large database is migrated). A database written by a newer version
    /// fails with [`Error::SchemaTooNew`]; a SQLite file that is not a chatcore database
    /// fails with [`Error::Config`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(SqliteConfig::new(path))
    }

    /// Opens (creating if needed) the database described by `config`; see
    /// [`SqliteStore::open`].
    pub fn open_with(config: SqliteConfig) -> Result<Self> {
        Self::open_fed(config, |commands| commands)
    }

    /// [`SqliteStore::open_with`], the writer thread taking its commands through `feed`
    /// (the identity in production; tests wrap the channel to hold the writer).
    pub(crate) fn open_fed<C: Commands + Send + 'static>(
        config: SqliteConfig,
        feed: impl FnOnce(Receiver<Command>) -> C,
    ) -> Result<Self> {
        config.validate()?;
        let mut write_conn = schema::open_writer(&config)?;
        let index_conn = schema::open_index(&config, &schema::database_id(&write_conn)?)?;
        let (indexer, progress) = Indexer::new(schema::open_reader(&config)?, index_conn)?;
        let checkpointer = checkpoint::start(
            &mut write_conn,
            schema::open_checkpointer(&config)?,
            config.checkpoint_pages,
        )?;
        let read_conns = (0..config.readers)
            .map(|_| schema::open_reader(&config))
            .collect::<Result<Vec<Connection>>>()?;
        let readers = Readers::start(read_conns)?;
        let counters = Arc::new(Counters::default());
        let (writer, commands) = channel();
        let commands = feed(commands);
        let state = Writer::new(
            write_conn,
            config.max_batch,
            Arc::clone(&counters),
            Arc::clone(&progress),
        );
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || state.run(commands))
            .map_err(|e| Error::store(format!("cannot start the writer thread: {e}")))?;
        let indexer = std::thread::Builder::new()
            .name("sqlite-indexer".into())
            .spawn(move || indexer.run())
            .map_err(|e| Error::store(format!("cannot start the indexer thread: {e}")))?;
        tracing::debug!(path = %config.path.display(), "sqlite store: opened");
        Ok(Self {
            inner: Arc::new(Inner {
                closed: AtomicBool::new(false),
                writer,
                // The writer first: the checkpointer stops when the write connection closes,
                // the indexer when the writer has stopped.
                threads: JoinOnDrop(vec![thread, checkpointer, indexer]),
                readers,
                counters,
                progress,
                config,
            }),
        })
    }

    /// The configuration the store was opened with.
    pub fn config(&self) -> &SqliteConfig {
        &self.inner.config
    }

    /// The writer's counters: commits, writes, batch sizes. Cheap; suitable for metrics.
    pub fn stats(&self) -> WriterStats {
        self.inner.counters.snapshot(&self.inner.progress)
    }

    /// Queues a command for the writer thread.
    pub(crate) fn send(&self, command: Command) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.inner.writer.send(command).map_err(|_| Error::Closed)
    }

    /// The reader threads.
    pub(crate) fn readers(&self) -> &Readers {
        &self.inner.readers
    }

    /// Queues a write and waits for its reply.
    pub(crate) async fn write<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Write,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Write(make(tx)))?;
        rx.await.map_err(|_| Error::Closed)?
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn append(&self, msg: NewMessage) -> Pending<Appended> {
        // Everything here runs before returning: the command is in the writer's FIFO queue
        // when `append` returns, so appends called in sequence commit in that order.
        let (tx, rx) = oneshot::channel();
        let sent = self.send(Command::Write(Write::Append { msg, reply: tx }));
        Box::pin(async move {
            sent?;
            rx.await.map_err(|_| Error::Closed)?
        })
    }

    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord> {
        self.write(|reply| Write::CreateRoom { room, reply }).await
    }

    async fn room(&self, name: &str) -> Result<Option<RoomRecord>> {
        let name = name.to_owned();
        self.inner
            .readers
            .run(move |c| queries::room(c, &name))
            .await
    }

    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
        let viewer = viewer.map(str::to_owned);
        self.inner
            .readers
            .run(move |c| queries::list_rooms(c, viewer.as_deref()))
            .await
    }

    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        query.check()?;
        let room = room.to_owned();
        self.inner
            .readers
            .run(move |c| queries::history(c, &room, query))
            .await
    }

    async fn history_current(
        &self,
        room: &str,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        query.check()?;
        let room = room.to_owned();
        let viewer = viewer.map(str::to_owned);
        self.inner
            .readers
            .run(move |c| state::history(c, &room, query, viewer.as_deref()))
            .await
    }

    async fn thread(
        &self,
        room: &str,
        root: u64,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        let room = room.to_owned();
        let viewer = viewer.map(str::to_owned);
        self.inner
            .readers
            .run(move |c| state::thread(c, &room, root, query, viewer.as_deref()))
            .await
    }

    async fn last_seq(&self, room: &str) -> Result<u64> {
        let room = room.to_owned();
        self.inner
            .readers
            .run(move |c| queries::last_seq(c, &room))
            .await
    }

    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(|reply| Write::AddMember {
            room,
            user,
            role,
            reply,
        })
        .await
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(|reply| Write::RemoveMember { room, user, reply })
            .await
    }

    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.inner
            .readers
            .run(move |c| queries::member(c, &room, &user))
            .await
    }

    async fn members(&self, room: &str) -> Result<Vec<Member>> {
        let room = room.to_owned();
        self.inner
            .readers
            .run(move |c| queries::members(c, &room))
            .await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Message>> {
        let expression = search::match_expression(&query.text)?;
        let wait = self.inner.config.search_wait;
        if !self.inner.progress.wait_indexed(wait).await {
            tracing::warn!(
                ?wait,
                "sqlite store: the search index lags behind the messages; \
                 answering from what is indexed so far"
            );
        }
        self.inner
            .readers
            .run(move |c| state::search(c, &expression, &query))
            .await
    }

    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(|reply| Write::SetRead {
            room,
            user,
            seq,
            reply,
        })
        .await
    }

    async fn set_reads(&self, marks: &[ReadMark]) -> Result<()> {
        let marks = marks.to_vec();
        self.write(|reply| Write::SetReads { marks, reply }).await
    }

    async fn read_position(&self, room: &str, user: &str) -> Result<u64> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.inner
            .readers
            .run(move |c| queries::read_position(c, &room, &user))
            .await
    }

    async fn unread(&self, user: &str, rooms: &[String]) -> Result<Vec<chatcore::store::Unread>> {
        let (user, rooms) = (user.to_owned(), rooms.to_vec());
        self.inner
            .readers
            .run(move |c| crate::unread::unread(c, &user, &rooms))
            .await
    }

    async fn heads(&self) -> Result<Vec<(String, u64)>> {
        self.inner.readers.run(crate::stream::heads).await
    }

    async fn acquire_lease(&self, group: &str, holder: &str, ttl: Duration) -> Result<Option<u64>> {
        let (group, holder) = (group.to_owned(), holder.to_owned());
        self.write(|reply| Write::Lease {
            group,
            holder,
            ttl,
            reply,
        })
        .await
    }

    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>> {
        let group = group.to_owned();
        self.inner
            .readers
            .run(move |c| crate::stream::cursors(c, &group))
            .await
    }

    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()> {
        let (group, room) = (group.to_owned(), room.to_owned());
        self.write(|reply| Write::CommitCursor {
            group,
            token,
            room,
            seq,
            reply,
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        let closed = self.inner.closed.load(Ordering::Acquire);
        if !closed && self.inner.threads.0.iter().any(|t| t.is_finished()) {
            return Err(Error::store("the sqlite writer thread stopped"));
        }
        if self.inner.readers.alive() == 0 {
            return Err(Error::store("no sqlite reader thread is running"));
        }
        self.inner
            .readers
            .run(|c| {
                c.query_row("SELECT 1", [], |_| Ok(()))
                    .map_err(Error::store)
            })
            .await
    }

    async fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        let (tx, rx) = oneshot::channel();
        if self.inner.writer.send(Command::Close(tx)).is_err() {
            return Ok(()); // already stopped
        }
        // An error means the writer stopped for an earlier close before reaching this one;
        // either way everything queued before is committed and the connection is closed.
        let _ = rx.await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chatcore::protocol::RoomKind;
    use chatcore::store::MemoryStore;
    use rusqlite::params;

    use super::*;
    use crate::gate::Gate;
    use chatcore::testing::fixtures::{create_room, new_message};

    struct Fixture {
        dir: tempfile::TempDir,
        store: SqliteStore,
        /// Holds the store's writer while a test queues a known batch.
        gate: Gate,
    }

    impl Fixture {
        fn new() -> Self {
            Self::with(|c| c)
        }

        fn with(tune: impl FnOnce(SqliteConfig) -> SqliteConfig) -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = tune(
                SqliteConfig::new(dir.path().join("t.db"))
                    .with_readers(2)
                    .expect("readers"),
            );
            let gate = Gate::default();
            let store =
                SqliteStore::open_fed(config, |commands| gate.feed(commands)).expect("open");
            Self { dir, store, gate }
        }

        fn path(&self) -> std::path::PathBuf {
            self.dir.path().join("t.db")
        }

        /// A second, independent connection, for sabotage.
        fn raw(&self) -> Connection {
            Connection::open(self.path()).expect("raw connection")
        }
    }

    fn msg(room: &str, text: &str) -> NewMessage {
        new_message(room, "ann", text, None)
    }

    async fn room(store: &dyn Store, name: &str) {
        create_room(store, name, RoomKind::Public).await;
    }

    #[tokio::test]
    async fn appends_queued_together_commit_in_one_transaction() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        let before = f.store.stats();
        let pending: Vec<_> = f.gate.held(|| {
            (0..100)
                .map(|i| f.store.append(msg("r", &i.to_string())))
                .collect()
        });
        for (i, p) in pending.into_iter().enumerate() {
            assert_eq!(p.await.expect("append").message.seq, i as u64 + 1);
        }
        let after = f.store.stats();
        assert_eq!(after.commits - before.commits, 1, "{before:?} → {after:?}");
        assert_eq!(after.writes - before.writes, 100);
        assert_eq!(after.largest_batch, 100);
    }

    fn nonced(room: &str, sender: &str, text: &str, nonce: &str) -> NewMessage {
        new_message(room, sender, text, Some(nonce))
    }

    /// Nonces are checked by the unique index, not by a lookup before each insert: a repeat
    /// inside one batch, a repeat of a committed nonce, and a repeat naming another (or an
    /// unknown) room all answer with the original and burn no seq.
    #[tokio::test]
    async fn repeated_nonces_in_one_batch_store_once_and_burn_no_seq() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        room(&f.store, "s").await;
        let first = f
            .store
            .append(nonced("r", "ann", "one", "n-1"))
            .await
            .expect("append");
        let before = f.store.stats();
        let pending: Vec<_> = f.gate.held(|| {
            vec![
                f.store.append(nonced("r", "ann", "two", "n-2")),
                f.store.append(nonced("r", "ann", "two again", "n-2")),
                f.store.append(nonced("s", "ann", "one elsewhere", "n-1")),
                f.store.append(nonced("ghost", "ann", "one nowhere", "n-1")),
                f.store.append(nonced("r", "bob", "bob's n-1", "n-1")),
                f.store.append(nonced("r", "ann", "three", "n-3")),
            ]
        });
        let mut got = Vec::new();
        for p in pending {
            let a = p.await.expect("append");
            got.push((a.duplicate, a.message.room, a.message.seq, a.message.text));
        }
        let after = f.store.stats();
        assert_eq!(after.commits - before.commits, 1, "one batch");
        assert_eq!(after.messages - before.messages, 3, "three new messages");
        let want = [
            (false, "r", 2, "two"),
            (true, "r", 2, "two"),
            (true, "r", 1, "one"),
            (true, "r", 1, "one"),
            (false, "r", 3, "bob's n-1"),
            (false, "r", 4, "three"),
        ];
        let got: Vec<_> = got
            .iter()
            .map(|(d, r, s, t)| (*d, r.as_str(), *s, t.as_str()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(first.message.seq, 1);
        assert_eq!(f.store.last_seq("s").await.expect("last_seq"), 0);
        let unknown = f
            .store
            .append(nonced("ghost", "ann", "x", "never-used"))
            .await
            .expect_err("unknown room");
        assert!(matches!(unknown, Error::UnknownRoom(_)), "{unknown:?}");
    }

    /// Appends are inserted 32 rows per statement; a repeated nonce in the middle of a
    /// large batch undoes only its own statement, and the numbers stay gapless.
    #[tokio::test]
    async fn a_repeated_nonce_deep_in_a_batch_leaves_no_gap() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        room(&f.store, "s").await;
        let pending: Vec<_> = f.gate.held(|| {
            (0..100)
                .map(|i| {
                    let nonce = if i == 70 { 10 } else { i };
                    let room = if i % 2 == 0 { "r" } else { "s" };
                    f.store
                        .append(nonced(room, "ann", &format!("m{i}"), &nonce.to_string()))
                })
                .collect()
        });
        let mut seqs = std::collections::HashMap::<String, Vec<u64>>::new();
        for (i, p) in pending.into_iter().enumerate() {
            let a = p.await.expect("append");
            if i == 70 {
                assert!(a.duplicate, "{a:?}");
                assert_eq!(
                    (a.message.room.as_str(), a.message.text.as_str()),
                    ("r", "m10")
                );
            } else {
                assert!(!a.duplicate, "{i}: {a:?}");
                assert_eq!(a.message.text, format!("m{i}"));
                seqs.entry(a.message.room).or_default().push(a.message.seq);
            }
        }
        assert_eq!(seqs["r"], (1..=49).collect::<Vec<u64>>());
        assert_eq!(seqs["s"], (1..=50).collect::<Vec<u64>>());
        assert_eq!(f.store.stats().commits, 3, "two rooms and one batch");
        let page = f
            .store
            .history("r", HistoryQuery::latest(100))
            .await
            .expect("history");
        assert_eq!(page.messages.len(), 49);
    }

    #[tokio::test]
    async fn a_batch_across_rooms_is_searchable() {
        let f = Fixture::new();
        for r in ["a", "b", "c"] {
            room(&f.store, r).await;
        }
        // Interleaved rooms in one transaction: full-text keys arrive out of order and are
        // sorted before they are indexed.
        let pending: Vec<_> = f.gate.held(|| {
            (0..60)
                .map(|i| {
                    let r = ["c", "a", "b"][i % 3];
                    f.store.append(msg(r, &format!("word{} common", i % 7)))
                })
                .collect()
        });
        for p in pending {
            p.await.expect("append");
        }
        let all = f
            .store
            .search(SearchQuery {
                room: None,
                text: "common".into(),
                limit: 1000,
            })
            .await
            .expect("search");
        assert_eq!(all.len(), 60);
        let some = f
            .store
            .search(SearchQuery {
                room: Some("b".into()),
                text: "COMMON word3".into(),
                limit: 1000,
            })
            .await
            .expect("search");
        // i % 3 == 2 (room b) and i % 7 == 3: i = 17, 38, 59.
        let texts: Vec<_> = some.iter().map(|m| (m.room.as_str(), m.seq)).collect();
        assert_eq!(texts, [("b", 20), ("b", 13), ("b", 6)]);
    }

    #[tokio::test]
    async fn the_checkpoint_thread_copies_the_log_into_the_file() {
        let f = Fixture::with(|c| c.with_checkpoint_pages(16).expect("pages"));
        room(&f.store, "r").await;
        let size = || std::fs::metadata(f.path()).map_or(0, |m| m.len());
        let initial = size();
        // SQLite's own automatic checkpoint is off (the WAL hook replaces it): only the
        // checkpoint thread can grow the main file.
        let body = "x".repeat(1000);
        for _ in 0..10 {
            let pending: Vec<_> = (0..100).map(|_| f.store.append(msg("r", &body))).collect();
            for p in pending {
                p.await.expect("append");
            }
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while size() < initial + 500_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {} bytes",
                size()
            );
            // A checkpoint copies only what no reader still needs (the search indexer reads
            // too); the next commit past the threshold signals another.
            f.store.append(msg("r", "poke")).await.expect("append");
            // Nothing else runs on this test's runtime: blocking it is fine.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[tokio::test]
    async fn batches_are_capped_at_max_batch() {
        let f = Fixture::with(|c| c.with_max_batch(10).expect("max_batch"));
        room(&f.store, "r").await;
        let before = f.store.stats();
        let pending: Vec<_> = f.gate.held(|| {
            (0..35)
                .map(|i| f.store.append(msg("r", &i.to_string())))
                .collect()
        });
        for p in pending {
            p.await.expect("append");
        }
        let after = f.store.stats();
        assert_eq!(after.commits - before.commits, 4);
        assert_eq!(after.largest_batch, 10);
    }

    #[tokio::test]
    async fn failed_transaction_burns_no_seq_and_spares_its_batch() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        assert_eq!(
            f.store
                .append(msg("r", "one"))
                .await
                .expect("one")
                .message
                .seq,
            1
        );
        // A trigger makes any message saying "boom" fail inside SQLite, after the seq was
        // taken from the cache and the row was (being) written.
        f.raw()
            .execute_batch(
                "CREATE TRIGGER boom AFTER INSERT ON messages \
                 WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
            )
            .expect("trigger");

        // Alone in its transaction.
        let err = f.store.append(msg("r", "boom")).await.expect_err("boom");
        assert!(matches!(err, Error::Store(_)), "{err:?}");
        assert_eq!(
            f.store
                .append(msg("r", "two"))
                .await
                .expect("two")
                .message
                .seq,
            2
        );

        // In the middle of a batch: the batch is rolled back and retried one by one.
        let failed_before = f.store.stats().failed_commits;
        let (a, boom, b) = f.gate.held(|| {
            (
                f.store.append(msg("r", "three")),
                f.store.append(msg("r", "boom")),
                f.store.append(msg("r", "four")),
            )
        });
        assert_eq!(a.await.expect("three").message.seq, 3);
        assert!(boom.await.is_err());
        assert_eq!(b.await.expect("four").message.seq, 4);
        assert!(f.store.stats().failed_commits >= failed_before + 2);

        let page = f
            .store
            .history("r", HistoryQuery::latest(10))
            .await
            .expect("history");
        let texts: Vec<_> = page.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three", "four"]);
        let seqs: Vec<_> = page.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
    }

    /// The row of message `id` as another connection sees it: committed, or nothing.
    fn committed_body(raw: &Connection, id: &str) -> Option<String> {
        raw.query_row("SELECT body FROM messages WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .ok()
    }

    /// An append resolves only once its commit is visible to another connection, under
    /// both `synchronous` settings, read back from a connection opened the way the writer's
    /// is; while the writer is held, the append neither resolves nor shows.
    #[tokio::test]
    async fn an_append_resolves_only_after_its_commit() {
        use crate::config::Synchronous;
        for (sync, pragma) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
            let f = Fixture::with(|c| c.with_synchronous(sync));
            let config = SqliteConfig::new(f.path()).with_synchronous(sync);
            let writer = schema::open_writer(&config).expect("writer connection");
            let read: i64 = writer
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .expect("pragma");
            assert_eq!(read, pragma, "{sync:?}");
            drop(writer);
            room(&f.store, "r").await;
            let raw = f.raw();
            let held = msg("r", "held");
            let held_id = held.id.clone();
            let mut pending = f.gate.held(|| {
                let mut pending = f.store.append(held);
                let waker = std::task::Waker::noop();
                let polled = pending
                    .as_mut()
                    .poll(&mut std::task::Context::from_waker(waker));
                assert!(polled.is_pending(), "resolved while the writer was held");
                assert_eq!(committed_body(&raw, &held_id), None, "committed while held");
                pending
            });
            let appended = (&mut pending).await.expect("append");
            assert_eq!(committed_body(&raw, &held_id).as_deref(), Some("held"));
            assert_eq!(appended.message.seq, 1);
            for i in 0..50 {
                let m = msg("r", &format!("m{i}"));
                let id = m.id.clone();
                let appended = f.store.append(m).await.expect("append");
                assert_eq!(
                    committed_body(&raw, &id),
                    Some(format!("m{i}")),
                    "seq {} resolved before its commit",
                    appended.message.seq
                );
            }
        }
    }

    #[tokio::test]
    async fn room_created_in_a_failed_batch_is_forgotten() {
        let f = Fixture::new();
        f.raw()
            .execute_batch(
                "CREATE TRIGGER boom AFTER INSERT ON messages \
                 WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
            )
            .expect("trigger");
        // One batch: create "r", append to it, fail. The retry runs each alone, so "r"
        // exists afterwards; what matters is that the writer's caches agree with the file.
        let store = f.store.clone();
        let (create, ok, boom) = f.gate.held(|| {
            let mut create = store.create_room(NewRoom {
                name: "r".into(),
                kind: RoomKind::Public,
                creator: "ann".into(),
                created: 1,
            });
            // One poll runs create_room up to its wait for the reply: the create is in the
            // writer's queue, ahead of the appends, with no sleep to order them.
            let waker = std::task::Waker::noop();
            let polled = create
                .as_mut()
                .poll(&mut std::task::Context::from_waker(waker));
            assert!(polled.is_pending(), "the writer is held");
            (
                create,
                store.append(msg("r", "fine")),
                store.append(msg("r", "boom")),
            )
        });
        create.await.expect("create");
        assert_eq!(ok.await.expect("fine").message.seq, 1);
        assert!(boom.await.is_err());
        assert_eq!(
            f.store
                .append(msg("r", "next"))
                .await
                .expect("next")
                .message
                .seq,
            2
        );
        assert_eq!(f.store.last_seq("r").await.expect("last_seq"), 2);
    }

    #[tokio::test]
    async fn search_matches_the_memory_store_word_rules() {
        let f = Fixture::new();
        let memory = MemoryStore::new();
        let texts = [
            "Straße and STRASSE",
            "café au lait",
            "cafe noir",
            "İstanbul ıstanbul",
            "ÉCOLE école",
            "x1 x2 x_3",
            "don't stop",
            "日本語のテキスト 日本語",
            "emoji 🦀 crab",
            "tab\tseparated\nlines",
            "a\0nul",
            "near OR and NOT",
            "١٢٣ arabic digits",
            "ΣΟΦΟΣ ΑΝΘΡΩΠΟΣ",
        ];
        for store in [&f.store as &dyn Store, &memory as &dyn Store] {
            room(store, "r").await;
            for t in texts {
                store.append(msg("r", t)).await.expect("append");
            }
        }
        let queries = [
            "straße",
            "strasse",
            "cafe",
            "café",
            "CAFÉ",
            "istanbul",
            "i̇stanbul",
            "ıstanbul",
            "école",
            "ecole",
            "x",
            "x_3",
            "3",
            "don",
            "t",
            "日本語",
            "日本語のテキスト",
            "crab 🦀",
            "separated lines tab",
            "nul",
            "a",
            "Or",
            "١٢٣",
            "σοφος",
            "σοφοσ",
            "ΣΟΦΟΣ",
            "ανθρωπος",
        ];
        for q in queries {
            let query = SearchQuery {
                room: None,
                text: q.into(),
                limit: 100,
            };
            let ours: Vec<u64> = f
                .store
                .search(query.clone())
                .await
                .expect("sqlite search")
                .iter()
                .map(|m| m.seq)
                .collect();
            let theirs: Vec<u64> = memory
                .search(query)
                .await
                .expect("memory search")
                .iter()
                .map(|m| m.seq)
                .collect();
            assert_eq!(ours, theirs, "query {q:?}");
        }
    }

    #[tokio::test]
    async fn search_survives_hostile_and_huge_queries() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        let many: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
        f.store
            .append(msg("r", &many.join(" ")))
            .await
            .expect("append");
        f.store
            .append(msg("r", "a OR b NEAR(c) -x col:val \"quoted\" *"))
            .await
            .expect("append");
        let hostile = [
            "\"",
            "*",
            "NEAR(",
            "a OR",
            "-x",
            ":",
            "(",
            ")",
            "((a)",
            "a)",
            "\"a",
            "a\"b",
            "^a",
            "a + b",
            "col:val",
            "NOT",
            "AND OR NOT",
            "{a b}: c",
            "a*",
            "\0",
        ];
        for q in hostile {
            let result = f
                .store
                .search(SearchQuery {
                    room: None,
                    text: q.into(),
                    limit: 10,
                })
                .await;
            match result {
                Ok(hits) => assert!(hits.len() <= 2, "{q:?}"),
                Err(Error::BadQuery(_)) => {}
                Err(e) => panic!("query {q:?}: {e:?}"),
            }
        }
        // 400 distinct words: far beyond FTS5's expression depth limit if it nested them.
        let hits = f
            .store
            .search(SearchQuery {
                room: Some("r".into()),
                text: many.join(" "),
                limit: 10,
            })
            .await
            .expect("many words");
        assert_eq!(hits.len(), 1);
        // A very long single word.
        let long = "z".repeat(100_000);
        f.store.append(msg("r", &long)).await.expect("append");
        let hits = f
            .store
            .search(SearchQuery {
                room: None,
                text: long,
                limit: 10,
            })
            .await
            .expect("long word");
        assert_eq!(hits.len(), 1);
    }

    #[tokio::test]
    async fn extreme_numbers_round_trip() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        let mut m = msg("r", "reply");
        m.reply_to = Some(u64::MAX);
        m.ts = i64::MIN;
        f.store.append(m).await.expect("append");
        let page = f
            .store
            .history("r", HistoryQuery::latest(1))
            .await
            .expect("history");
        assert_eq!(page.messages[0].reply_to, Some(u64::MAX));
        assert_eq!(page.messages[0].ts, i64::MIN);
        f.store
            .set_read("r", "ann", u64::MAX - 1)
            .await
            .expect("set");
        f.store.set_read("r", "ann", 7).await.expect("set");
        assert_eq!(
            f.store.read_position("r", "ann").await.expect("read"),
            u64::MAX - 1
        );
        f.store.set_read("r", "ann", u64::MAX).await.expect("set");
        assert_eq!(
            f.store.read_position("r", "ann").await.expect("read"),
            u64::MAX
        );
        let err = f
            .store
            .set_read("ghost", "ann", 1)
            .await
            .expect_err("unknown room");
        assert!(matches!(err, Error::UnknownRoom(_)), "{err:?}");
        // Cursors beyond SQLite's integer range.
        let page = f
            .store
            .history("r", HistoryQuery::before(u64::MAX, 10))
            .await
            .expect("history");
        assert_eq!(page.messages.len(), 1);
        let page = f
            .store
            .history("r", HistoryQuery::after(u64::MAX - 1, 10))
            .await
            .expect("history");
        assert!(page.messages.is_empty() && !page.has_more);
    }

    #[tokio::test]
    async fn unread_count_is_an_index_range_read() {
        let f = Fixture::new();
        let conn = f.raw();
        let sql = crate::unread::unread_sql();
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let plan: Vec<String> = stmt
            .query_map(params!["r", "ann"], |r| r.get(3))
            .expect("plan")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let plan = plan.join(" | ");
        assert!(
            plan.contains("(room_id=? AND seq>?)"),
            "the messages after the read position, by index: {plan}"
        );
        assert!(!plan.contains("SCAN m"), "no scan of the room: {plan}");
    }

    #[tokio::test]
    async fn history_page_is_an_index_range_read() {
        let f = Fixture::new();
        let conn = f.raw();
        for sql in [
            "SELECT body FROM messages m WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) \
             AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3",
            "SELECT body FROM messages m WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) \
             AND m.seq > ?2 AND m.seq < ?3 ORDER BY m.seq ASC LIMIT ?4",
        ] {
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explain");
            let plan: Vec<String> = stmt
                .query_map(
                    rusqlite::params_from_iter((0..stmt.parameter_count()).map(|_| 1)),
                    |r| r.get::<_, String>(3),
                )
                .expect("plan")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            let plan = plan.join(" | ");
            assert!(
                plan.contains("USING INDEX messages_by_room_seq (room_id=? AND seq"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
        }
        // Search: the full-text index drives, each hit is one primary-key lookup.
        let index = f.store.config().index_path();
        conn.execute(
            "ATTACH DATABASE ?1 AS search",
            [index.to_str().expect("utf-8 path")],
        )
        .expect("attach the index");
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", state::search_sql()))
            .expect("explain");
        let plan: Vec<String> = stmt
            .query_map(params!["\"x\"", None::<String>], |r| r.get(3))
            .expect("plan")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let plan = plan.join(" | ");
        assert!(
            plan.starts_with("SCAN search.message_fts VIRTUAL TABLE"),
            "{plan}"
        );
        assert!(
            plan.contains("SEARCH h USING INTEGER PRIMARY KEY (rowid=?)")
                && plan.contains("SEARCH m USING INDEX messages_by_room_seq (room_id=? AND seq=?)"),
            "{plan}"
        );
    }

    #[tokio::test]
    async fn close_stops_writes_but_not_reads() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        f.store.append(msg("r", "kept")).await.expect("append");
        f.store.close().await.expect("close");
        assert!(matches!(
            f.store.append(msg("r", "late")).await,
            Err(Error::Closed)
        ));
        assert!(matches!(
            f.store.add_member("r", "bob", Role::Member).await,
            Err(Error::Closed)
        ));
        assert_eq!(f.store.last_seq("r").await.expect("read after close"), 1);
        f.store.ping().await.expect("ping");
        f.store.close().await.expect("idempotent");
    }

    #[tokio::test]
    async fn dropping_the_store_commits_and_stops_its_threads() {
        let f = Fixture::new();
        room(&f.store, "r").await;
        let pending: Vec<_> = (0..50)
            .map(|i| f.store.append(msg("r", &i.to_string())))
            .collect();
        let Fixture { dir, store, .. } = f;
        drop(store); // joins the writer after it committed the 50 queued appends
        for p in pending {
            p.await.expect("committed before the thread stopped");
        }
        let again = SqliteStore::open(dir.path().join("t.db")).expect("reopen");
        assert_eq!(again.last_seq("r").await.expect("last_seq"), 50);
    }

    #[tokio::test]
    async fn newer_schema_is_refused() {
        let f = Fixture::new();
        let path = f.path();
        drop(f.store);
        let conn = Connection::open(&path).expect("raw");
        conn.pragma_update(None, "user_version", crate::SCHEMA_VERSION + 5)
            .expect("bump");
        drop(conn);
        let err = SqliteStore::open(&path).expect_err("too new");
        assert!(
            matches!(err, Error::SchemaTooNew { found, .. } if found == crate::SCHEMA_VERSION + 5),
            "{err:?}"
        );
    }

    #[test]
    fn store_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<SqliteStore>();
    }
}
