//! [`PostgresStore`]: opening, and every [`Store`] method except the append pipeline.

use std::sync::{Arc, Mutex, PoisonError};

use chatcore::protocol::Message;
use chatcore::store::{
    Appended, HistoryPage, HistoryQuery, MAX_PAGE, Member, NewMessage, NewRoom, Pending, ReadMark,
    Role, RoomRecord, SearchQuery, Store,
};
use chatcore::{Error, Result};
use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod,
};
use tokio_postgres::NoTls;

use crate::codec::{self, message_columns, room_columns};
use crate::config::PostgresConfig;
use crate::error::PostgresError;
use crate::indexer::{self, Indexer, Signals};
use crate::writer::{WriteStats, Writer};
use crate::{schema, state};

const ROOM: &str = concat!(
    "SELECT ",
    room_columns!(),
    " FROM rooms r WHERE r.name = $1 AND r.deleted IS NULL"
);

const LIST_ROOMS: &str = concat!(
    "SELECT ",
    room_columns!(),
    ", i.invited FROM rooms r, LATERAL (SELECT \
       EXISTS (SELECT 1 FROM memberships mb WHERE mb.room_id = r.id AND mb.user_name = $1) \
         AS member, \
       EXISTS (SELECT 1 FROM room_invites ri WHERE ri.room_id = r.id AND ri.user_name = $1) \
         AS invite) m, \
     LATERAL (SELECT NOT m.member AND m.invite AS invited) i \
     WHERE r.deleted IS NULL AND (r.kind = 'public' OR m.member OR i.invited) \
     ORDER BY r.name"
);

/// A new room starts with nothing to index.
const CREATE_ROOM: &str = "WITH r AS (INSERT INTO rooms (name, kind, creator, created) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id) \
     INSERT INTO search_progress (room_id, seq) SELECT id, 0 FROM r";

/// Newest first within `(after, before)`: backward pages and the latest page.
const HISTORY_BACKWARD: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.room_id = (SELECT id FROM rooms WHERE name = $1) \
       AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq DESC LIMIT $4"
);

/// Oldest first within `(after, before)`: forward pages.
const HISTORY_FORWARD: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages m WHERE m.room_id = (SELECT id FROM rooms WHERE name = $1) \
       AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq ASC LIMIT $4"
);

const LAST_SEQ: &str = "SELECT last_seq FROM rooms WHERE name = $1";

/// Inserts unless present; returns whether the room exists.
const ADD_MEMBER: &str = "WITH r AS (SELECT id FROM rooms WHERE name = $1 AND deleted IS NULL), \
       ins AS (INSERT INTO memberships (room_id, user_name, role, joined) \
               SELECT id, $2, $3, $4 FROM r ON CONFLICT (room_id, user_name) DO NOTHING) \
     SELECT count(*) FROM r";

const REMOVE_MEMBER: &str = "DELETE FROM memberships \
     WHERE room_id = (SELECT id FROM rooms WHERE name = $1) AND user_name = $2";

const MEMBER: &str = "SELECT mb.user_name, mb.role, mb.joined FROM memberships mb \
     JOIN rooms r ON r.id = mb.room_id WHERE r.name = $1 AND mb.user_name = $2";

const MEMBERS: &str = "SELECT mb.user_name, mb.role, mb.joined FROM memberships mb \
     JOIN rooms r ON r.id = mb.room_id WHERE r.name = $1 ORDER BY mb.user_name";

/// Served by the GIN index on `message_search.search`, each hit joined to its message by
/// primary key.
const SEARCH: &str = concat!(
    "SELECT ",
    message_columns!(),
    ", r.name FROM message_search s \
     JOIN messages m ON m.room_id = s.room_id AND m.seq = s.seq \
     JOIN rooms r ON r.id = m.room_id \
     WHERE s.search @@ $1::text::tsquery \
       AND ($2::bytea IS NULL OR r.name = $2) \
       AND m.search @@ $1::text::tsquery AND m.deleted_ts IS NULL \
     ORDER BY m.ts DESC, m.seq DESC, r.name LIMIT $3"
);

/// Moves forward only; returns whether the room exists.
const SET_READ: &str = "WITH r AS (SELECT id FROM rooms WHERE name = $1 AND deleted IS NULL), \
       up AS (INSERT INTO read_positions (room_id, user_name, seq) SELECT id, $2, $3 FROM r \
              ON CONFLICT (room_id, user_name) \
              DO UPDATE SET seq = GREATEST(read_positions.seq, EXCLUDED.seq)) \
     SELECT count(*) FROM r";

/// Several read positions in one statement (`$1` rooms, `$2` users, `$3` seqs, as arrays);
/// rooms that do not exist (any more) drop out in the join.
const SET_READS: &str = "INSERT INTO read_positions (room_id, user_name, seq) \
     SELECT r.id, x.u, max(x.s) FROM unnest($1::bytea[], $2::bytea[], $3::int8[]) AS x(room, u, s) \
     JOIN rooms r ON r.name = x.room AND r.deleted IS NULL GROUP BY r.id, x.u \
     ON CONFLICT (room_id, user_name) DO UPDATE SET seq = GREATEST(read_positions.seq, EXCLUDED.seq)";

const READ_POSITION: &str = "SELECT rp.seq FROM read_positions rp \
     JOIN rooms r ON r.id = rp.room_id WHERE r.name = $1 AND rp.user_name = $2";

/// A durable [`Store`] on PostgreSQL.
///
/// Open it with [`PostgresStore::connect`]. Clones share one connection pool and one set of
/// writer pipelines; [`Store::close`] on any clone closes them all.
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

    /// The PostgreSQL schema holding this store's tables.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// Counters of the append path since this store opened: batches committed, appends
    /// answered, duplicates, retries. `appends / batches` is the average batch size.
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
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

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn append(&self, msg: NewMessage) -> Pending<Appended> {
        self.inner.writer.submit(msg)
    }

    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord> {
        {
            let client = self.client().await?;
            let stmt = client
                .prepare_cached(CREATE_ROOM)
                .await
                .map_err(Error::store)?;
            client
                .execute(
                    &stmt,
                    &[
                        &room.name.as_bytes(),
                        &room.kind.as_str(),
                        &room.creator.as_bytes(),
                        &room.created,
                    ],
                )
                .await
                .map_err(Error::store)?;
        }
        // No room: the name belongs to a deleted room, never created again.
        self.room(&room.name)
            .await?
            .ok_or(Error::UnknownRoom(room.name))
    }

    async fn room(&self, name: &str) -> Result<Option<RoomRecord>> {
        self.query_opt(ROOM, &[&name.as_bytes()])
            .await?
            .map(|row| codec::room_record(&row))
            .transpose()
    }

    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
        let viewer = viewer.map(str::as_bytes);
        self.query(LIST_ROOMS, &[&viewer])
            .await?
            .iter()
            .map(|row| {
                let mut record = codec::room_record(row)?;
                record.invited = row.try_get(8).map_err(Error::store)?;
                Ok(record)
            })
            .collect()
    }

    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        query.check()?;
        let limit = i64::from(query.clamped_limit());
        let after = query.after.map_or(0, codec::signed);
        let before = query.before.map_or(i64::MAX, codec::signed);
        let sql = if query.is_forward() {
            HISTORY_FORWARD
        } else {
            HISTORY_BACKWARD
        };
        // One row more than asked tells whether more exist in the direction read.
        let rows = self
            .query(sql, &[&room.as_bytes(), &after, &before, &(limit + 1)])
            .await?;
        let has_more = rows.len() as i64 > limit;
        let mut messages = rows
            .iter()
            .take(rows.len().min(limit as usize))
            .map(|row| codec::message(row, room.to_owned()))
            .collect::<Result<Vec<_>>>()?;
        if !query.is_forward() {
            messages.reverse();
        }
        Ok(HistoryPage {
            messages,
            has_more,
            current_to: 0,
        })
    }

    async fn history_current(
        &self,
        room: &str,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        let mut client = self.client().await?;
        state::history(&mut client, room, query, viewer).await
    }

    async fn thread(
        &self,
        room: &str,
        root: u64,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        let mut client = self.client().await?;
        state::thread(&mut client, room, root, query, viewer).await
    }

    async fn last_seq(&self, room: &str) -> Result<u64> {
        match self.query_opt(LAST_SEQ, &[&room.as_bytes()]).await? {
            Some(row) => codec::unsigned(row.try_get(0).map_err(Error::store)?, "last_seq"),
            None => Ok(0),
        }
    }

    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        let joined = chatcore::now_millis();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&room.as_bytes(), &user.as_bytes(), &role.as_str(), &joined];
        if self.room_exists_after(ADD_MEMBER, &params).await? {
            Ok(())
        } else {
            Err(Error::UnknownRoom(room.to_owned()))
        }
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(REMOVE_MEMBER)
            .await
            .map_err(Error::store)?;
        client
            .execute(&stmt, &[&room.as_bytes(), &user.as_bytes()])
            .await
            .map_err(Error::store)?;
        Ok(())
    }

    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>> {
        self.query_opt(MEMBER, &[&room.as_bytes(), &user.as_bytes()])
            .await?
            .map(|row| codec::member(&row))
            .transpose()
    }

    async fn members(&self, room: &str) -> Result<Vec<Member>> {
        self.query(MEMBERS, &[&room.as_bytes()])
            .await?
            .iter()
            .map(codec::member)
            .collect()
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Message>> {
        // Only the words go to PostgreSQL, each quoted as a lexeme, as a parameter: no query
        // syntax of the user's is ever interpreted.
        let words: Vec<String> = codec::words(&query.text).collect();
        if words.is_empty() {
            return Err(Error::BadQuery("no words to search for".into()));
        }
        let Some(tsquery) = codec::tsquery(&words) else {
            return Ok(Vec::new());
        };
        let room = query.room.as_deref().map(str::as_bytes);
        let limit = i64::from(query.limit.min(MAX_PAGE));
        // Everything acknowledged before this call, by any node, goes into the index first.
        indexer::catch_up(&self.inner.pool).await?;
        self.query(SEARCH, &[&tsquery, &room, &limit])
            .await?
            .iter()
            .map(|row| {
                let room = codec::string(row, codec::MESSAGE_COLUMNS, "rooms.name")?;
                codec::message(row, room)
            })
            .collect()
    }

    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()> {
        let seq = codec::signed(seq);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
            [&room.as_bytes(), &user.as_bytes(), &seq];
        if self.room_exists_after(SET_READ, &params).await? {
            Ok(())
        } else {
            Err(Error::UnknownRoom(room.to_owned()))
        }
    }

    async fn set_reads(&self, marks: &[ReadMark]) -> Result<()> {
        let rooms: Vec<&[u8]> = marks.iter().map(|m| m.room.as_bytes()).collect();
        let users: Vec<&[u8]> = marks.iter().map(|m| m.user.as_bytes()).collect();
        let seqs: Vec<i64> = marks.iter().map(|m| codec::signed(m.seq)).collect();
        self.query(SET_READS, &[&rooms, &users, &seqs]).await?;
        Ok(())
    }

    async fn read_position(&self, room: &str, user: &str) -> Result<u64> {
        match self
            .query_opt(READ_POSITION, &[&room.as_bytes(), &user.as_bytes()])
            .await?
        {
            Some(row) => codec::unsigned(row.try_get(0).map_err(Error::store)?, "read position"),
            None => Ok(0),
        }
    }

    async fn unread(&self, user: &str, rooms: &[String]) -> Result<Vec<chatcore::store::Unread>> {
        crate::unread::unread(&self.client().await?, user, rooms).await
    }

    async fn heads(&self) -> Result<Vec<(String, u64)>> {
        crate::stream::heads(&self.client().await?).await
    }

    async fn acquire_lease(
        &self,
        group: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<u64>> {
        crate::stream::acquire_lease(&self.client().await?, group, holder, ttl).await
    }

    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>> {
        crate::stream::cursors(&self.client().await?, group).await
    }

    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()> {
        let mut client = self.client().await?;
        crate::stream::commit_cursor(&mut client, group, token, room, seq).await
    }

    async fn ping(&self) -> Result<()> {
        let client = self.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(Error::store)?;
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.inner.writer.close().await;
        let indexer = self
            .inner
            .indexer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(indexer) = indexer {
            indexer.stop().await;
        }
        Ok(())
    }
}
