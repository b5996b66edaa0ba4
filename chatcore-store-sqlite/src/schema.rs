//! The schema, its migrations (`PRAGMA user_version`) and the connection settings.

use rusqlite::{Connection, OpenFlags};

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
];

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
    // After a checkpoint lets the log start over, cut the file back to 64 MiB.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .map_err(Error::store)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Opens one reader connection (after the writer made sure the schema is current).
pub(crate) fn open_reader(config: &SqliteConfig) -> Result<Connection> {
    // Opened read-write but `query_only`: a read-only handle cannot rebuild the WAL index
    // after a crash, a query_only one can, and neither can change data.
    let conn = Connection::open_with_flags(
        &config.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(Error::store)?;
    common_pragmas(&conn, config)?;
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
    conn.set_prepared_statement_cache_capacity(32);
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
            "message_fts",
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
