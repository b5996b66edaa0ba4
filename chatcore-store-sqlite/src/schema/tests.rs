//! Tests of the schema: migrations from scratch, twice, from version 1, and the refusal of
//! newer or foreign databases.

use rusqlite::Connection;

use super::migrations::MIGRATIONS;
use super::versions::{APPLICATION_ID, migrate};
use super::{SCHEMA_VERSION, open_writer};
use crate::SqliteConfig;
use chatcore::Error;

fn config(dir: &tempfile::TempDir) -> SqliteConfig {
    SqliteConfig::new(dir.path().join("t.db"))
}

fn version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version")
}

#[test]
fn fresh_database_gets_every_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = open_writer(&config(&dir)).expect("open");
    assert_eq!(version(&conn), SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    for table in [
        "rooms",
        "memberships",
        "messages",
        "meta",
        "users",
        "read_positions",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = ?1",
                [table],
                |r| r.get(0),
            )
            .expect("schema");
        assert_eq!(n, 1, "table {table}");
    }
}

#[test]
fn migrating_twice_is_a_no_op() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open_writer(&config(&dir)).expect("open"));
    let conn = open_writer(&config(&dir)).expect("reopen");
    assert_eq!(version(&conn), SCHEMA_VERSION);
    migrate(&conn).expect("again");
}

#[test]
fn newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = open_writer(&config(&dir)).expect("open");
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .expect("bump");
    drop(conn);
    match open_writer(&config(&dir)) {
        Err(Error::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let conn = Connection::open(dir.path().join("t.db")).expect("raw open");
    assert_eq!(version(&conn), SCHEMA_VERSION + 1);
}

/// A database written by the first release (messages clustered by (room_id, seq), the
/// full-text index inside) keeps its messages, nonces and seqs, and becomes searchable
/// again through the new index file.
#[tokio::test]
async fn version_1_databases_are_upgraded() {
    use chatcore::store::{HistoryQuery, NewMessage, SearchQuery, Store};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.db");
    {
        let conn = Connection::open(&path).expect("raw open");
        conn.execute_batch(&format!(
            "{}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = 1;",
            MIGRATIONS[0]
        ))
        .expect("version 1");
        conn.execute_batch(
            "INSERT INTO rooms (id, name, kind, creator, created) VALUES
                 (1, 'a', 'public', 'ann', 1), (2, 'b', 'public', 'ann', 1);
             INSERT INTO messages (room_id, seq, id, sender, kind, ts, nonce, body) VALUES
                 (2, 1, 'i1', 'ann', 'text', 10, 'n-1', 'older words here'),
                 (1, 1, 'i2', 'bob', 'text', 11, NULL, 'hello there'),
                 (2, 2, 'i3', 'ann', 'text', 12, 'n-2', 'hello again');
             INSERT INTO message_fts (rowid, words) VALUES
                 ((1 << 32) | 1, 'hello there'), ((2 << 32) | 1, 'older words here'),
                 ((2 << 32) | 2, 'hello again');",
        )
        .expect("version 1 rows");
    }
    let store = crate::SqliteStore::open_with(config(&dir)).expect("upgrade");
    let conn = Connection::open(&path).expect("raw open");
    assert_eq!(version(&conn), SCHEMA_VERSION);
    let room = store.room("b").await.expect("room").expect("b");
    assert_eq!((room.last_seq, room.description), (2, None));
    let page = store
        .history("b", HistoryQuery::latest(10))
        .await
        .expect("history");
    let texts: Vec<_> = page
        .messages
        .iter()
        .map(|m| (m.seq, m.text.as_str()))
        .collect();
    assert_eq!(texts, [(1, "older words here"), (2, "hello again")]);
    let hello = store
        .search(SearchQuery {
            room: None,
            text: "hello".into(),
            limit: 10,
        })
        .await
        .expect("search");
    let found: Vec<_> = hello.iter().map(|m| (m.room.as_str(), m.seq)).collect();
    assert_eq!(found, [("b", 2), ("a", 1)]);
    let retry = store
        .append(NewMessage {
            room: "b".into(),
            id: "i4".into(),
            sender: "ann".into(),
            kind: Default::default(),
            text: "older words here".into(),
            ts: 13,
            nonce: Some("n-1".into()),
            reply_to: None,
            data: None,
            ..Default::default()
        })
        .await
        .expect("retry");
    assert!(retry.duplicate && retry.message.id == "i1", "{retry:?}");
    assert_eq!(retry.message.data, None, "old messages have no data");
    let card = chatcore::testing::fixtures::card(3);
    let next = store
        .append(NewMessage {
            room: "b".into(),
            id: "i5".into(),
            sender: "ann".into(),
            kind: chatcore::protocol::MessageKind::Custom("shop.order".into()),
            text: "new".into(),
            ts: 14,
            nonce: Some("n-3".into()),
            reply_to: None,
            data: Some(card.clone()),
            ..Default::default()
        })
        .await
        .expect("append");
    assert_eq!(next.message.seq, 3);
    let page = store
        .history("b", HistoryQuery::latest(10))
        .await
        .expect("history");
    let data: Vec<_> = page.messages.iter().map(|m| m.data.as_ref()).collect();
    assert_eq!(data, [None, None, Some(&card)]);
    assert_eq!(page.messages[2].kind.as_str(), "shop.order");
    // The upgraded database has room authority: a ban is the room's next event, with
    // its audit row, after the messages kept from version 1.
    use chatcore::store::RoomAuthority;
    let ban = chatcore::testing::moderation::event(
        "b",
        "ann",
        chatcore::protocol::MessageKind::Ban,
        chatcore::protocol::Moderation::on("bob"),
    );
    assert_eq!(store.moderate(ban).await.expect("ban").message.seq, 4);
    assert!(store.ban("b", "bob").await.expect("ban").is_some());
    assert_eq!(store.audit("b", None, 10).await.expect("audit").len(), 1);
    // The upgraded database keeps accounts too.
    use chatcore::accounts::{Accounts, Created, NewAccount};
    let accounts = store.accounts().expect("accounts");
    let created = accounts
        .create_account(NewAccount::new("Ann", "hash"), None)
        .await
        .expect("account");
    assert!(matches!(created, Created::Created(_)), "{created:?}");
    let ann = accounts.account("ann").await.expect("a").expect("ann");
    assert_eq!(ann.name, "Ann");
    // A message from before the upgrade takes changes like a new one, and search
    // follows its edit.
    let mut edit = chatcore::testing::fixtures::new_message("b", "ann", "newer words", None);
    edit.kind = chatcore::protocol::MessageKind::Edit;
    edit.target = Some(1);
    store.append(edit).await.expect("edit an old message");
    let find = |text: &str| SearchQuery {
        room: Some("b".into()),
        text: text.into(),
        limit: 10,
    };
    let older = store.search(find("older")).await.expect("search");
    assert!(older.is_empty(), "{older:?}");
    let newer = store.search(find("newer")).await.expect("search");
    let found: Vec<_> = newer.iter().map(|m| (m.seq, m.id.as_str())).collect();
    assert_eq!(found, [(1, "i1")]);
    store.close().await.expect("close");
}

#[test]
fn foreign_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = Connection::open(dir.path().join("t.db")).expect("raw open");
    conn.execute_batch("CREATE TABLE something_else (x INTEGER)")
        .expect("create");
    drop(conn);
    assert!(matches!(open_writer(&config(&dir)), Err(Error::Config(_))));
}
