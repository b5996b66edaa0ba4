//! Accounts over real sockets, sessions and tokens: refresh rotation and reuse detection,
//! logout, password change, account deletion (each revoking tokens and closing sockets with
//! 4403), and an embedder's own tokens still working with accounts on.

mod accounts_common;

use accounts_common::{connect, handshake_refused, refresh, s, server, server_with};
use chatcore::accounts::Accounts;
use chatcore_testkit::*;
use serde_json::json;

#[tokio::test]
async fn a_refresh_token_replayed_after_rotation_revokes_the_whole_session() {
    let (server, _) = server().await;
    register(&server, "dee", "pw").await;
    let first = login(&server, "dee", "pw").await;
    let mut live = connect(&server, &s(&first, "access_token")).await;
    let r = refresh(&server, &s(&first, "refresh_token")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.json();
    assert_ne!(s(&second, "refresh_token"), s(&first, "refresh_token"));
    assert_eq!(s(&second, "user"), "dee");
    // The thief (or a confused client) presents the used token again.
    let r = refresh(&server, &s(&first, "refresh_token")).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    assert!(r.body.contains("used already"), "{}", r.body);
    assert_eq!(
        live.close_code().await,
        Some(4403),
        "the session's socket is closed"
    );
    let r = refresh(&server, &s(&second, "refresh_token")).await;
    assert_eq!(r.status, 401, "the newest token of the family is dead too");
    let query = format!("?token={}", s(&second, "access_token"));
    assert_eq!(
        handshake_refused(&server, &query).await,
        (401, "unauthorized".into())
    );
    let r = refresh(&server, "made-up").await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    // Another login of the same account is untouched.
    let other = login(&server, "dee", "pw").await;
    assert_eq!(
        refresh(&server, &s(&other, "refresh_token")).await.status,
        200
    );
}

#[tokio::test]
async fn an_access_token_stops_working_at_logout() {
    let (server, _) = server().await;
    register(&server, "eve", "pw").await;
    let a = login(&server, "eve", "pw").await;
    let b = login(&server, "eve", "pw").await;
    let access = s(&a, "access_token");
    let mut socket_a = connect(&server, &access).await;
    let mut socket_b = connect(&server, &s(&b, "access_token")).await;
    let r = post_json(server.addr, "/api/logout", Some(&access), &json!({})).await;
    assert_eq!((r.status, r.json()), (200, json!({"revoked": 1})));
    assert_eq!(socket_a.close_code().await, Some(4403));
    let query = format!("?token={access}");
    assert_eq!(
        handshake_refused(&server, &query).await,
        (401, "unauthorized".into())
    );
    assert_eq!(get_as(server.addr, "/api/rooms", &access).await.status, 401);
    assert_eq!(refresh(&server, &s(&a, "refresh_token")).await.status, 401);
    let r = post_json(server.addr, "/api/logout", Some(&access), &json!({})).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    // The other login still works, until it signs everything out.
    socket_b.join("r").await;
    let r = post_json(
        server.addr,
        "/api/logout",
        Some(&s(&b, "access_token")),
        &json!({"all": true}),
    )
    .await;
    // b, and the session the registration started.
    assert_eq!((r.status, r.json()), (200, json!({"revoked": 2})));
    assert_eq!(socket_b.close_code().await, Some(4403));
}

#[tokio::test]
async fn a_password_change_signs_out_every_other_session() {
    let (server, _) = server_with(|c| c.with_login_limits(100, 100).expect("limits")).await;
    register(&server, "fay", "old pw").await;
    let here = login(&server, "fay", "old pw").await;
    let there = login(&server, "fay", "old pw").await;
    let mut socket_here = connect(&server, &s(&here, "access_token")).await;
    let mut socket_there = connect(&server, &s(&there, "access_token")).await;
    let token = s(&here, "access_token");
    let r = post_json(
        server.addr,
        "/api/password",
        Some(&token),
        &json!({"password": "not it", "new_password": "new pw"}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = post_json(
        server.addr,
        "/api/password",
        Some(&token),
        &json!({"password": "old pw", "new_password": ""}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"));
    let r = post_json(
        server.addr,
        "/api/password",
        Some(&token),
        &json!({"password": "old pw", "new_password": "new pw"}),
    )
    .await;
    // `there`, and the session the registration started.
    assert_eq!((r.status, r.json()), (200, json!({"revoked": 2})));
    assert_eq!(socket_there.close_code().await, Some(4403));
    socket_here.join("still-here").await;
    assert_eq!(
        refresh(&server, &s(&there, "refresh_token")).await.status,
        401
    );
    assert_eq!(
        refresh(&server, &s(&here, "refresh_token")).await.status,
        200
    );
    let r = post_json(
        server.addr,
        "/api/login",
        None,
        &json!({"user": "fay", "password": "old pw"}),
    )
    .await;
    assert_eq!(r.status, 401);
    login(&server, "fay", "new pw").await;
}

#[tokio::test]
async fn a_deleted_users_token_is_refused() {
    let (server, accounts) = server().await;
    register(&server, "ida", "pw").await;
    let t = login(&server, "ida", "pw").await;
    assert!(accounts.delete_account("ida").await.expect("delete"));
    let query = format!("?token={}", s(&t, "access_token"));
    assert_eq!(
        handshake_refused(&server, &query).await,
        (401, "unauthorized".into())
    );
    assert_eq!(refresh(&server, &s(&t, "refresh_token")).await.status, 401);
    // Re-registered, the name is a new account: the old tokens stay dead.
    assert_eq!(register(&server, "ida", "pw2").await.status, 201);
    assert_eq!(
        handshake_refused(&server, &query).await,
        (401, "unauthorized".into())
    );
}

#[tokio::test]
async fn an_account_deleted_over_rest_is_signed_out_everywhere() {
    let (server, accounts) = server().await;
    register(&server, "una", "pw").await;
    let t = login(&server, "una", "pw").await;
    let access = s(&t, "access_token");
    let mut live = connect(&server, &access).await;
    let auth = format!("Bearer {access}");
    let headers = [("authorization", auth.as_str())];
    let wrong = json!({"password": "nope"}).to_string();
    let r = http(
        server.addr,
        "DELETE",
        "/api/account",
        &headers,
        Some(&wrong),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    assert!(
        accounts.account("una").await.expect("a").is_some(),
        "refused: nothing deleted"
    );
    let right = json!({"password": "pw"}).to_string();
    let r = http(
        server.addr,
        "DELETE",
        "/api/account",
        &headers,
        Some(&right),
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!({"deleted": true})));
    assert_eq!(live.close_code().await, Some(4403));
    let query = format!("?token={access}");
    assert_eq!(
        handshake_refused(&server, &query).await,
        (401, "unauthorized".into())
    );
    assert!(accounts.account("una").await.expect("a").is_none());
}

#[tokio::test]
async fn an_embedders_own_tokens_keep_working_with_accounts_on() {
    let (server, _) = server().await;
    let mut own = Probe::with_token(&server, "mo").await;
    own.join("r").await;
    assert_eq!(own.say("r", "mine").await, 1);
    // Without accounts the account routes are not there.
    let plain = TestServer::start().await;
    let r = register(&plain, "mo", "pw").await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
}
