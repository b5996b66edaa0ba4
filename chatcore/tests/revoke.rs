//! Signing an account out closes its live sockets on every node of a fleet, each revocation
//! exactly the sockets it names, with close code 4403 (`CloseReason::Revoked`).

use chatcore::accounts::{FAMILY_CLAIM, Revoked, name_key};
use chatcore::auth::Identity;
use chatcore::protocol::Codec;
use chatcore::{CloseReason, Hub};
use chatcore_testkit::{Fleet, SessionProbe};

/// A socket of `user`, of account session `session` (`None`: a guest's).
async fn socket(hub: &Hub, user: &str, session: Option<&str>) -> SessionProbe {
    let mut claims = serde_json::Map::new();
    if let Some(s) = session {
        claims.insert(FAMILY_CLAIM.into(), s.into());
    }
    SessionProbe::connect_as(hub, Identity::new(user).with_claims(claims), Codec::Json).await
}

#[tokio::test]
async fn a_revocation_on_one_node_closes_exactly_its_sockets_on_the_others() {
    let (_store, a, b) = Fleet::pair().await;
    let mut kept = socket(&b, "Ann", Some("s1")).await;
    let mut other = socket(&b, "ann", Some("s2")).await;
    let mut guest = socket(&b, "ANN", None).await;
    let bob = socket(&b, "bob", Some("s2")).await;
    let key = name_key("ann");

    // A password change made in session s1 signs out every other session, on every node.
    assert_eq!(a.revoke(&key, Revoked::AllBut("s1".into())), 0, "none on a");
    assert_eq!(other.closed().await, CloseReason::Revoked);
    // The name is registered: the guest using it goes too.
    a.revoke(&key, Revoked::Guests);
    assert_eq!(guest.closed().await, CloseReason::Revoked);
    // The session that changed the password, and another user's, are untouched.
    assert_eq!(kept.session.close_reason(), None);
    assert_eq!(bob.session.close_reason(), None);
    // Logging out of s1 ends it.
    a.revoke(&key, Revoked::Session("s1".into()));
    assert_eq!(kept.closed().await, CloseReason::Revoked);
    assert_eq!(bob.session.close_reason(), None);
}
