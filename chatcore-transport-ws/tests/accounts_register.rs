//! Accounts over real sockets, registration and names: register and chat under the display
//! name, taken names in another case or look-alike spelling, guests kept off registered
//! names, and the registration policies (closed, invite-only) with invites.

mod accounts_common;

use accounts_common::{connect, handshake_refused, s, server, server_with};
use chatcore::accounts::{Accounts, NewAccount};
use chatcore_testkit::*;
use chatcore_transport_ws::Registration;
use serde_json::json;

#[tokio::test]
async fn register_login_and_chat_under_the_display_name() {
    let (server, _) = server().await;
    let r = register(&server, "Ann", "correct horse").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let body = r.json();
    assert_eq!(
        (s(&body, "user").as_str(), body["admin"].as_bool()),
        ("Ann", Some(false))
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900, "access tokens live 15 minutes");
    assert_eq!(body["refresh_expires_in"], 30 * 24 * 3600);
    let tokens = login(&server, "ann", "correct horse").await;
    assert_eq!(
        s(&tokens, "user"),
        "Ann",
        "any case logs in; the display form is kept"
    );
    let mut ann = connect(&server, &s(&tokens, "access_token")).await;
    ann.join("general").await;
    assert_eq!(ann.say("general", "hi").await, 1);
    assert_eq!(server.stored("general").await[0].sender, "Ann");
}

#[tokio::test]
async fn taken_names_in_another_case_or_with_look_alikes_are_refused() {
    let (server, accounts) = server().await;
    assert_eq!(register(&server, "Bob", "pw-1").await.status, 201);
    for name in [
        "bob",
        "BOB",
        "B0b",
        "\u{0412}ob",
        "b\u{043E}b",
        "ｂｏｂ",
        "bo\u{200B}b",
    ] {
        let r = register(&server, name, "pw-2").await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (409, "name_taken"),
            "{name}"
        );
    }
    let kept = accounts.account("bob").await.expect("a").expect("bob");
    assert_eq!(kept.name, "Bob");
    let r = post_json(
        server.addr,
        "/api/login",
        None,
        &json!({"user": "bob", "password": "pw-2"}),
    )
    .await;
    assert_eq!(r.status, 401, "the refused registrations changed nothing");
}

#[tokio::test]
async fn guests_never_take_a_registered_name() {
    let (server, _) = server().await;
    let mut early = Probe::guest(&server, "lee").await;
    assert_eq!(register(&server, "Lee", "pw").await.status, 201);
    assert_eq!(
        early.close_code().await,
        Some(4403),
        "the guest using the name is signed out"
    );
    for name in ["Lee", "lee", "LEE", "1ee"] {
        let query = format!("?user={name}");
        assert_eq!(
            handshake_refused(&server, &query).await,
            (401, "unauthorized".into()),
            "{name}"
        );
    }
    // A guest token for the name is refused too.
    let r = post_json(server.addr, "/api/token", None, &json!({"user": "lee"})).await;
    let query = format!("?token={}", s(&r.json(), "token"));
    assert_eq!(
        handshake_refused(&server, &query).await,
        (401, "unauthorized".into())
    );
    // Other names stay free for guests.
    still_serves(&server).await;
}

#[tokio::test]
async fn registration_policies_and_invites() {
    let (closed, _) = server_with(|c| c.with_registration(Registration::Closed)).await;
    let r = register(&closed, "ned", "pw").await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));

    let (server, accounts) = server_with(|c| c.with_registration(Registration::Invite)).await;
    let r = register(&server, "ned", "pw").await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    assert!(r.body.contains("invite"), "{}", r.body);
    // The first admin comes from the command line (`chat-server admin create`, which
    // hashes the same way), never from a registration.
    let config = accounts_config(accounts.clone());
    let hash = config.hash_password("admin pw").expect("hash");
    let admin = NewAccount::new("root", hash).with_admin(true);
    accounts.create_account(admin, None).await.expect("admin");
    let root = login(&server, "root", "admin pw").await;
    assert_eq!(root["admin"], true);
    let r = post_json(
        server.addr,
        "/api/invites",
        Some(&s(&root, "access_token")),
        &json!({}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let code = s(&r.json(), "invite");
    let with = |user: &str, invite: &str| json!({"user": user, "password": "pw", "invite": invite});
    let r = post_json(server.addr, "/api/register", None, &with("ned", "wrong")).await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = post_json(server.addr, "/api/register", None, &with("ned", &code)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post_json(server.addr, "/api/register", None, &with("ole", &code)).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "forbidden"),
        "single use"
    );
    // Only admins issue invites.
    let ned = login(&server, "ned", "pw").await;
    let r = post_json(
        server.addr,
        "/api/invites",
        Some(&s(&ned, "access_token")),
        &json!({}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
}
