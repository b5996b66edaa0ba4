//! The multi-row `INSERT` statements of new messages: how many messages one statement takes
//! at most, and its SQL text (the writer prepares one per size, see `insert.rs`).

/// Messages per multi-row `INSERT` at most (see [`Writer::insert`]); a power of two.
///
/// [`Writer::insert`]: super::Writer::insert
pub(super) const ROWS: usize = 32;

/// Parameters per message in [`insert_sql`]. `pos` is not one: SQLite gives a new row one
/// more than the largest, and a value of ours would make every multi-row insert keep a
/// statement journal (an explicit key may fail to be an integer mid-statement).
pub(super) const COLUMNS: usize = 13;

/// `INSERT OR ROLLBACK INTO messages … VALUES (…), (…)` for `rows` messages, [`COLUMNS`]
/// parameters each.
pub(super) fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT OR ROLLBACK INTO messages \
         (room_id, seq, id, sender, kind, ts, nonce, reply_to, body, data, target, moderation, \
          mentions) VALUES ",
    );
    let row = format!("({})", ["?"; COLUMNS].join(","));
    sql.push_str(&vec![row; rows].join(","));
    sql
}
