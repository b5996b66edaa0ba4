//! [`SqliteAccounts`]: the [`Accounts`] capability in the store's database file.
//!
//! Accounts change a few times per login, not per message, so they do not go through the
//! writer thread's message batches: one connection of their own, behind a mutex, each call
//! one transaction on a blocking task. SQLite's write lock (with the store's busy timeout)
//! orders them against the writer thread's commits.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chatcore::accounts::{
    AccountRecord, Accounts, Created, FamilyRecord, NewAccount, NewInvite, NewRefresh, Rotation,
    name_key,
};
use chatcore::{Error, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::{SqliteStore, schema};

/// Accounts in a [`SqliteStore`]'s file ([`SqliteStore::accounts`]). Clones share the
/// connection.
#[derive(Clone)]
pub struct SqliteAccounts {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteAccounts").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// The accounts kept in this store's database (a connection of their own). Blocks while
    /// it opens the file.
    pub fn accounts(&self) -> Result<SqliteAccounts> {
        let conn = schema::open_checkpointer(self.config())?;
        Ok(SqliteAccounts {
            conn: Arc::new(Mutex::new(conn)),
        })
    }
}

impl SqliteAccounts {
    /// Runs `f` in one immediate transaction on a blocking task, committing when it
    /// returns `Ok`.
    async fn tx<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(Error::store)?;
            let out = f(&tx).map_err(Error::store)?;
            tx.commit().map_err(Error::store)?;
            Ok(out)
        })
        .await
        .map_err(Error::store)?
    }
}

fn account_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRecord> {
    Ok(AccountRecord::new(
        row.get::<_, String>(1)?,
        row.get::<_, String>(0)?,
        row.get::<_, String>(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn session_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<FamilyRecord> {
    Ok(FamilyRecord::new(
        row.get::<_, String>(0)?,
        row.get::<_, String>(1)?,
        row.get(2)?,
    ))
}

#[async_trait]
impl Accounts for SqliteAccounts {
    async fn create_account(&self, account: NewAccount, invite: Option<&str>) -> Result<Created> {
        let invite = invite.map(str::to_owned);
        self.tx(move |tx| {
            let key = name_key(&account.name);
            let taken: Option<i64> = tx
                .query_row("SELECT 1 FROM accounts WHERE name_key = ?1", [&key], |r| {
                    r.get(0)
                })
                .optional()?;
            if taken.is_some() {
                return Ok(Created::NameTaken);
            }
            if let Some(hash) = invite {
                let used = tx.execute(
                    "UPDATE invites SET used = 1 WHERE hash = ?1 AND used = 0 AND expires > ?2",
                    params![hash, account.created],
                )?;
                if used == 0 {
                    return Ok(Created::BadInvite);
                }
            }
            tx.execute(
                "INSERT INTO accounts (name_key, name, password_hash, admin, created)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    key,
                    account.name,
                    account.password_hash,
                    account.admin,
                    account.created
                ],
            )?;
            Ok(Created::Created(AccountRecord::new(
                account.name,
                key,
                account.password_hash,
                account.admin,
                account.created,
            )))
        })
        .await
    }

    async fn account(&self, name: &str) -> Result<Option<AccountRecord>> {
        let key = name_key(name);
        self.tx(move |tx| {
            tx.query_row(
                "SELECT name_key, name, password_hash, admin, created FROM accounts
                 WHERE name_key = ?1",
                [key],
                account_row,
            )
            .optional()
        })
        .await
    }

    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        let (key, hash) = (name_key(name), password_hash.to_owned());
        self.tx(move |tx| {
            tx.execute(
                "UPDATE accounts SET password_hash = ?2 WHERE name_key = ?1",
                params![key, hash],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn set_admin(&self, name: &str, admin: bool) -> Result<bool> {
        let key = name_key(name);
        self.tx(move |tx| {
            tx.execute(
                "UPDATE accounts SET admin = ?2 WHERE name_key = ?1",
                params![key, admin],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn delete_account(&self, name: &str) -> Result<bool> {
        let key = name_key(name);
        self.tx(move |tx| {
            tx.execute(
                "DELETE FROM refresh_tokens WHERE session_id IN
                     (SELECT id FROM account_sessions WHERE account_key = ?1)",
                [&key],
            )?;
            tx.execute(
                "DELETE FROM account_sessions WHERE account_key = ?1",
                [&key],
            )?;
            tx.execute("DELETE FROM accounts WHERE name_key = ?1", [&key])
                .map(|n| n == 1)
        })
        .await
    }

    async fn create_session(&self, name: &str, first: NewRefresh) -> Result<()> {
        let (key, shown) = (name_key(name), name.to_owned());
        let created = self
            .tx(move |tx| {
                let exists: Option<i64> = tx
                    .query_row("SELECT 1 FROM accounts WHERE name_key = ?1", [&key], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if exists.is_none() {
                    return Ok(false);
                }
                tx.execute(
                    "INSERT INTO account_sessions (id, account_key) VALUES (?1, ?2)",
                    params![first.family, key],
                )?;
                tx.execute(
                    "INSERT INTO refresh_tokens (hash, session_id, expires) VALUES (?1, ?2, ?3)",
                    params![first.hash, first.family, first.expires],
                )?;
                Ok(true)
            })
            .await?;
        if created {
            Ok(())
        } else {
            Err(Error::Unauthorized(format!("no account {shown:?}")))
        }
    }

    async fn rotate_refresh(
        &self,
        hash: &str,
        next: &str,
        now: i64,
        expires: i64,
    ) -> Result<Rotation> {
        let (hash, next) = (hash.to_owned(), next.to_owned());
        self.tx(move |tx| {
            let found = tx
                .query_row(
                    "SELECT s.id, s.account_key, s.revoked, t.used, t.expires
                     FROM refresh_tokens t JOIN account_sessions s ON s.id = t.session_id
                     WHERE t.hash = ?1",
                    [&hash],
                    |r| Ok((session_row(r)?, r.get::<_, bool>(3)?, r.get::<_, i64>(4)?)),
                )
                .optional()?;
            let Some((session, used, token_expires)) = found else {
                return Ok(Rotation::Unknown);
            };
            if used {
                tx.execute(
                    "UPDATE account_sessions SET revoked = 1 WHERE id = ?1",
                    [&session.id],
                )?;
                return Ok(Rotation::Reused(FamilyRecord::new(
                    session.id,
                    session.account,
                    true,
                )));
            }
            if session.revoked || token_expires <= now {
                return Ok(Rotation::Expired);
            }
            tx.execute(
                "UPDATE refresh_tokens SET used = 1 WHERE hash = ?1",
                [&hash],
            )?;
            tx.execute(
                "INSERT INTO refresh_tokens (hash, session_id, expires) VALUES (?1, ?2, ?3)",
                params![next, session.id, expires],
            )?;
            Ok(Rotation::Rotated(session))
        })
        .await
    }

    async fn session(&self, id: &str) -> Result<Option<FamilyRecord>> {
        let id = id.to_owned();
        self.tx(move |tx| {
            tx.query_row(
                "SELECT id, account_key, revoked FROM account_sessions WHERE id = ?1",
                [id],
                session_row,
            )
            .optional()
        })
        .await
    }

    async fn revoke_session(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.tx(move |tx| {
            tx.execute(
                "UPDATE account_sessions SET revoked = 1 WHERE id = ?1 AND revoked = 0",
                [id],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn revoke_sessions(&self, name: &str, keep: Option<&str>) -> Result<u64> {
        let (key, keep) = (name_key(name), keep.map(str::to_owned));
        self.tx(move |tx| {
            tx.execute(
                "UPDATE account_sessions SET revoked = 1
                 WHERE account_key = ?1 AND revoked = 0 AND id IS NOT ?2",
                params![key, keep],
            )
            .map(|n| n as u64)
        })
        .await
    }

    async fn create_invite(&self, invite: NewInvite) -> Result<()> {
        self.tx(move |tx| {
            tx.execute(
                "INSERT INTO invites (hash, created_by, expires) VALUES (?1, ?2, ?3)",
                params![invite.hash, invite.created_by, invite.expires],
            )
            .map(drop)
        })
        .await
    }
}
