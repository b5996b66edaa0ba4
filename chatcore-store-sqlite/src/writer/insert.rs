//! Multi-row inserts of new messages: a batch's appends get their seqs up front and go in
//! [`ROWS`] (or fewer) per statement.

use chatcore::store::NewMessage;

use super::insert_statements::{COLUMNS, ROWS};
use super::{Fatal, Writer};
use crate::rows::{self, to_sql_u64};

impl<'m> Row<'m> {
    /// `msg` as the `seq`th message of room `room_id`.
    pub(super) fn new(msg: &'m NewMessage, room_id: i64, seq: u64) -> Self {
        Self { msg, room_id, seq }
    }
}

impl Writer {
    /// Gives a message for a known room its seq, counting on its insert to succeed
    /// (see [`Writer::insert`]); `None` for an unknown room.
    pub(super) fn plan<'m>(&mut self, msg: &'m NewMessage) -> Result<Option<Row<'m>>, Fatal> {
        let Some(room_id) = self.room_id(&msg.room)? else {
            return Ok(None);
        };
        let seq = self.last_seq(room_id)? + 1;
        self.last_seq.insert(room_id, seq);
        self.stored += 1;
        self.remember_nonce(msg);
        Ok(Some(Row { msg, room_id, seq }))
    }

    /// Inserts the planned `rows` (leaving the vector empty) with multi-row statements of
    /// [`ROWS`], 16, 8, 4, 2 or 1 messages: one statement per many messages instead of one
    /// each saves most of SQLite's per-statement work, and the few sizes keep the statement
    /// cache small. The statements are `INSERT OR ROLLBACK`: a retried nonce rolls the whole
    /// transaction back (and [`Writer::commit`] runs the batch again the careful way)
    /// instead of SQLite keeping a statement journal, on every insert, to undo one
    /// statement.
    pub(super) fn insert(&mut self, rows: &mut Vec<Row<'_>>) -> Result<(), Fatal> {
        let mut done = 0;
        while done < rows.len() {
            let left = rows.len() - done;
            let n = if left >= ROWS {
                ROWS
            } else {
                1 << left.ilog2()
            };
            self.insert_rows(rows.get(done..done + n).unwrap_or_default())?;
            self.last_pos = Some(self.conn.last_insert_rowid());
            done += n;
        }
        rows.clear();
        Ok(())
    }

    /// One multi-row `INSERT` of `rows` (a power of two, at most [`ROWS`]).
    fn insert_rows(&self, rows: &[Row<'_>]) -> Result<(), Fatal> {
        let sql = self
            .inserts
            .get(rows.len().trailing_zeros() as usize)
            .ok_or(rusqlite::Error::InvalidQuery)?;
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut at = 1;
        for row in rows {
            let m = row.msg;
            stmt.raw_bind_parameter(at, row.room_id)?;
            stmt.raw_bind_parameter(at + 1, to_sql_u64(row.seq))?;
            stmt.raw_bind_parameter(at + 2, &m.id)?;
            stmt.raw_bind_parameter(at + 3, &m.sender)?;
            stmt.raw_bind_parameter(at + 4, m.kind.as_str())?;
            stmt.raw_bind_parameter(at + 5, m.ts)?;
            stmt.raw_bind_parameter(at + 6, &m.nonce)?;
            stmt.raw_bind_parameter(at + 7, m.reply_to.map(to_sql_u64))?;
            stmt.raw_bind_parameter(at + 8, &m.text)?;
            stmt.raw_bind_parameter(at + 9, rows::data_to_sql(m.data.as_ref()))?;
            stmt.raw_bind_parameter(at + 10, m.target.map(to_sql_u64))?;
            stmt.raw_bind_parameter(at + 11, rows::moderation_to_sql(m.moderation.as_ref()))?;
            stmt.raw_bind_parameter(at + 12, rows::mentions_to_sql(&m.mentions))?;
            at += COLUMNS;
        }
        stmt.raw_execute().map(drop)
    }
}

/// A new message planned for the open transaction.
pub(super) struct Row<'m> {
    msg: &'m NewMessage,
    room_id: i64,
    pub(super) seq: u64,
}

/// How a transaction inserts new messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inserts {
    /// Many per statement ([`Writer::insert`]); a nonce conflict fails the transaction.
    Many,
    /// One per statement ([`Writer::append`]); a nonce conflict answers with the original.
    One,
}
