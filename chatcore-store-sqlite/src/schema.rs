//! The schema, its migrations (`PRAGMA user_version`) and the connection settings.

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::SqliteConfig;
use chatcore::{Error, Result};

/// `PRAGMA application_id` of a chatcore database ("chat" in ASCII), so the store refuses to
/// migrate a SQLite file that belongs to another program.
pub(crate) const APPLICATION_ID: i64 = 0x6368_6174;

/// Migrations, oldest first: applying `MIGRATIONS[i]` takes the database from version `i` to
/// version `i + 1`. Never edit a released entry; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: rooms, memberships, messages (+ full-text index), users, read positions.
    r#"
    -- Rooms get a small integer id: every message row and index entry carries it instead of
    -- the name.
    CREATE TABLE rooms (
        id      INTEGER PRIMARY KEY,
        name    TEXT    NOT NULL UNIQUE,
        kind    TEXT    NOT NULL,
        topic   TEXT,
        creator TEXT    NOT NULL,
        created INTEGER NOT NULL
    );

    CREATE TABLE memberships (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        role    TEXT    NOT NULL,
        joined  INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    -- list_rooms: "rooms this user is a member of".
    CREATE INDEX memberships_by_user ON memberships (user, room_id);

    -- Clustered by (room_id, seq): a history page is one contiguous range of one b-tree.
    CREATE TABLE messages (
        room_id  INTEGER NOT NULL REFERENCES rooms (id),
        seq      INTEGER NOT NULL,
        id       TEXT    NOT NULL,
        sender   TEXT    NOT NULL,
        kind     TEXT    NOT NULL,
        ts       INTEGER NOT NULL,
        nonce    TEXT,
        reply_to INTEGER,
        body     TEXT    NOT NULL,
        PRIMARY KEY (room_id, seq)
    ) WITHOUT ROWID;
    -- Idempotent send: one message per (sender, nonce), across rooms.
    CREATE UNIQUE INDEX messages_by_nonce ON messages (sender, nonce) WHERE nonce IS NOT NULL;

    -- Contentless: it stores only the index. rowid = room_id << 32 | seq (see rows.rs), so
    -- a hit finds its message by primary key with no extra index; the indexed text is the
    -- message's words, lowercased and joined by spaces (see search.rs), so the `ascii`
    -- tokenizer splits it exactly where the store's word rules say. No positions
    -- (detail=none) and no per-document sizes (columnsize=0): the store only ever asks
    -- "which documents hold all these words", and each option costs writes on every append.
    -- (Deleting or editing indexed messages will need `contentless_delete`, which FTS5 only
    -- offers with columnsize=1: a later migration rebuilds the index then.)
    CREATE VIRTUAL TABLE message_fts USING fts5 (
        words,
        content = '',
        detail = none,
        columnsize = 0,
        tokenize = 'ascii'
    );
    -- Merge segments 16 at a time instead of 4: each posting is rewritten about half as
    -- often (measured: about 1.5 µs less writer time per 100-byte message), for a few more
    -- segments to read per search.
    INSERT INTO message_fts (message_fts, rank) VALUES ('automerge', 16);

    -- Accounts (used by a later issue): a NULL password_hash is a guest-style name claim.
    CREATE TABLE users (
        name          TEXT    PRIMARY KEY,
        password_hash TEXT,
        created       INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE read_positions (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    "#,
    // 2: messages in commit order, the full-text index in a file of its own.
    //
    // `messages` becomes a rowid table keyed by `pos`, the message's place in commit order
    // across all rooms: every append lands at the right edge of the table, where SQLite
    // splits a full page cheaply and leaves it full. Clustered by (room_id, seq) instead,
    // appends to different rooms each split pages in the middle of the b-tree, which cost
    // a quarter of the writer's time and left pages partly empty. A page of history is a
    // range of the small (room_id, seq) index plus one lookup by `pos` per message.
    //
    // The full-text index moves to its own file, kept up by the indexer thread off the
    // append path (see indexer.rs): it follows `pos` and rebuilds itself from the messages.
    // `meta` names this database, so an index file can tell whether it was built from it.
    //
    // The nonce index leads with the nonce: clients make time-ordered nonces (ULIDs, as
    // chatcore-client does), so new entries land at the right edge of the index and a batch
    // dirties a few pages instead of one per sender (each dirty page is written whole to the
    // WAL at every commit).
    r#"
    DROP TABLE message_fts;
    CREATE TABLE messages_v2 (
        pos      INTEGER PRIMARY KEY,
        room_id  INTEGER NOT NULL REFERENCES rooms (id),
        seq      INTEGER NOT NULL,
        id       TEXT    NOT NULL,
        sender   TEXT    NOT NULL,
        kind     TEXT    NOT NULL,
        ts       INTEGER NOT NULL,
        nonce    TEXT,
        reply_to INTEGER,
        body     TEXT    NOT NULL
    );
    INSERT INTO messages_v2 (room_id, seq, id, sender, kind, ts, nonce, reply_to, body)
        SELECT room_id, seq, id, sender, kind, ts, nonce, reply_to, body FROM messages
        ORDER BY room_id, seq;
    DROP TABLE messages;
    ALTER TABLE messages_v2 RENAME TO messages;
    CREATE UNIQUE INDEX messages_by_room_seq ON messages (room_id, seq);
    -- Idempotent send: one message per (sender, nonce), across rooms.
    CREATE UNIQUE INDEX messages_by_nonce ON messages (nonce, sender) WHERE nonce IS NOT NULL;
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('database_id', lower(hex(randomblob(16))));
    "#,
    // 3: the host's event stream: a lease per consumer group (one active consumer, fenced by
    // its token) and the group's committed cursor per room.
    r#"
    CREATE TABLE stream_leases (
        grp     TEXT    PRIMARY KEY,
        holder  TEXT    NOT NULL,
        token   INTEGER NOT NULL,
        expires INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE stream_cursors (
        grp     TEXT    NOT NULL,
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        seq     INTEGER NOT NULL,
        PRIMARY KEY (grp, room_id)
    ) WITHOUT ROWID;
    "#,
    // A message's application payload (`Message::data`): a JSON object as compact JSON
    // text, NULL when the message has none (every message written before this migration).
    // Stored as text and never queried, so it reads back byte for byte.
    r#"
    ALTER TABLE messages ADD COLUMN data TEXT;
    "#,
    // accounts: registered users (keyed by the normalized name), their sessions (refresh-token
    // families) and refresh tokens (hashes only), and invite codes (hashes only).
    r#"
    CREATE TABLE accounts (
        name_key      TEXT    PRIMARY KEY,
        name          TEXT    NOT NULL,
        password_hash TEXT    NOT NULL,
        admin         INTEGER NOT NULL DEFAULT 0,
        created       INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE account_sessions (
        id          TEXT    PRIMARY KEY,
        account_key TEXT    NOT NULL,
        revoked     INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX account_sessions_by_account ON account_sessions (account_key);
    CREATE TABLE refresh_tokens (
        hash       TEXT    PRIMARY KEY,
        session_id TEXT    NOT NULL,
        expires    INTEGER NOT NULL,
        used       INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
    CREATE TABLE invites (
        hash       TEXT    PRIMARY KEY,
        created_by TEXT    NOT NULL,
        expires    INTEGER NOT NULL,
        used       INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    "#,
    // The fields of room events other than plain messages (PROTOCOL.md, "Room events"): the
    // seq a change event changes, a moderation event's details (JSON text) and the users a
    // message mentions (a JSON array of names). NULL for every row written before.
    r#"
    ALTER TABLE messages ADD COLUMN target INTEGER;
    ALTER TABLE messages ADD COLUMN moderation TEXT;
    ALTER TABLE messages ADD COLUMN mentions TEXT;
    "#,
    // Room authority (issue #12): bans and mutes (until: NULL while not timed), invitations
    // to private rooms, the audit log (one row per moderation event, keyed by its seq) and
    // users' blocks of each other's direct messages.
    r#"
    CREATE TABLE room_bans (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        by_user TEXT    NOT NULL,
        reason  TEXT,
        until   INTEGER,
        since   INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    CREATE TABLE room_mutes (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        by_user TEXT    NOT NULL,
        reason  TEXT,
        until   INTEGER,
        since   INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    CREATE TABLE room_invites (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    CREATE TABLE room_audit (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        seq     INTEGER NOT NULL,
        actor   TEXT    NOT NULL,
        action  TEXT    NOT NULL,
        user    TEXT,
        reason  TEXT,
        until   INTEGER,
        role    TEXT,
        ts      INTEGER NOT NULL,
        PRIMARY KEY (room_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE user_blocks (
        user    TEXT NOT NULL,
        blocked TEXT NOT NULL,
        PRIMARY KEY (user, blocked)
    ) WITHOUT ROWID;
    "#,
    // A message's current state (PROTOCOL.md, "Room events"): `body` becomes the current
    // text, updated by each edit, emptied by a delete, with when it was edited and who
    // deleted it when; reactions, one row per target, emoji and user (the react event's seq
    // orders emoji by first use); the replies of a thread root and the change events of a
    // target found by index. NULL, and no reactions, for every row written before.
    r#"
    ALTER TABLE messages ADD COLUMN edited_ts INTEGER;
    ALTER TABLE messages ADD COLUMN deleted_by TEXT;
    ALTER TABLE messages ADD COLUMN deleted_ts INTEGER;
    CREATE TABLE reactions (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        target  INTEGER NOT NULL,
        emoji   TEXT    NOT NULL,
        user    TEXT    NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (room_id, target, emoji, user)
    ) WITHOUT ROWID;
    CREATE INDEX messages_by_reply ON messages (room_id, reply_to, seq) WHERE reply_to IS NOT NULL;
    CREATE INDEX messages_by_target ON messages (room_id, target) WHERE target IS NOT NULL;
    "#,
    // A room's description (set at `create`), and when it was deleted (`delete_room`): a
    // deleted room keeps its row, so its name stays taken and its audit log readable, and
    // nothing else. NULL for every room written before.
    r#"
    ALTER TABLE rooms ADD COLUMN description TEXT;
    ALTER TABLE rooms ADD COLUMN deleted INTEGER;
    "#,
];

/// `PRAGMA application_id` of a chatcore search index file ("chfi").
const INDEX_APPLICATION_ID: i64 = 0x6368_6669;

/// The layout of the index file. The file is derived data: one of another version (or
/// built from another database) is deleted and rebuilt, never migrated.
const INDEX_VERSION: i64 = 1;

/// The index file's tables. Contentless FTS5: it stores only the index. rowid = the
/// message's `pos`, so a hit finds its message by primary key with no extra index; the
/// indexed text is the message's words, lowercased and joined by spaces
/// (see search.rs), so the `ascii` tokenizer splits it exactly where the store's word rules
/// say. No positions (detail=none) and no per-document sizes (columnsize=0): the store only
/// ever asks "which documents hold all these words". Segments are merged 16 at a time
/// instead of 4, so each posting is rewritten about half as often. `indexed` holds the
/// newest `pos` indexed (every message up to it is in the index), committed together with
/// the entries.
const INDEX_SCHEMA: &str = r#"
    CREATE TABLE source (
        database_id TEXT NOT NULL
    );
    CREATE TABLE indexed (
        pos INTEGER NOT NULL
    );
    INSERT INTO indexed (pos) VALUES (0);
    CREATE VIRTUAL TABLE message_fts USING fts5 (
        words,
        content = '',
        detail = none,
        columnsize = 0,
        tokenize = 'ascii'
    );
    INSERT INTO message_fts (message_fts, rank) VALUES ('automerge', 16);
"#;

/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens the write connection: creates the file if needed, switches to WAL and brings the
/// schema up to [`SCHEMA_VERSION`].
pub(crate) fn open_writer(config: &SqliteConfig) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        &config.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(Error::store)?;
    common_pragmas(&conn, config)?;
    // Before anything writes to the file (even the journal mode lives in its header).
    check_version(&conn)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(Error::store)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::store(format!(
            "could not switch {} to WAL mode (journal_mode is {mode})",
            config.path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", config.synchronous.pragma())
        .map_err(Error::store)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(Error::store)?;
    // The `REFERENCES rooms` clauses document the schema; the writer enforces them itself
    // (it resolves every room id from the rooms table, and rooms are never deleted).
    // Enforced by SQLite (on by default in this build), each message insert would look its
    // room up again and keep a statement journal to undo a failed multi-row insert:
    // measured, about a sixth of the writer's work.
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(Error::store)?;
    // After a checkpoint lets the log start over, cut the file back to 64 MiB.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .map_err(Error::store)?;
    migrate(&conn)?;
    Ok(conn)
}

/// This database's identity (`meta.database_id`, set by migration 2).
pub(crate) fn database_id(conn: &Connection) -> Result<String> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'database_id'",
        [],
        |r| r.get(0),
    )
    .map_err(Error::store)
}

/// Opens the search index file for writing, creating it when missing. An index file of
/// another layout version, or built from another database, is deleted and recreated empty
/// (the indexer then rebuilds it from the messages); a file that is not a chatcore index at
/// all is refused, never deleted.
pub(crate) fn open_index(config: &SqliteConfig, database_id: &str) -> Result<Connection> {
    let path = config.index_path();
    let open = || -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(Error::store)?;
        common_pragmas(&conn, config)?;
        Ok(conn)
    };
    let conn = open()?;
    let conn = match index_state(&conn, database_id)? {
        IndexState::Current => conn,
        IndexState::Empty => conn,
        IndexState::Stale => {
            tracing::info!(path = %path.display(),
                "sqlite store: the search index belongs to another database or version; \
                 rebuilding it");
            drop(conn);
            remove_index_files(&path)?;
            open()?
        }
    };
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(Error::store)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::store(format!(
            "could not switch {} to WAL mode (journal_mode is {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(Error::store)?;
    if index_state(&conn, database_id)? == IndexState::Empty {
        let create = || -> rusqlite::Result<()> {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;
                 {INDEX_SCHEMA}
                 PRAGMA application_id = {INDEX_APPLICATION_ID};
                 PRAGMA user_version = {INDEX_VERSION};"
            ))?;
            conn.execute(
                "INSERT INTO source (database_id) VALUES (?1)",
                [database_id],
            )?;
            conn.execute_batch("COMMIT")
        };
        create().map_err(|e| {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Error::store(format!("creating the search index {}: {e}", path.display()))
        })?;
    }
    Ok(conn)
}

/// What an opened index file holds.
#[derive(Debug, PartialEq, Eq)]
enum IndexState {
    /// Nothing yet.
    Empty,
    /// An index of this layout, built from this database.
    Current,
    /// A chatcore index of another layout or from another database.
    Stale,
}

fn index_state(conn: &Connection, database_id: &str) -> Result<IndexState> {
    let pragma = |name: &str| -> Result<i64> {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(Error::store)
    };
    let app_id = pragma("application_id")?;
    if app_id == 0 && table_count(conn)? == 0 {
        return Ok(IndexState::Empty);
    }
    if app_id != INDEX_APPLICATION_ID {
        return Err(Error::Config(format!(
            "{} is not a chatcore search index (application_id {app_id:#x}); move it away",
            conn.path().unwrap_or("the index file")
        )));
    }
    if pragma("user_version")? != INDEX_VERSION {
        return Ok(IndexState::Stale);
    }
    let source: Option<String> = conn
        .query_row("SELECT database_id FROM source", [], |r| r.get(0))
        .optional()
        .map_err(Error::store)?;
    Ok(if source.as_deref() == Some(database_id) {
        IndexState::Current
    } else {
        IndexState::Stale
    })
}

/// Deletes an index file and its WAL and shared-memory files.
fn remove_index_files(path: &std::path::Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::store(format!(
                    "cannot remove the stale search index {}: {e}",
                    std::path::Path::new(&name).display()
                )));
            }
        }
    }
    Ok(())
}

/// Opens one reader connection (after the writer made sure the schema is current), with the
/// search index file attached as `search` (after the indexer created it).
pub(crate) fn open_reader(config: &SqliteConfig) -> Result<Connection> {
    // Opened read-write but `query_only`: a read-only handle cannot rebuild the WAL index
    // after a crash, a query_only one can, and neither can change data.
    let conn = Connection::open_with_flags(
        &config.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(Error::store)?;
    common_pragmas(&conn, config)?;
    let index = config.index_path();
    let index = index.to_str().ok_or_else(|| {
        Error::Config(format!(
            "the search index path {} is not valid UTF-8",
            index.display()
        ))
    })?;
    conn.execute("ATTACH DATABASE ?1 AS search", [index])
        .map_err(Error::store)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(Error::store)?;
    conn.pragma_update(None, "mmap_size", config.mmap_bytes as i64)
        .map_err(Error::store)?;
    Ok(conn)
}

/// Opens the checkpointer's connection.
pub(crate) fn open_checkpointer(config: &SqliteConfig) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        &config.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(Error::store)?;
    conn.busy_timeout(config.busy_timeout)
        .map_err(Error::store)?;
    Ok(conn)
}

fn common_pragmas(conn: &Connection, config: &SqliteConfig) -> Result<()> {
    conn.busy_timeout(config.busy_timeout)
        .map_err(Error::store)?;
    conn.pragma_update(None, "cache_size", -i64::from(config.cache_kib))
        .map_err(Error::store)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Applies the missing migrations, each in its own transaction together with the version
/// bump. A database from a newer build is [`Error::SchemaTooNew`] and is left untouched.
///
/// The version is read again inside each `BEGIN IMMEDIATE` transaction, so two processes
/// opening the same new file at once apply each migration once.
pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    check_version(conn)?;
    loop {
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(Error::store)?;
        let step = (|| {
            let version = check_version(conn)?;
            let Some(sql) = MIGRATIONS.get(version as usize) else {
                return Ok(None);
            };
            let to = version + 1;
            conn.execute_batch(&format!(
                "{sql}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {to};"
            ))
            .map_err(|e| Error::store(format!("migration to schema version {to}: {e}")))?;
            Ok(Some(to))
        })();
        match step {
            Ok(applied) => {
                conn.execute_batch("COMMIT").map_err(Error::store)?;
                match applied {
                    Some(to) => tracing::info!(version = to, "sqlite store: applied migration"),
                    None => return Ok(()),
                }
            }
            Err(e) => {
                // Leave no half-applied migration behind.
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
}

/// The database's schema version, after checking that this build can open it: not newer than
/// [`SCHEMA_VERSION`], and either a chatcore database or a brand-new empty file.
fn check_version(conn: &Connection) -> Result<i64> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(Error::store)?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(Error::store)?;
    let empty = version == 0 && app_id == 0 && table_count(conn)? == 0;
    if app_id != APPLICATION_ID && !empty {
        return Err(Error::Config(format!(
            "not a chatcore database (application_id {app_id:#x}, user_version {version})"
        )));
    }
    Ok(version)
}

fn table_count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(Error::store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &tempfile::TempDir) -> SqliteConfig {
        SqliteConfig::new(dir.path().join("t.db"))
    }

    fn version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("user_version")
    }

    #[test]
    fn fresh_database_gets_every_migration() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = open_writer(&config(&dir)).expect("open");
        assert_eq!(version(&conn), SCHEMA_VERSION);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        for table in [
            "rooms",
            "memberships",
            "messages",
            "meta",
            "users",
            "read_positions",
        ] {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .expect("schema");
            assert_eq!(n, 1, "table {table}");
        }
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(open_writer(&config(&dir)).expect("open"));
        let conn = open_writer(&config(&dir)).expect("reopen");
        assert_eq!(version(&conn), SCHEMA_VERSION);
        migrate(&conn).expect("again");
    }

    #[test]
    fn newer_schema_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = open_writer(&config(&dir)).expect("open");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bump");
        drop(conn);
        match open_writer(&config(&dir)) {
            Err(Error::SchemaTooNew { found, supported }) => {
                assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
        let conn = Connection::open(dir.path().join("t.db")).expect("raw open");
        assert_eq!(version(&conn), SCHEMA_VERSION + 1);
    }

    /// A database written by the first release (messages clustered by (room_id, seq), the
    /// full-text index inside) keeps its messages, nonces and seqs, and becomes searchable
    /// again through the new index file.
    #[tokio::test]
    async fn version_1_databases_are_upgraded() {
        use chatcore::store::{HistoryQuery, NewMessage, SearchQuery, Store};

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        {
            let conn = Connection::open(&path).expect("raw open");
            conn.execute_batch(&format!(
                "{}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = 1;",
                MIGRATIONS[0]
            ))
            .expect("version 1");
            conn.execute_batch(
                "INSERT INTO rooms (id, name, kind, creator, created) VALUES
                     (1, 'a', 'public', 'ann', 1), (2, 'b', 'public', 'ann', 1);
                 INSERT INTO messages (room_id, seq, id, sender, kind, ts, nonce, body) VALUES
                     (2, 1, 'i1', 'ann', 'text', 10, 'n-1', 'older words here'),
                     (1, 1, 'i2', 'bob', 'text', 11, NULL, 'hello there'),
                     (2, 2, 'i3', 'ann', 'text', 12, 'n-2', 'hello again');
                 INSERT INTO message_fts (rowid, words) VALUES
                     ((1 << 32) | 1, 'hello there'), ((2 << 32) | 1, 'older words here'),
                     ((2 << 32) | 2, 'hello again');",
            )
            .expect("version 1 rows");
        }
        let store = crate::SqliteStore::open_with(config(&dir)).expect("upgrade");
        let conn = Connection::open(&path).expect("raw open");
        assert_eq!(version(&conn), SCHEMA_VERSION);
        let room = store.room("b").await.expect("room").expect("b");
        assert_eq!((room.last_seq, room.description), (2, None));
        let page = store
            .history("b", HistoryQuery::latest(10))
            .await
            .expect("history");
        let texts: Vec<_> = page
            .messages
            .iter()
            .map(|m| (m.seq, m.text.as_str()))
            .collect();
        assert_eq!(texts, [(1, "older words here"), (2, "hello again")]);
        let hello = store
            .search(SearchQuery {
                room: None,
                text: "hello".into(),
                limit: 10,
            })
            .await
            .expect("search");
        let found: Vec<_> = hello.iter().map(|m| (m.room.as_str(), m.seq)).collect();
        assert_eq!(found, [("b", 2), ("a", 1)]);
        let retry = store
            .append(NewMessage {
                room: "b".into(),
                id: "i4".into(),
                sender: "ann".into(),
                kind: Default::default(),
                text: "older words here".into(),
                ts: 13,
                nonce: Some("n-1".into()),
                reply_to: None,
                data: None,
                ..Default::default()
            })
            .await
            .expect("retry");
        assert!(retry.duplicate && retry.message.id == "i1", "{retry:?}");
        assert_eq!(retry.message.data, None, "old messages have no data");
        let card = chatcore::testing::fixtures::card(3);
        let next = store
            .append(NewMessage {
                room: "b".into(),
                id: "i5".into(),
                sender: "ann".into(),
                kind: chatcore::protocol::MessageKind::Custom("shop.order".into()),
                text: "new".into(),
                ts: 14,
                nonce: Some("n-3".into()),
                reply_to: None,
                data: Some(card.clone()),
                ..Default::default()
            })
            .await
            .expect("append");
        assert_eq!(next.message.seq, 3);
        let page = store
            .history("b", HistoryQuery::latest(10))
            .await
            .expect("history");
        let data: Vec<_> = page.messages.iter().map(|m| m.data.as_ref()).collect();
        assert_eq!(data, [None, None, Some(&card)]);
        assert_eq!(page.messages[2].kind.as_str(), "shop.order");
        // The upgraded database has room authority: a ban is the room's next event, with
        // its audit row, after the messages kept from version 1.
        use chatcore::store::RoomAuthority;
        let ban = chatcore::testing::moderation::event(
            "b",
            "ann",
            chatcore::protocol::MessageKind::Ban,
            chatcore::protocol::Moderation::on("bob"),
        );
        assert_eq!(store.moderate(ban).await.expect("ban").message.seq, 4);
        assert!(store.ban("b", "bob").await.expect("ban").is_some());
        assert_eq!(store.audit("b", None, 10).await.expect("audit").len(), 1);
        // The upgraded database keeps accounts too.
        use chatcore::accounts::{Accounts, Created, NewAccount};
        let accounts = store.accounts().expect("accounts");
        let created = accounts
            .create_account(NewAccount::new("Ann", "hash"), None)
            .await
            .expect("account");
        assert!(matches!(created, Created::Created(_)), "{created:?}");
        let ann = accounts.account("ann").await.expect("a").expect("ann");
        assert_eq!(ann.name, "Ann");
        // A message from before the upgrade takes changes like a new one, and search
        // follows its edit.
        let mut edit = chatcore::testing::fixtures::new_message("b", "ann", "newer words", None);
        edit.kind = chatcore::protocol::MessageKind::Edit;
        edit.target = Some(1);
        store.append(edit).await.expect("edit an old message");
        let find = |text: &str| SearchQuery {
            room: Some("b".into()),
            text: text.into(),
            limit: 10,
        };
        let older = store.search(find("older")).await.expect("search");
        assert!(older.is_empty(), "{older:?}");
        let newer = store.search(find("newer")).await.expect("search");
        let found: Vec<_> = newer.iter().map(|m| (m.seq, m.id.as_str())).collect();
        assert_eq!(found, [(1, "i1")]);
        store.close().await.expect("close");
    }

    #[test]
    fn foreign_database_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = Connection::open(dir.path().join("t.db")).expect("raw open");
        conn.execute_batch("CREATE TABLE something_else (x INTEGER)")
            .expect("create");
        drop(conn);
        assert!(matches!(open_writer(&config(&dir)), Err(Error::Config(_))));
    }
}
