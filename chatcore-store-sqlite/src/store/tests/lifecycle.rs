//! Closing, dropping and reopening the store, and its auto traits.

use chatcore::Error;
use chatcore::store::{Role, Store};
use rusqlite::Connection;

use super::{Fixture, msg, room};
use crate::SqliteStore;

#[tokio::test]
async fn close_stops_writes_but_not_reads() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    f.store.append(msg("r", "kept")).await.expect("append");
    f.store.close().await.expect("close");
    assert!(matches!(
        f.store.append(msg("r", "late")).await,
        Err(Error::Closed)
    ));
    assert!(matches!(
        f.store.add_member("r", "bob", Role::Member).await,
        Err(Error::Closed)
    ));
    assert_eq!(f.store.last_seq("r").await.expect("read after close"), 1);
    f.store.ping().await.expect("ping");
    f.store.close().await.expect("idempotent");
}

#[tokio::test]
async fn dropping_the_store_commits_and_stops_its_threads() {
    let f = Fixture::new();
    room(&f.store, "r").await;
    let pending: Vec<_> = (0..50)
        .map(|i| f.store.append(msg("r", &i.to_string())))
        .collect();
    let Fixture { dir, store, .. } = f;
    drop(store); // joins the writer after it committed the 50 queued appends
    for p in pending {
        p.await.expect("committed before the thread stopped");
    }
    let again = SqliteStore::open(dir.path().join("t.db")).expect("reopen");
    assert_eq!(again.last_seq("r").await.expect("last_seq"), 50);
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let f = Fixture::new();
    let path = f.path();
    drop(f.store);
    let conn = Connection::open(&path).expect("raw");
    conn.pragma_update(None, "user_version", crate::SCHEMA_VERSION + 5)
        .expect("bump");
    drop(conn);
    let err = SqliteStore::open(&path).expect_err("too new");
    assert!(
        matches!(err, Error::SchemaTooNew { found, .. } if found == crate::SCHEMA_VERSION + 5),
        "{err:?}"
    );
}

#[test]
fn store_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<SqliteStore>();
}
