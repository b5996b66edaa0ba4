//! The [`Store`] methods of [`PostgresStore`] other than the append pipeline (rooms,
//! history, members, search, read positions, the event stream, closing), with their SQL.

use std::sync::PoisonError;

use chatcore::protocol::Message;
use chatcore::store::{
    Appended, HistoryPage, HistoryQuery, MAX_PAGE, Member, NewMessage, NewRoom, Pending, ReadMark,
    Role, RoomRecord, SearchQuery, Store,
};
use chatcore::{Error, Result};

use super::PostgresStore;
use crate::codec::{self, message_columns, room_columns};
use crate::{indexer, state};

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
