//! An append resolves only after its transaction committed: while another transaction holds
//! the room's row, the append neither resolves nor shows; once it resolves, a separate
//! connection sees the message.

mod common;

use std::time::Duration;

use chatcore::protocol::RoomKind;
use chatcore::store::Store;
use chatcore_testkit::fixtures::{create_room, new_message as msg};
use common::PgFactory;

/// Whether another connection sees a message whose body is `text` (committed).
async fn committed(raw: &tokio_postgres::Client, text: &str) -> bool {
    let rows = raw
        .query("SELECT 1 FROM messages WHERE body = $1", &[&text])
        .await
        .expect("select");
    !rows.is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_resolves_only_after_its_commit() {
    let Some(f) = PgFactory::new().await else {
        return;
    };
    let store = f.store().await;
    create_room(&store, "r", RoomKind::Public).await;
    let raw = f.raw().await;
    // The store sets no synchronous_commit of its own: its sessions run with the server's,
    // read back here. `on` is what makes a commit, and so an ack, survive a crash of the
    // server.
    let sync: String = raw
        .query_one("SHOW synchronous_commit", &[])
        .await
        .expect("show")
        .get(0);
    assert_eq!(
        sync, "on",
        "acks would not be durable against a server crash"
    );

    // Hold the room's row: the append's transaction cannot update the room's last seq, so
    // it cannot commit, and must not resolve.
    let mut locker = f.raw().await;
    let tx = locker.transaction().await.expect("begin");
    tx.query(
        "SELECT 1 FROM rooms WHERE name = $1 FOR UPDATE",
        &[&b"r".as_slice()],
    )
    .await
    .expect("lock");
    let mut pending = store.append(msg("r", "ann", "held", None));
    let early = tokio::time::timeout(Duration::from_millis(300), &mut pending).await;
    assert!(
        early.is_err(),
        "resolved while its commit was blocked: {early:?}"
    );
    assert!(!committed(&raw, "held").await, "visible before its commit");
    tx.rollback().await.expect("release");
    let appended = tokio::time::timeout(Duration::from_secs(10), pending)
        .await
        .expect("resolves once the row is free")
        .expect("append");
    assert_eq!(appended.message.seq, 1);
    assert!(committed(&raw, "held").await);

    for i in 0..50 {
        let text = format!("m{i}");
        let appended = store
            .append(msg("r", "ann", &text, None))
            .await
            .expect("append");
        assert!(
            committed(&raw, &text).await,
            "seq {} resolved before its commit",
            appended.message.seq
        );
    }
    store.close().await.expect("close");
}
