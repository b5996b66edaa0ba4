//! `--store postgres://…`: connecting to the PostgreSQL store (feature `postgres`).

use std::sync::Arc;

use chatcore_store_postgres::{PostgresConfig, PostgresStore};

use crate::backends::{OpenedStore, redact};
use crate::error::{Result, StartupError};

/// Connects to PostgreSQL at `url` and creates or upgrades the schema. A `schema=NAME`
/// query parameter (ours, not libpq's; removed before connecting) picks the PostgreSQL
/// schema holding the tables, `public` by default: one database can then serve several
/// deployments, or several tests.
pub(crate) async fn open(url: &str) -> Result<OpenedStore> {
    let (conn_url, schema) = split_schema(url);
    let mut config = PostgresConfig::new(conn_url);
    if let Some(schema) = schema {
        config = config
            .with_schema(schema)
            .map_err(|e| StartupError::Config(format!("--store {}: {e}", redact(url))))?;
    }
    match PostgresStore::connect(config).await {
        Ok(store) => Ok(OpenedStore {
            store: Arc::new(store.clone()),
            accounts: Arc::new(store),
            metrics: None,
        }),
        Err(chatcore::Error::SchemaTooNew { .. }) => Err(StartupError::Store(format!(
            "--store {}: the database was written by a newer chatcore; run a newer chat-server \
             or use another database",
            redact(url)
        ))),
        Err(e) => {
            // The driver's message may repeat the URL; never print a password.
            let detail = redact_all(&e.to_string(), url);
            let advice = if detail.contains("--store") {
                "" // the store already said what to check
            } else {
                "; check that the server runs and that user, password, host and database in \
                 --store are right"
            };
            Err(StartupError::Store(format!(
                "cannot use the PostgreSQL store {}: {detail}{advice}",
                redact(url)
            )))
        }
    }
}

/// `url` without its `schema=NAME` query parameter, and that name.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_owned());
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), schema)
    } else {
        (format!("{base}?{}", rest.join("&")), schema)
    }
}

/// `text` with the password of `url` (if any) replaced by `***`.
fn redact_all(text: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => text.replace(p, "***"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::split_schema;

    #[test]
    fn schema_parameter_is_ours() {
        assert_eq!(
            split_schema("postgres://h/db"),
            ("postgres://h/db".into(), None)
        );
        assert_eq!(
            split_schema("postgres://h/db?schema=t1"),
            ("postgres://h/db".into(), Some("t1".into()))
        );
        assert_eq!(
            split_schema("postgres://h/db?sslmode=disable&schema=t1&application_name=x"),
            (
                "postgres://h/db?sslmode=disable&application_name=x".into(),
                Some("t1".into())
            )
        );
    }
}
