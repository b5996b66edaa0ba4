//! Opening a [`PostgresStore`] (pool, migrations, writer pipelines, indexer) and dropping
//! its schema; the driver settings and the one-line error text both use.

use std::sync::{Arc, Mutex};

use chatcore::{Error, Result};
use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod,
};
use tokio_postgres::NoTls;

use super::{Inner, PostgresStore};
use crate::config::PostgresConfig;
use crate::error::PostgresError;
use crate::indexer::{Indexer, Signals};
use crate::schema;
use crate::writer::Writer;

impl PostgresStore {
    /// Connects, creates or upgrades the schema (see the crate docs), and starts the writer
    /// pipelines on the current Tokio runtime.
    ///
    /// Fails with [`Error::Config`] for an invalid configuration or URL, with a store error
    /// saying "cannot reach PostgreSQL at …" when the server does not answer or refuses the
    /// login, and with [`Error::SchemaTooNew`] when a newer build created the tables.
    pub async fn connect(config: PostgresConfig) -> Result<Self> {
        let pg = pg_config(&config)?;
        let target = describe(&pg);
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        // Every connection works in the configured schema. A session setting, so it stays
        // for the connection's life (the `Fast` recycling method never resets the session).
        let set_path = format!("SET search_path TO \"{}\"", config.schema);
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .post_create(Hook::async_fn(move |client, _| {
                let sql = set_path.clone();
                Box::pin(
                    async move { client.batch_execute(&sql).await.map_err(HookError::Backend) },
                )
            }))
            .build()
            .map_err(|e| Error::Config(format!("PostgreSQL pool: {e}")))?;
        let mut client = pool.get().await.map_err(|e| {
            let reason = match &e {
                // The driver's own words, without the pool's preamble.
                PoolError::Backend(driver) => one_line(driver),
                other => one_line(other),
            };
            Error::store(PostgresError::Connect {
                target: target.clone(),
                reason,
            })
        })?;
        schema::migrate(&mut client, &config.schema).await?;
        drop(client);
        let signals = Arc::new(Signals::default());
        let writer = Writer::start(
            &pool,
            config.pipelines,
            config.max_batch,
            Arc::clone(&signals),
        );
        let indexer = Indexer::start(pool.clone(), signals);
        tracing::info!(%target, schema = %config.schema, "postgres store open");
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                writer,
                indexer: Mutex::new(Some(indexer)),
                schema: config.schema,
            }),
        })
    }

    /// Deletes `config.schema` and everything in it (`DROP SCHEMA … CASCADE`): for removing a
    /// tenant, and for tests and benchmarks that made a schema of their own. Refuses the
    /// `public` schema with [`Error::Config`]. Stores open on the schema fail afterwards.
    pub async fn drop_schema(config: &PostgresConfig) -> Result<()> {
        if config.schema == "public" {
            return Err(Error::Config(
                "refusing to drop the public schema; drop its tables by hand if you mean it".into(),
            ));
        }
        let pg = pg_config(config)?;
        let target = describe(&pg);
        let (client, connection) = pg.connect(NoTls).await.map_err(|e| {
            Error::store(PostgresError::Connect {
                target,
                reason: one_line(&e),
            })
        })?;
        let connection = tokio::spawn(connection);
        // `schema` passed validation: it never needs quoting.
        let result = client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                config.schema
            ))
            .await
            .map_err(Error::store);
        drop(client);
        let _ = connection.await;
        result
    }
}

/// The driver's connection settings for `config`, after checking it.
fn pg_config(config: &PostgresConfig) -> Result<tokio_postgres::Config> {
    config.validate()?;
    let mut pg: tokio_postgres::Config = config
        .url
        .parse()
        .map_err(|e| Error::Config(format!("invalid PostgreSQL URL: {e}")))?;
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(config.connect_timeout);
    }
    if pg.get_application_name().is_none() {
        pg.application_name("chatcore");
    }
    Ok(pg)
}

/// `host:port/database` of a connection config, for messages (never the password).
fn describe(pg: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = match pg.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let db = pg.get_dbname().or(pg.get_user()).unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}

/// An error and its causes on one line (PostgreSQL adds DETAIL and HINT lines).
fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
