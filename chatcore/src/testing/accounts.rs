//! The [`Accounts`] contract. Every case takes an [`AccountsFactory`] and panics on a
//! violation.

use crate::accounts::{Accounts, Created, NewAccount, NewInvite, NewRefresh, Rotation, name_key};

use super::AccountsFactory;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
const DAY: i64 = 86_400_000;

async fn create(a: &dyn Accounts, name: &str) {
    match a
        .create_account(NewAccount::new(name, HASH), None)
        .await
        .expect("create")
    {
        Created::Created(r) => assert_eq!(r.name, name),
        other => panic!("creating {name}: {other:?}"),
    }
}

async fn login(a: &dyn Accounts, name: &str, family: &str, token: &str) {
    a.create_session(
        name,
        NewRefresh::new(token, family, crate::now_millis() + DAY),
    )
    .await
    .expect("session");
}

/// An account is stored in its display form and found by any name with the same key.
pub async fn accounts_are_found_by_any_form(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "Ann").await;
    for form in ["Ann", "ann", "ANN", "ａｎｎ", "аnn"] {
        let found = a.account(form).await.expect("account").expect(form);
        assert_eq!(found.name, "Ann", "{form}");
        assert_eq!(found.key, "ann");
        assert_eq!(found.password_hash, HASH);
        assert!(!found.admin);
    }
    assert_eq!(a.account("bob").await.expect("account"), None);
    let odd = "Zoë🦀\u{5b57}";
    create(a.as_ref(), odd).await;
    let found = a.account(odd).await.expect("account").expect("odd");
    assert_eq!((found.name.as_str(), found.key), (odd, name_key(odd)));
}

/// A name whose key is taken is refused in any case or confusable form, and nothing changes.
pub async fn names_are_unique_by_key(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "bob").await;
    for taken in ["BOB", "Bob", "b0b", "b\u{043E}b", "b\u{200B}ob"] {
        let other = NewAccount::new(taken, "other-hash").with_admin(true);
        assert_eq!(
            a.create_account(other, None).await.expect("create"),
            Created::NameTaken,
            "{taken}"
        );
    }
    let kept = a.account("bob").await.expect("account").expect("bob");
    assert_eq!(
        (kept.name.as_str(), kept.password_hash.as_str()),
        ("bob", HASH)
    );
    assert!(!kept.admin);
}

/// Password and admin flag change; unknown accounts answer `false`.
pub async fn password_and_admin_change(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "cy").await;
    assert!(a.set_password("CY", "new-hash").await.expect("set"));
    assert!(a.set_admin("cy", true).await.expect("admin"));
    let cy = a.account("cy").await.expect("account").expect("cy");
    assert_eq!(cy.password_hash, "new-hash");
    assert!(cy.admin);
    assert!(a.set_admin("cy", false).await.expect("admin"));
    assert!(!a.account("cy").await.expect("a").expect("cy").admin);
    assert!(!a.set_password("nobody", "x").await.expect("set"));
    assert!(!a.set_admin("nobody", true).await.expect("admin"));
    assert!(a.account("nobody").await.expect("account").is_none());
    let admin = NewAccount::new("root", HASH).with_admin(true);
    assert!(matches!(
        a.create_account(admin, None).await.expect("create"),
        Created::Created(r) if r.admin
    ));
}

/// An invite is used once; a bad or expired one creates nothing; a taken name keeps the
/// invite unused.
pub async fn invites_are_single_use(f: &impl AccountsFactory) {
    let a = f.open().await;
    let now = crate::now_millis();
    a.create_invite(NewInvite::new("inv-1", "root", now + DAY))
        .await
        .expect("invite");
    a.create_invite(NewInvite::new("inv-old", "root", now - 1))
        .await
        .expect("invite");
    create(a.as_ref(), "taken").await;
    let with = |name: &str| NewAccount::new(name, HASH);
    assert_eq!(
        a.create_account(with("TAKEN"), Some("inv-1"))
            .await
            .expect("c"),
        Created::NameTaken
    );
    assert_eq!(
        a.create_account(with("dee"), Some("nope"))
            .await
            .expect("c"),
        Created::BadInvite
    );
    assert_eq!(
        a.create_account(with("dee"), Some("inv-old"))
            .await
            .expect("c"),
        Created::BadInvite
    );
    assert!(
        a.account("dee").await.expect("a").is_none(),
        "refused: nothing created"
    );
    assert!(matches!(
        a.create_account(with("dee"), Some("inv-1"))
            .await
            .expect("c"),
        Created::Created(_)
    ));
    assert_eq!(
        a.create_account(with("eve"), Some("inv-1"))
            .await
            .expect("c"),
        Created::BadInvite,
        "single use"
    );
    assert!(a.account("eve").await.expect("a").is_none());
}

/// Rotation uses a token up; presenting it again revokes the whole session.
pub async fn refresh_rotation_detects_reuse(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "fay").await;
    login(a.as_ref(), "fay", "fam-1", "t1").await;
    login(a.as_ref(), "fay", "fam-2", "u1").await;
    let now = crate::now_millis();
    let exp = now + DAY;
    let Rotation::Rotated(s) = a.rotate_refresh("t1", "t2", now, exp).await.expect("r") else {
        panic!("t1 is current")
    };
    assert_eq!(
        (s.id.as_str(), s.account.as_str(), s.revoked),
        ("fam-1", "fay", false)
    );
    assert!(matches!(
        a.rotate_refresh("t2", "t3", now, exp).await.expect("r"),
        Rotation::Rotated(_)
    ));
    match a.rotate_refresh("t1", "t9", now, exp).await.expect("r") {
        Rotation::Reused(s) => assert_eq!((s.id.as_str(), s.revoked), ("fam-1", true)),
        other => panic!("replayed t1: {other:?}"),
    }
    assert!(a.session("fam-1").await.expect("s").expect("fam-1").revoked);
    assert_eq!(
        a.rotate_refresh("t3", "t4", now, exp).await.expect("r"),
        Rotation::Expired,
        "the newest token of a revoked session is dead too"
    );
    assert_eq!(
        a.rotate_refresh("t9", "t10", now, exp).await.expect("r"),
        Rotation::Unknown,
        "the token offered with the replay was not stored"
    );
    assert!(!a.session("fam-2").await.expect("s").expect("fam-2").revoked);
    assert_eq!(
        a.rotate_refresh("never", "x", now, exp).await.expect("r"),
        Rotation::Unknown
    );
}

/// An expired refresh token is refused and changes nothing.
pub async fn expired_refresh_is_refused(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "gus").await;
    let now = crate::now_millis();
    a.create_session("gus", NewRefresh::new("old", "fam", now - 1))
        .await
        .expect("session");
    assert_eq!(
        a.rotate_refresh("old", "new", now, now + DAY)
            .await
            .expect("r"),
        Rotation::Expired
    );
    assert_eq!(
        a.rotate_refresh("new", "newer", now, now + DAY)
            .await
            .expect("r"),
        Rotation::Unknown
    );
    assert!(!a.session("fam").await.expect("s").expect("fam").revoked);
    assert!(
        a.create_session("nobody", NewRefresh::new("h", "f", now))
            .await
            .is_err(),
        "no session for an unknown account"
    );
}

/// One session, or every other one, is revoked.
pub async fn sessions_are_revoked(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "hal").await;
    create(a.as_ref(), "ida").await;
    for (fam, tok) in [("h1", "a"), ("h2", "b"), ("h3", "c")] {
        login(a.as_ref(), "hal", fam, tok).await;
    }
    login(a.as_ref(), "ida", "i1", "d").await;
    assert!(a.revoke_session("h1").await.expect("revoke"));
    assert!(
        !a.revoke_session("h1").await.expect("revoke"),
        "already revoked"
    );
    assert!(!a.revoke_session("nope").await.expect("revoke"));
    assert_eq!(
        a.revoke_sessions("HAL", Some("h3")).await.expect("others"),
        1
    );
    let live = |id: &'static str| {
        let a = a.clone();
        async move { !a.session(id).await.expect("s").expect(id).revoked }
    };
    assert!(!live("h2").await);
    assert!(live("h3").await, "the kept session");
    assert!(live("i1").await, "another account's session");
    assert_eq!(a.revoke_sessions("hal", None).await.expect("all"), 1);
    assert!(!live("h3").await);
}

/// Deleting an account deletes its sessions and tokens; the name is free again.
pub async fn deleted_accounts_leave_nothing(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "jo").await;
    login(a.as_ref(), "jo", "j1", "jt").await;
    assert!(a.delete_account("JO").await.expect("delete"));
    assert!(!a.delete_account("jo").await.expect("delete"));
    assert!(a.account("jo").await.expect("a").is_none());
    assert!(a.session("j1").await.expect("s").is_none());
    let now = crate::now_millis();
    assert_eq!(
        a.rotate_refresh("jt", "jt2", now, now + DAY)
            .await
            .expect("r"),
        Rotation::Unknown
    );
    create(a.as_ref(), "jo").await;
    assert!(
        a.session("j1").await.expect("s").is_none(),
        "a new account starts clean"
    );
}

/// Two nodes presenting one refresh token at once: one rotation, and the other is a reuse
/// that revokes the session. Two registrations of one name at once: one account.
pub async fn races_resolve_once(f: &impl AccountsFactory) {
    let a = f.open().await;
    create(a.as_ref(), "kai").await;
    login(a.as_ref(), "kai", "k1", "kt").await;
    let now = crate::now_millis();
    let (x, y) = tokio::join!(
        a.rotate_refresh("kt", "kx", now, now + DAY),
        a.rotate_refresh("kt", "ky", now, now + DAY)
    );
    let mut outcomes = [x.expect("x"), y.expect("y")]
        .map(|r| match r {
            Rotation::Rotated(_) => "rotated",
            Rotation::Reused(_) => "reused",
            Rotation::Expired => "expired",
            Rotation::Unknown => "unknown",
        })
        .to_vec();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["reused", "rotated"]);
    assert!(a.session("k1").await.expect("s").expect("k1").revoked);
    let (x, y) = tokio::join!(
        a.create_account(NewAccount::new("Lou", HASH), None),
        a.create_account(NewAccount::new("LOU", HASH), None)
    );
    let created = [x.expect("x"), y.expect("y")]
        .iter()
        .filter(|c| matches!(c, Created::Created(_)))
        .count();
    assert_eq!(created, 1);
}
