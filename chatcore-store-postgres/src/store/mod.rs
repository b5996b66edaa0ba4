//! [`PostgresStore`]: the handle, its pool, and the query helpers its submodules share.
//! Opening is in `connect`, the [`Store`](chatcore::store::Store) methods in `store_trait`.

mod connect;
mod store_trait;

use std::sync::{Arc, Mutex};

use chatcore::{Error, Result};
use deadpool_postgres::{Object, Pool};

use crate::indexer::Indexer;
use crate::writer::{WriteStats, Writer};

/// A durable [`Store`](chatcore::store::Store) on PostgreSQL.
///
/// Open it with [`PostgresStore::connect`]. Clones share one connection pool and one set of
/// writer pipelines; [`Store::close`](chatcore::store::Store::close) on any clone closes them
/// all.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Connections for queries (and, one each, for the writer pipelines).
    pool: Pool,
    /// The append path.
    writer: Writer,
    /// The search indexer task, until closed.
    indexer: Mutex<Option<Indexer>>,
    /// For `Debug` and [`PostgresStore::schema`].
    schema: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.inner.pool.status();
        f.debug_struct("PostgresStore")
            .field("schema", &self.inner.schema)
            .field("pool_size", &status.size)
            .field("pool_available", &status.available)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// The PostgreSQL schema holding this store's tables.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// Counters of the append path since this store opened: batches committed, appends
    /// answered, duplicates, retries. `appends / batches` is the average batch size.
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
    }

    pub(crate) async fn client(&self) -> Result<Object> {
        self.inner.pool.get().await.map_err(Error::store)
    }

    /// Runs a prepared (and per-connection cached) query.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(Error::store)?;
        client.query(&stmt, params).await.map_err(Error::store)
    }

    /// Like [`query`](Self::query), for at most one row.
    pub(crate) async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<tokio_postgres::Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs a `… SELECT count(*) FROM r` statement; `false` when the room does not exist.
    async fn room_exists_after(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<bool> {
        let row = self
            .query_opt(sql, params)
            .await?
            .ok_or_else(|| crate::error::corrupt("count returned no row"))?;
        let n: i64 = row.try_get(0).map_err(Error::store)?;
        Ok(n > 0)
    }
}
