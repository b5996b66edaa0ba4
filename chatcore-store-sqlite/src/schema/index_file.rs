//! The search index file: its layout, and opening it (created when missing, rebuilt when
//! stale, refused when it is not a chatcore index).

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::connections::common_pragmas;
use super::versions::table_count;
use crate::SqliteConfig;
use chatcore::{Error, Result};

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
