//! The [`Accounts`] capability of [`PostgresStore`]: each call one transaction on a pooled
//! connection. Refresh-token rotation locks the token's row (`FOR UPDATE`), so two nodes
//! presenting the same token at once rotate it once and the second sees it used.

use async_trait::async_trait;
use chatcore::accounts::{
    AccountRecord, Accounts, Created, FamilyRecord, NewAccount, NewInvite, NewRefresh, Rotation,
    name_key,
};
use chatcore::{Error, Result};

use crate::PostgresStore;

fn account_row(row: &tokio_postgres::Row) -> Result<AccountRecord> {
    Ok(AccountRecord::new(
        row.try_get::<_, String>("name").map_err(Error::store)?,
        row.try_get::<_, String>("name_key").map_err(Error::store)?,
        row.try_get::<_, String>("password_hash")
            .map_err(Error::store)?,
        row.try_get("admin").map_err(Error::store)?,
        row.try_get("created").map_err(Error::store)?,
    ))
}

fn session_row(row: &tokio_postgres::Row) -> Result<FamilyRecord> {
    Ok(FamilyRecord::new(
        row.try_get::<_, String>("id").map_err(Error::store)?,
        row.try_get::<_, String>("account_key")
            .map_err(Error::store)?,
        row.try_get("revoked").map_err(Error::store)?,
    ))
}

impl PostgresStore {
    /// Runs one statement on a pooled connection; the number of rows it changed.
    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        let client = self.client().await?;
        client.execute(sql, params).await.map_err(Error::store)
    }
}

#[async_trait]
impl Accounts for PostgresStore {
    async fn create_account(&self, account: NewAccount, invite: Option<&str>) -> Result<Created> {
        let key = name_key(&account.name);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(Error::store)?;
        let inserted = tx
            .execute(
                "INSERT INTO accounts (name_key, name, password_hash, admin, created)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name_key) DO NOTHING",
                &[
                    &key,
                    &account.name,
                    &account.password_hash,
                    &account.admin,
                    &account.created,
                ],
            )
            .await
            .map_err(Error::store)?;
        if inserted == 0 {
            return Ok(Created::NameTaken);
        }
        if let Some(hash) = invite {
            let used = tx
                .execute(
                    "UPDATE invites SET used = TRUE
                     WHERE hash = $1 AND NOT used AND expires > $2",
                    &[&hash, &account.created],
                )
                .await
                .map_err(Error::store)?;
            if used == 0 {
                // Dropping the transaction rolls the account back.
                return Ok(Created::BadInvite);
            }
        }
        tx.commit().await.map_err(Error::store)?;
        Ok(Created::Created(AccountRecord::new(
            account.name,
            key,
            account.password_hash,
            account.admin,
            account.created,
        )))
    }

    async fn account(&self, name: &str) -> Result<Option<AccountRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT name_key, name, password_hash, admin, created FROM accounts
                 WHERE name_key = $1",
                &[&name_key(name)],
            )
            .await
            .map_err(Error::store)?;
        row.as_ref().map(account_row).transpose()
    }

    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE accounts SET password_hash = $2 WHERE name_key = $1",
                &[&name_key(name), &password_hash],
            )
            .await?;
        Ok(n == 1)
    }

    async fn set_admin(&self, name: &str, admin: bool) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE accounts SET admin = $2 WHERE name_key = $1",
                &[&name_key(name), &admin],
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_account(&self, name: &str) -> Result<bool> {
        // Sessions and refresh tokens go with it (ON DELETE CASCADE).
        let n = self
            .execute(
                "DELETE FROM accounts WHERE name_key = $1",
                &[&name_key(name)],
            )
            .await?;
        Ok(n == 1)
    }

    async fn create_session(&self, name: &str, first: NewRefresh) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(Error::store)?;
        let n = tx
            .execute(
                "INSERT INTO account_sessions (id, account_key)
                 SELECT $1, name_key FROM accounts WHERE name_key = $2",
                &[&first.family, &name_key(name)],
            )
            .await
            .map_err(Error::store)?;
        if n == 0 {
            return Err(Error::Unauthorized(format!("no account {name:?}")));
        }
        tx.execute(
            "INSERT INTO refresh_tokens (hash, session_id, expires) VALUES ($1, $2, $3)",
            &[&first.hash, &first.family, &first.expires],
        )
        .await
        .map_err(Error::store)?;
        tx.commit().await.map_err(Error::store)
    }

    async fn rotate_refresh(
        &self,
        hash: &str,
        next: &str,
        now: i64,
        expires: i64,
    ) -> Result<Rotation> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(Error::store)?;
        let Some(row) = tx
            .query_opt(
                "SELECT s.id, s.account_key, s.revoked, t.used, t.expires
                 FROM refresh_tokens t JOIN account_sessions s ON s.id = t.session_id
                 WHERE t.hash = $1 FOR UPDATE",
                &[&hash],
            )
            .await
            .map_err(Error::store)?
        else {
            return Ok(Rotation::Unknown);
        };
        let session = session_row(&row)?;
        let used: bool = row.try_get("used").map_err(Error::store)?;
        let token_expires: i64 = row.try_get("expires").map_err(Error::store)?;
        let outcome = if used {
            tx.execute(
                "UPDATE account_sessions SET revoked = TRUE WHERE id = $1",
                &[&session.id],
            )
            .await
            .map_err(Error::store)?;
            Rotation::Reused(FamilyRecord::new(session.id, session.account, true))
        } else if session.revoked || token_expires <= now {
            return Ok(Rotation::Expired);
        } else {
            tx.execute(
                "UPDATE refresh_tokens SET used = TRUE WHERE hash = $1",
                &[&hash],
            )
            .await
            .map_err(Error::store)?;
            tx.execute(
                "INSERT INTO refresh_tokens (hash, session_id, expires) VALUES ($1, $2, $3)",
                &[&next, &session.id, &expires],
            )
            .await
            .map_err(Error::store)?;
            Rotation::Rotated(session)
        };
        tx.commit().await.map_err(Error::store)?;
        Ok(outcome)
    }

    async fn session(&self, id: &str) -> Result<Option<FamilyRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, account_key, revoked FROM account_sessions WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(Error::store)?;
        row.as_ref().map(session_row).transpose()
    }

    async fn revoke_session(&self, id: &str) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE account_sessions SET revoked = TRUE WHERE id = $1 AND NOT revoked",
                &[&id],
            )
            .await?;
        Ok(n == 1)
    }

    async fn revoke_sessions(&self, name: &str, keep: Option<&str>) -> Result<u64> {
        self.execute(
            "UPDATE account_sessions SET revoked = TRUE
             WHERE account_key = $1 AND NOT revoked AND id IS DISTINCT FROM $2",
            &[&name_key(name), &keep],
        )
        .await
    }

    async fn create_invite(&self, invite: NewInvite) -> Result<()> {
        self.execute(
            "INSERT INTO invites (hash, created_by, expires) VALUES ($1, $2, $3)",
            &[&invite.hash, &invite.created_by, &invite.expires],
        )
        .await
        .map(drop)
    }
}
