//! Opening a store: the schema is created and migrated once however many nodes start, old
//! schemas are upgraded in place, newer ones refused, and an unreachable server is one clear
//! line.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL` (except `unreachable_server_is_one_clear_line`).

#[macro_use]
mod common;

use chatcore::Error;
use chatcore::store::{HistoryQuery, SearchQuery, Store};
use chatcore_store_postgres::{PostgresConfig, PostgresStore, SCHEMA_VERSION};
use chatcore_testkit::fixtures::{card, new_card, new_message as msg};
use common::{PgFactory, room};

/// A fresh schema is created at the current version; reopening changes nothing; a newer
/// version is refused; nodes starting at once migrate once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_versioned() {
    let f = factory!();
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let config = f.config();
            tokio::spawn(async move { PostgresStore::connect(config).await })
        })
        .collect();
    for o in opens {
        o.await.expect("task").expect("concurrent open");
    }
    let raw = f.raw().await;
    let version: i64 = raw
        .query_one("SELECT version FROM chatcore_schema", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    let store = f.store().await;
    assert_eq!(store.schema(), f.schema);
    store.ping().await.expect("ping");
    let count: i64 = raw
        .query_one("SELECT count(*) FROM chatcore_schema", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 1);

    raw.execute(
        "UPDATE chatcore_schema SET version = $1",
        &[&(SCHEMA_VERSION + 1)],
    )
    .await
    .expect("bump");
    let err = PostgresStore::connect(f.config())
        .await
        .expect_err("newer schema");
    match err {
        Error::SchemaTooNew { found, supported } => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// A version-1 schema (nonce index on `(sender, nonce)`, before issues #12 and #13) is
/// upgraded in place: every stored message comes back intact, the index leads with the
/// nonce afterwards, and stored nonces still answer with their original.
#[tokio::test]
async fn version_1_schemas_are_upgraded() {
    let f = factory!();
    let store = f.store().await;
    room(&store, "r").await;
    let original = store
        .append(msg("r", "ann", "first", Some("n-1")))
        .await
        .expect("append");
    for text in [
        "second",
        "ünïcode 🎉",
        "quote ' and \" and \\",
        "nul \0 inside",
    ] {
        store
            .append(msg("r", "bob", text, None))
            .await
            .expect("append");
    }
    let before = store
        .history("r", HistoryQuery::latest(100))
        .await
        .expect("history");
    assert_eq!(before.messages.len(), 5);
    store.close().await.expect("close");
    let raw = f.raw().await;
    raw.batch_execute(
        "ALTER TABLE rooms DROP COLUMN description, DROP COLUMN deleted;
         DROP TABLE room_bans, room_mutes, room_invites, room_audit, user_blocks;
         DROP TABLE reactions;
         DROP INDEX messages_by_reply;
         DROP INDEX messages_by_target;
         ALTER TABLE messages DROP COLUMN edited_ts, DROP COLUMN deleted_by,
             DROP COLUMN deleted_ts;
         ALTER TABLE messages DROP COLUMN target, DROP COLUMN moderation, DROP COLUMN mentions;
         DROP TABLE refresh_tokens;
         DROP TABLE account_sessions;
         DROP TABLE accounts;
         DROP TABLE invites;
         ALTER TABLE messages DROP COLUMN data;
         DROP TABLE stream_cursors;
         DROP TABLE stream_leases;
         DROP TABLE message_search;
         DROP TABLE search_progress;
         CREATE INDEX messages_search ON messages USING GIN (search);
         DROP INDEX messages_nonce_sender;
         CREATE UNIQUE INDEX messages_sender_nonce ON messages (sender, nonce)
             WHERE nonce IS NOT NULL;
         UPDATE chatcore_schema SET version = 1;",
    )
    .await
    .expect("back to version 1");

    let store = f.store().await;
    let version: i64 = raw
        .query_one("SELECT version FROM chatcore_schema", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    let after = store
        .history("r", HistoryQuery::latest(100))
        .await
        .expect("history");
    assert_eq!(after.messages, before.messages, "every message intact");
    let room = store.room("r").await.expect("room").expect("r");
    assert_eq!((room.last_seq, room.description), (5, None));
    // The upgraded schema keeps accounts too.
    use chatcore::accounts::{Accounts, Created, NewAccount};
    let created = store
        .create_account(NewAccount::new("Ann", "hash"), None)
        .await
        .expect("account");
    assert!(matches!(created, Created::Created(_)), "{created:?}");
    let ann = store.account("ann").await.expect("a").expect("ann");
    assert_eq!(ann.name, "Ann");
    let indexes: Vec<String> = raw
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname LIKE 'messages_%nonce%'",
            &[],
        )
        .await
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(indexes.len(), 1, "{indexes:?}");
    assert!(
        indexes[0].contains("messages_nonce_sender") && indexes[0].contains("(nonce, sender)"),
        "{indexes:?}"
    );
    let found = store
        .search(SearchQuery {
            room: None,
            text: "first".into(),
            limit: 10,
        })
        .await
        .expect("search");
    assert_eq!(
        found,
        std::slice::from_ref(&original.message),
        "old messages stay searchable"
    );
    let retry = store
        .append(msg("r", "ann", "first again", Some("n-1")))
        .await
        .expect("retry");
    assert!(retry.duplicate);
    assert_eq!(retry.message, original.message);
    assert_eq!(retry.message.data, None, "old messages have no data");
    let next = store
        .append(new_card("r", "ann", 2, Some("n-2")))
        .await
        .expect("append");
    assert_eq!(next.message.seq, 6);
    let page = store
        .history("r", HistoryQuery::latest(10))
        .await
        .expect("history");
    let data: Vec<_> = page.messages.iter().map(|m| m.data.clone()).collect();
    assert_eq!(data[5], Some(card(2)), "new messages keep their data");
    assert!(
        data[..5].iter().all(Option::is_none),
        "old messages have no data"
    );
    // A message from before the upgrade takes changes like a new one.
    let mut edit = msg("r", "ann", "first edited", None);
    edit.kind = chatcore::protocol::MessageKind::Edit;
    edit.target = Some(1);
    store.append(edit).await.expect("edit an old message");
    let mut react = msg("r", "bob", "👍", None);
    react.kind = chatcore::protocol::MessageKind::React;
    react.target = Some(1);
    store.append(react).await.expect("react to an old message");
    let page = store
        .history_current("r", HistoryQuery::after(0, 1), Some("bob"))
        .await
        .expect("current page");
    let old = &page.messages[0];
    assert_eq!(
        (old.text.as_str(), old.id.as_str()),
        ("first edited", original.message.id.as_str())
    );
    assert_eq!(old.reactions.len(), 1);
    assert!(old.reactions[0].me);
    // And takes moderation events after the messages it kept, with their audit rows.
    use chatcore::store::RoomAuthority;
    let ban = chatcore::testing::moderation::event(
        "r",
        "ann",
        chatcore::protocol::MessageKind::Ban,
        chatcore::protocol::Moderation::on("bob"),
    );
    let head = store.last_seq("r").await.expect("last_seq");
    assert_eq!(
        store.moderate(ban).await.expect("ban").message.seq,
        head + 1
    );
    assert_eq!(store.audit("r", None, 10).await.expect("audit").len(), 1);
}

/// Opening against a server that is not there fails with one line that says what to do.
#[tokio::test]
async fn unreachable_server_is_one_clear_line() {
    let config = PostgresConfig::new("postgres://chat:secret@127.0.0.1:1/chat");
    let err = PostgresStore::connect(config)
        .await
        .expect_err("nothing listens on port 1");
    let text = err.to_string();
    eprintln!("{text}");
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(
        text.contains("cannot reach PostgreSQL at 127.0.0.1:1/chat"),
        "{text}"
    );
    assert!(
        text.contains("is it running? check the --store URL"),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    assert!(!text.contains("secret"), "never print the password: {text}");
    let bad = PostgresStore::connect(PostgresConfig::new("postgres://[::1")).await;
    assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
}
