//! Opening the store's connections (writer, readers, checkpointer) with their settings.

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::versions::{check_version, migrate};
use crate::SqliteConfig;
use chatcore::{Error, Result};

/// Opens the write connection: creates the file if needed, switches to WAL and brings the
/// schema up to [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
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

pub(super) fn common_pragmas(conn: &Connection, config: &SqliteConfig) -> Result<()> {
    conn.busy_timeout(config.busy_timeout)
        .map_err(Error::store)?;
    conn.pragma_update(None, "cache_size", -i64::from(config.cache_kib))
        .map_err(Error::store)?;
    conn.set_prepared_statement_cache_capacity(64);
    // A statement with a bound `LIMIT ?` (every page of history, search, thread) is
    // compiled again at each run otherwise: the planner may pick another plan for another
    // limit, so binding one expires the statement. With the query planner stability
    // guarantee a cached statement keeps its plan. No plan is lost: the store never runs
    // `ANALYZE`, so no statistics could choose between plans anyway. Measured: the
    // re-compiling was 42 % of the readers' time while 5,000 clients joined a room.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(Error::store)?;
    Ok(())
}
