//! Durability cases: `close` commits queued appends, and data survives close and reopen.

use super::helpers::{append, fill, room};
use crate::protocol::RoomKind;
use crate::store::Role;
use crate::testing::StoreFactory;
use crate::testing::fixtures::{card, new_card, new_message as msg};

/// `close` commits what was queued before it; appends after it fail.
pub async fn close_commits_queued_appends(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Public).await;
    let pending: Vec<_> = (0..200)
        .map(|i| s.append(msg("r", "ann", &format!("{i}"), None)))
        .collect();
    s.close().await.expect("close");
    for (i, p) in pending.into_iter().enumerate() {
        assert_eq!(
            p.await.expect("queued before close").message.seq,
            i as u64 + 1
        );
    }
    assert!(s.append(msg("r", "ann", "late", None)).await.is_err());
    s.close().await.expect("close is idempotent");
    if let Some(again) = f.reopen().await {
        assert_eq!(again.last_seq("r").await.expect("last_seq"), 200);
    }
}

/// Everything acknowledged survives close and reopen, and seq continues without a gap.
pub async fn durable_across_reopen(f: &impl StoreFactory) {
    let s = f.open().await;
    room(&s, "r", RoomKind::Private).await;
    s.add_member("r", "ann", Role::Owner).await.expect("add");
    s.set_read("r", "ann", 2).await.expect("set");
    fill(&s, "r", 3).await;
    let nonced = append(&s, new_card("r", "ann", 3, Some("k"))).await;
    s.close().await.expect("close");
    drop(s);
    let s = f.reopen().await.expect(
        "reopen gave no store: a store that is not durable runs store_contract_tests!(volatile: …)",
    );
    assert_eq!(s.last_seq("r").await.expect("last_seq"), 4);
    let rec = s.room("r").await.expect("room").expect("exists");
    assert_eq!(
        (rec.kind, rec.members, rec.last_seq),
        (RoomKind::Private, 1, 4)
    );
    assert_eq!(s.read_position("r", "ann").await.expect("read"), 2);
    let retry = s
        .append(msg("r", "ann", "keep", Some("k")))
        .await
        .expect("retry");
    assert_eq!(retry.message.data, Some(card(3)), "data survives a restart");
    assert!(retry.duplicate, "nonces survive a restart");
    assert_eq!(retry.message, nonced);
    assert_eq!(append(&s, msg("r", "ann", "next", None)).await.seq, 5);
}
