//! The [`Store`](crate::store::Store) contract of the host's event stream: room heads,
//! consumer-group leases with fencing tokens, and committed cursors. Every case takes a
//! [`StoreFactory`] and panics on a violation.

use std::time::Duration;

use super::StoreFactory;
use super::fixtures::{create_room, new_message as msg};
use crate::Error;
use crate::protocol::RoomKind;

/// Short enough to wait out in a test, long enough for a slow CI store round trip.
const TTL: Duration = Duration::from_millis(600);

/// `heads` lists every room (public, private, direct alike) with its newest seq.
pub async fn heads_list_every_room(f: &impl StoreFactory) {
    let s = f.open().await;
    assert_eq!(s.heads().await.expect("heads"), []);
    create_room(s.as_ref(), "b", RoomKind::Private).await;
    create_room(s.as_ref(), "a", RoomKind::Public).await;
    for _ in 0..3 {
        s.append(msg("b", "ann", "hi", None)).await.expect("append");
    }
    assert_eq!(
        s.heads().await.expect("heads"),
        [("a".to_owned(), 0), ("b".to_owned(), 3)]
    );
}

/// One holder at a time; renewals keep the token; a lapsed lease is taken with a larger
/// token; groups are independent.
pub async fn leases_have_one_holder_and_fencing_tokens(f: &impl StoreFactory) {
    let s = f.open().await;
    let t1 = s
        .acquire_lease("g", "node-a", TTL)
        .await
        .expect("lease")
        .expect("free lease is granted");
    assert_eq!(
        s.acquire_lease("g", "node-b", TTL).await.expect("lease"),
        None
    );
    assert_eq!(
        s.acquire_lease("g", "node-a", TTL).await.expect("renew"),
        Some(t1),
        "a renewal keeps the token"
    );
    assert!(
        s.acquire_lease("other", "node-b", TTL)
            .await
            .expect("lease")
            .is_some(),
        "groups are independent"
    );
    tokio::time::sleep(TTL + Duration::from_millis(200)).await;
    let t2 = s
        .acquire_lease("g", "node-b", TTL)
        .await
        .expect("lease")
        .expect("a lapsed lease is taken");
    assert!(t2 > t1, "a take-over moves the token: {t1} → {t2}");
    assert_eq!(
        s.acquire_lease("g", "node-a", TTL).await.expect("lease"),
        None
    );
}

/// Cursors move forward only, are kept per group and room, and a consumer that lost its
/// lease cannot commit; bad cursors change nothing.
pub async fn cursors_are_fenced_and_move_forward(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "r", RoomKind::Public).await;
    create_room(s.as_ref(), "q", RoomKind::Public).await;
    for _ in 0..5 {
        s.append(msg("r", "ann", "hi", None)).await.expect("append");
    }
    s.append(msg("q", "ann", "hi", None)).await.expect("append");
    assert_eq!(s.cursors("g").await.expect("cursors"), []);
    let token = s
        .acquire_lease("g", "a", TTL)
        .await
        .expect("lease")
        .expect("granted");
    s.commit_cursor("g", token, "r", 3).await.expect("commit");
    s.commit_cursor("g", token, "r", 2)
        .await
        .expect("older is ignored");
    s.commit_cursor("g", token, "q", 1).await.expect("commit");
    assert_eq!(
        s.cursors("g").await.expect("cursors"),
        [("q".to_owned(), 1), ("r".to_owned(), 3)]
    );
    assert!(matches!(
        s.commit_cursor("g", token, "r", 6).await,
        Err(Error::BadCursor(_))
    ));
    assert!(matches!(
        s.commit_cursor("g", token, "nowhere", 1).await,
        Err(Error::UnknownRoom(_))
    ));
    assert!(matches!(
        s.commit_cursor("g", token + 1, "r", 4).await,
        Err(Error::LeaseLost(_))
    ));
    assert!(matches!(
        s.commit_cursor("h", token, "r", 4).await,
        Err(Error::LeaseLost(_))
    ));
    assert_eq!(
        s.cursors("g").await.expect("cursors"),
        [("q".to_owned(), 1), ("r".to_owned(), 3)],
        "refused commits changed nothing"
    );
    assert_eq!(s.cursors("h").await.expect("cursors"), []);
}

/// Cursors and the lease's token survive a reopen (a host restart).
pub async fn cursors_survive_reopen(f: &impl StoreFactory) {
    let s = f.open().await;
    create_room(s.as_ref(), "r", RoomKind::Public).await;
    for _ in 0..4 {
        s.append(msg("r", "ann", "hi", None)).await.expect("append");
    }
    let token = s
        .acquire_lease("g", "a", TTL)
        .await
        .expect("lease")
        .expect("granted");
    s.commit_cursor("g", token, "r", 4).await.expect("commit");
    s.close().await.expect("close");
    drop(s);
    let Some(s) = f.reopen().await else {
        return;
    };
    assert_eq!(
        s.cursors("g").await.expect("cursors"),
        [("r".to_owned(), 4)]
    );
    assert_eq!(
        s.acquire_lease("g", "a", TTL).await.expect("lease"),
        Some(token),
        "the holder that restarts within its lease keeps its token"
    );
}
