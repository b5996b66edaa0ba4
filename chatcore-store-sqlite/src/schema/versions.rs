//! A database file's identity and schema version: what this build can open, and applying
//! the missing migrations.

use rusqlite::Connection;

use super::migrations::{MIGRATIONS, SCHEMA_VERSION};
use chatcore::{Error, Result};

/// `PRAGMA application_id` of a chatcore database ("chat" in ASCII), so the store refuses to
/// migrate a SQLite file that belongs to another program.
pub(crate) const APPLICATION_ID: i64 = 0x6368_6174;

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
pub(super) fn check_version(conn: &Connection) -> Result<i64> {
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

pub(super) fn table_count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(Error::store)
}
