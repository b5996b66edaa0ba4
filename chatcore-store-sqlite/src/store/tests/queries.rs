//! Reads: extreme numbers round-trip, and history, unread counts and search stay index
//! range reads (checked with `EXPLAIN QUERY PLAN`).

use chatcore::Error;
use chatcore::store::{HistoryQuery, Store};
use rusqlite::params;

use super::{Fixture, msg, room};
use crate::state;

#[tokio::test]
async fn extreme_numbers_round_trip() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let mut m = msg("r", "reply");
    m.reply_to = Some(u64::MAX);
    m.ts = i64::MIN;
    f.store.append(m).await.expect("append");
    let page = f
        .store
        .history("r", HistoryQuery::latest(1))
        .await
        .expect("history");
    assert_eq!(page.messages[0].reply_to, Some(u64::MAX));
    assert_eq!(page.messages[0].ts, i64::MIN);
    f.store
        .set_read("r", "ann", u64::MAX - 1)
        .await
        .expect("set");
    f.store.set_read("r", "ann", 7).await.expect("set");
    assert_eq!(
        f.store.read_position("r", "ann").await.expect("read"),
        u64::MAX - 1
    );
    f.store.set_read("r", "ann", u64::MAX).await.expect("set");
    assert_eq!(
        f.store.read_position("r", "ann").await.expect("read"),
        u64::MAX
    );
    let err = f
        .store
        .set_read("ghost", "ann", 1)
        .await
        .expect_err("unknown room");
    assert!(matches!(err, Error::UnknownRoom(_)), "{err:?}");
    // Cursors beyond SQLite's integer range.
    let page = f
        .store
        .history("r", HistoryQuery::before(u64::MAX, 10))
        .await
        .expect("history");
    assert_eq!(page.messages.len(), 1);
    let page = f
        .store
        .history("r", HistoryQuery::after(u64::MAX - 1, 10))
        .await
        .expect("history");
    assert!(page.messages.is_empty() && !page.has_more);
}

#[tokio::test]
async fn unread_count_is_an_index_range_read() {
    let f = Fixture::new();
    let conn = f.raw();
    let sql = crate::unread::unread_sql();
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let plan: Vec<String> = stmt
        .query_map(params!["r", "ann"], |r| r.get(3))
        .expect("plan")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    let plan = plan.join(" | ");
    assert!(
        plan.contains("(room_id=? AND seq>?)"),
        "the messages after the read position, by index: {plan}"
    );
    assert!(!plan.contains("SCAN m"), "no scan of the room: {plan}");
}

#[tokio::test]
async fn history_page_is_an_index_range_read() {
    let f = Fixture::new();
    let conn = f.raw();
    for sql in [
        "SELECT body FROM messages m WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) \
         AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3",
        "SELECT body FROM messages m WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) \
         AND m.seq > ?2 AND m.seq < ?3 ORDER BY m.seq ASC LIMIT ?4",
    ] {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let plan: Vec<String> = stmt
            .query_map(
                rusqlite::params_from_iter((0..stmt.parameter_count()).map(|_| 1)),
                |r| r.get::<_, String>(3),
            )
            .expect("plan")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let plan = plan.join(" | ");
        assert!(
            plan.contains("USING INDEX messages_by_room_seq (room_id=? AND seq"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
    }
    // Search: the full-text index drives, each hit is one primary-key lookup.
    let index = f.store.config().index_path();
    conn.execute(
        "ATTACH DATABASE ?1 AS search",
        [index.to_str().expect("utf-8 path")],
    )
    .expect("attach the index");
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", state::search_sql()))
        .expect("explain");
    let plan: Vec<String> = stmt
        .query_map(params!["\"x\"", None::<String>], |r| r.get(3))
        .expect("plan")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    let plan = plan.join(" | ");
    assert!(
        plan.starts_with("SCAN search.message_fts VIRTUAL TABLE"),
        "{plan}"
    );
    assert!(
        plan.contains("SEARCH h USING INTEGER PRIMARY KEY (rowid=?)")
            && plan.contains("SEARCH m USING INDEX messages_by_room_seq (room_id=? AND seq=?)"),
        "{plan}"
    );
}

#[tokio::test]
async fn a_page_read_again_runs_its_compiled_statement_again() {
    let f = Fixture::without_log();
    room(&f.store, "r").await;
    for i in 0..3 {
        f.store
            .append(msg("r", &format!("m{i}")))
            .await
            .expect("append");
    }
    let conn = crate::schema::open_reader(f.store.config()).expect("reader");
    let sql = format!(
        "SELECT {} FROM messages m \
         WHERE m.room_id = (SELECT id FROM rooms WHERE name = ?1) AND m.seq < ?2 \
         ORDER BY m.seq DESC LIMIT ?3",
        crate::rows::MESSAGE_COLUMNS
    );
    for (round, limit) in [(1, 2), (2, 2), (3, 1)] {
        let page = state::history(&conn, "r", HistoryQuery::latest(limit), None).expect("page");
        assert_eq!(page.messages.len(), limit as usize);
        // The page's statement, from the connection's cache: how often SQLite compiled it
        // again. A bound `LIMIT ?` made it every time before the planner was told to keep
        // its plans.
        let stmt = conn.prepare_cached(&sql).expect("the page's statement");
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "round {round}"
        );
    }
}
