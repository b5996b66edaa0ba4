//! [`PostgresConfig`]: where the database is and how the store uses it.

use std::time::Duration;

use chatcore::{Error, Result};

/// Everything [`PostgresStore::connect`](crate::PostgresStore::connect) needs to know.
///
/// Build it with [`PostgresConfig::new`] and the `with_*` setters, which check invariants:
///
/// ```
/// use chatcore_store_postgres::PostgresConfig;
///
/// let config = PostgresConfig::new("postgres://chat@db.internal:5432/chat")
///     .with_schema("tenant_a")?
///     .with_pool_size(32)?
///     .with_max_batch(4096)?;
/// assert_eq!(config.pool_size, 32);
/// # Ok::<(), chatcore::Error>(())
/// ```
///
/// The fields are public so a binary can fill them from flags; [`PostgresStore::connect`]
/// checks them again and reports a bad combination as [`Error::Config`].
///
/// [`PostgresStore::connect`]: crate::PostgresStore::connect
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// Connection string, as a URL (`postgres://user:password@host:port/db?sslmode=disable`)
    /// or in `key=value` form; whatever `tokio_postgres::Config` parses. Default
    /// `postgres://postgres@127.0.0.1:5432/postgres`, a local server with the stock role and
    /// database. TLS is not supported: use a local socket, a private network or a TLS proxy.
    pub url: String,
    /// Most connections the store opens. Default 16: one per writer pipeline plus room for
    /// concurrent history, search and membership queries. Must exceed
    /// [`pipelines`](Self::pipelines), because each pipeline keeps one connection for itself.
    pub pool_size: usize,
    /// PostgreSQL schema holding the tables; created when missing. Default `public`, the
    /// schema every database has. Use one schema per tenant or per test to keep data apart.
    /// Lower-case ASCII letters, digits and `_`, not starting with a digit or `pg_`, at most
    /// 63 bytes, so it never needs quoting.
    pub schema: String,
    /// Most appends committed in one transaction by one pipeline. Default 2048: large enough
    /// that the per-commit cost (a few round trips and one WAL flush) vanishes at full load,
    /// small enough that a batch commits in a few milliseconds. Between 1 and 65 536.
    pub max_batch: usize,
    /// Writer pipelines, each with its own connection and queue. Rooms are spread over them
    /// by a hash of the room name, so one room's messages always go through one pipeline in
    /// call order. Default 4: while one pipeline waits for its commit, others fill and send
    /// theirs, which keeps both PostgreSQL and the client busy. Between 1 and 64.
    pub pipelines: usize,
    /// How long opening one connection may take before it fails. Default 10 s: long enough
    /// for a server across a slow network, short enough that a wrong host fails visibly.
    pub connect_timeout: Duration,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            url: "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
            pool_size: 16,
            schema: "public".to_owned(),
            max_batch: 2048,
            pipelines: 4,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Largest accepted [`PostgresConfig::max_batch`].
const MAX_BATCH_LIMIT: usize = 65_536;
/// Largest accepted [`PostgresConfig::pipelines`].
const MAX_PIPELINES: usize = 64;

impl PostgresConfig {
    /// Defaults, connecting to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Sets [`schema`](Self::schema); fails with [`Error::Config`] for a name that would need
    /// quoting or is reserved.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Result<Self> {
        let schema = schema.into();
        check_schema(&schema)?;
        self.schema = schema;
        Ok(self)
    }

    /// Sets [`pool_size`](Self::pool_size); fails unless it exceeds the pipelines.
    pub fn with_pool_size(mut self, pool_size: usize) -> Result<Self> {
        self.pool_size = pool_size;
        self.check_pool()?;
        Ok(self)
    }

    /// Sets [`max_batch`](Self::max_batch) (1 to 65 536).
    pub fn with_max_batch(mut self, max_batch: usize) -> Result<Self> {
        if !(1..=MAX_BATCH_LIMIT).contains(&max_batch) {
            return Err(Error::Config(format!(
                "max_batch must be between 1 and {MAX_BATCH_LIMIT}, not {max_batch}"
            )));
        }
        self.max_batch = max_batch;
        Ok(self)
    }

    /// Sets [`pipelines`](Self::pipelines) (1 to 64), growing
    /// [`pool_size`](Self::pool_size) when it would not leave room for queries.
    pub fn with_pipelines(mut self, pipelines: usize) -> Result<Self> {
        if !(1..=MAX_PIPELINES).contains(&pipelines) {
            return Err(Error::Config(format!(
                "pipelines must be between 1 and {MAX_PIPELINES}, not {pipelines}"
            )));
        }
        self.pipelines = pipelines;
        self.pool_size = self.pool_size.max(pipelines + 1);
        Ok(self)
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Checks every invariant the setters check (for configs filled field by field).
    pub fn validate(&self) -> Result<()> {
        check_schema(&self.schema)?;
        Self::new(self.url.clone()).with_max_batch(self.max_batch)?;
        Self::new(self.url.clone()).with_pipelines(self.pipelines)?;
        self.check_pool()
    }

    fn check_pool(&self) -> Result<()> {
        if self.pool_size <= self.pipelines {
            return Err(Error::Config(format!(
                "pool_size ({}) must exceed pipelines ({}): each writer pipeline keeps one \
                 connection and queries need at least one more",
                self.pool_size, self.pipelines
            )));
        }
        Ok(())
    }
}

/// Accepts schema names that never need quoting: `[a-z_][a-z0-9_]*`, at most 63 bytes, not
/// `pg_…` (reserved by PostgreSQL).
fn check_schema(schema: &str) -> Result<()> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !first_ok || !rest_ok || schema.len() > 63 || schema.starts_with("pg_") {
        return Err(Error::Config(format!(
            "schema name {schema:?} must be 1 to 63 lower-case ASCII letters, digits or _, \
             start with a letter or _, and not start with pg_"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        PostgresConfig::default().validate().expect("valid");
    }

    #[test]
    fn schema_names_never_need_quoting() {
        for good in ["public", "chat", "_x", "tenant_42"] {
            PostgresConfig::default()
                .with_schema(good)
                .expect("accepted");
        }
        for bad in [
            "",
            "Chat",
            "1abc",
            "a-b",
            "a b",
            "a\"b",
            "pg_temp",
            "x'; drop",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    PostgresConfig::default().with_schema(bad),
                    Err(Error::Config(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn pool_must_exceed_pipelines() {
        let c = PostgresConfig::default()
            .with_pipelines(8)
            .expect("pipelines");
        assert!(c.pool_size > 8);
        assert!(c.clone().with_pool_size(8).is_err());
        assert!(c.with_pool_size(9).is_ok());
        assert!(PostgresConfig::default().with_max_batch(0).is_err());
        assert!(PostgresConfig::default().with_pipelines(0).is_err());
        let bad = PostgresConfig {
            pool_size: 1,
            ..PostgresConfig::default()
        };
        assert!(matches!(bad.validate(), Err(Error::Config(_))));
    }
}
