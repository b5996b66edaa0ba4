//! Accounts over real sockets: registration, login, refresh rotation, logout, password
//! change, invites, brute-force limits, and the attacks of issue #12, each with its exact
//! answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatcore::accounts::{Accounts, MemoryAccounts, NewAccount};
use chatcore::protocol::Codec;
use chatcore_testkit::*;
use chatcore_transport_ws::{AccountsConfig, Registration};
use serde_json::{Value, json};

/// A server with open registration over fresh in-memory accounts.
async fn server() -> (TestServer, Arc<MemoryAccounts>) {
    server_with(|c| c).await
}

async fn server_with(
    configure: impl FnOnce(AccountsConfig) -> AccountsConfig,
) -> (TestServer, Arc<MemoryAccounts>) {
    let accounts = Arc::new(MemoryAccounts::new());
    let config = configure(accounts_config(accounts.clone()));
    (
        account_server(accounts.clone(), config, true).await,
        accounts,
    )
}

fn s(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
        .to_owned()
}

/// A socket with `token`.
async fn connect(server: &TestServer, token: &str) -> Probe {
    Probe::open(server, &format!("?token={token}"), Codec::Json, false).await
}

/// The status and error code of a handshake with `query`.
async fn handshake_refused(server: &TestServer, query: &str) -> (u16, String) {
    let (status, body) = refusal(open(&server.ws_url(query), None, &[]).await);
    let code = serde_json::from_str::<Value>(&body).expect("json")["error"]["code"]
        .as_str()
        .expect("code")
        .to_owned();
    (status, code)
}

async fn refresh(server: &TestServer, token: &str) -> HttpResponse {
    post_json(
        server.addr,
        "/api/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}

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
async fn wrong_password_and_unknown_user_get_the_same_answer_in_similar_time() {
    // The default cost, so that argon2, not scheduling noise, is most of each answer's time.
    let (server, _) = server_with(|c| {
        c.with_login_limits(1000, 1000)
            .and_then(|c| c.with_argon2(19 * 1024, 2, 1))
            .expect("settings")
    })
    .await;
    assert_eq!(register(&server, "bob", "right password").await.status, 201);
    let attempt = |user: &'static str| {
        let addr = server.addr;
        async move {
            let body = json!({"user": user, "password": "wrong password"});
            let started = Instant::now();
            let r = post_json(addr, "/api/login", None, &body).await;
            (r, started.elapsed())
        }
    };
    let (mut wrong, mut unknown) = (Duration::MAX, Duration::MAX);
    for _ in 0..7 {
        let (a, ta) = attempt("bob").await;
        let (b, tb) = attempt("nobody").await;
        assert_eq!((a.status, a.error_code().as_str()), (401, "unauthorized"));
        assert_eq!(a.body, b.body, "no user enumeration by the answer");
        assert_eq!(b.header("www-authenticate"), a.header("www-authenticate"));
        wrong = wrong.min(ta);
        unknown = unknown.min(tb);
    }
    assert_eq!(
        post_json(
            server.addr,
            "/api/login",
            None,
            &json!({"user": "bob", "password": "wrong password"})
        )
        .await
        .json()["error"]["message"],
        "wrong user name or password"
    );
    // An unknown user's login runs argon2 on a decoy hash: not measurably quicker.
    assert!(
        unknown * 2 > wrong && wrong * 2 > unknown,
        "wrong password {wrong:?}, unknown user {unknown:?}"
    );
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
async fn bad_passwords_and_names_are_refused_before_hashing() {
    let (server, accounts) = server().await;
    let started = Instant::now();
    let huge = "x".repeat(1 << 20);
    let r = register(&server, "cy", &huge).await;
    assert_eq!(
        r.status, 413,
        "a 1 MB password stops at the body limit: {}",
        r.body
    );
    let r = post_json(
        server.addr,
        "/api/login",
        None,
        &json!({"user": "cy", "password": huge}),
    )
    .await;
    assert_eq!(r.status, 413);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let r = register(&server, "cy", &"y".repeat(1025)).await;
    assert_eq!((r.status, r.error_code().as_str()), (413, "too_large"));
    let r = register(&server, "cy", "").await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"));
    assert_eq!(r.json()["error"]["message"], "password: must not be empty");
    let r = register(&server, "c y", "fine").await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"));
    let r = post_json(server.addr, "/api/register", None, &json!({"user": "cy"})).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    // Registrations count against the login limits (each costs a hash): 5 a minute per name.
    for _ in 0..5 {
        assert_eq!(
            register(&server, "taken-by-nobody", "").await.status,
            400,
            "not counted"
        );
    }
    assert!(
        accounts.account("cy").await.expect("a").is_none(),
        "nothing was created"
    );
    assert_eq!(register(&server, "cy", &"z".repeat(1024)).await.status, 201);
}

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
async fn forged_expired_and_alg_none_tokens_are_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let (server, _) = server().await;
    register(&server, "gus", "pw").await;
    let real = login(&server, "gus", "pw").await;
    let parts: Vec<_> = s(&real, "access_token")
        .split('.')
        .map(str::to_owned)
        .collect();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[1])
            .expect("b64"),
    )
    .expect("claims");
    assert_eq!(claims["sub"], "gus");
    assert!(claims["sid"].is_string(), "{claims}");
    let now = chatcore::now_millis() / 1000;
    // alg: none, with the real claims.
    let none = format!("{}.{}.", b64url(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    // The real claims, made admin, signed with another secret.
    let mut admin = claims.clone();
    admin["admin"] = json!(true);
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &admin,
        &EncodingKey::from_secret(b"not-the-server-secret-not-the-se"),
    )
    .expect("encode");
    // The real claims, expired a minute ago, with the right secret.
    let mut old = claims.clone();
    old["exp"] = json!(now - 60);
    let expired = encode(
        &Header::new(Algorithm::HS256),
        &old,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("encode");
    // A live session's id under another user's name.
    let mut stolen = claims.clone();
    stolen["sub"] = json!("hal");
    let other_user = encode(
        &Header::new(Algorithm::HS256),
        &stolen,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("encode");
    for (what, token) in [
        ("alg none", none),
        ("forged", forged),
        ("expired", expired),
        ("sid of another user", other_user),
    ] {
        let query = format!("?token={token}");
        assert_eq!(
            handshake_refused(&server, &query).await,
            (401, "unauthorized".into()),
            "{what}"
        );
        let r = post_json(server.addr, "/api/invites", Some(&token), &json!({})).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (401, "unauthorized"),
            "{what}"
        );
    }
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
async fn a_thousand_logins_from_one_ip_are_throttled_and_others_still_get_in() {
    let (server, _) = server().await;
    register(&server, "jo", "pw").await;
    register(&server, "kim", "pw").await;
    let body = json!({"user": "jo", "password": "guess"}).to_string();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    let mut retry_after = None;
    for _ in 0..1000 {
        let r = http(server.addr, "POST", "/api/login", &[], Some(&body)).await;
        *statuses.entry(r.status).or_default() += 1;
        if r.status == 429 && retry_after.is_none() {
            assert_eq!(r.error_code(), "rate_limited");
            let secs = r.json()["error"]["retry_after"]
                .as_u64()
                .expect("retry_after");
            assert!((1..=60).contains(&secs), "{secs}");
            assert_eq!(r.header("retry-after"), Some(secs.to_string().as_str()));
            retry_after = Some(secs);
        }
    }
    // The account allows 5 a minute: the rest are throttled, never checked.
    assert_eq!(statuses, [(401, 5), (429, 995)].into_iter().collect());
    // The server still serves others: another IP signs in to another account.
    let from = Some([127, 0, 0, 2].into());
    let kim = json!({"user": "kim", "password": "pw"}).to_string();
    let r = try_http_from(from, server.addr, "POST", "/api/login", &[], Some(&kim))
        .await
        .expect("answer");
    assert_eq!(r.status, 200, "{}", r.body);
    // This IP has spent its 10 a minute on 2 registrations, 5 checked and 3 throttled
    // attempts.
    let r = http(server.addr, "POST", "/api/login", &[], Some(&kim)).await;
    assert_eq!((r.status, r.error_code().as_str()), (429, "rate_limited"));
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

#[tokio::test]
async fn registrations_are_limited_like_logins() {
    let (server, accounts) = server().await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        statuses.push(register(&server, &format!("bot{i}"), "pw").await.status);
    }
    // 10 a minute from one IP: the rest are throttled before any hashing, and create nothing.
    assert_eq!(statuses, [[201; 10].as_slice(), &[429, 429]].concat());
    assert!(accounts.account("bot10").await.expect("a").is_none());
    let r = register(&server, "bot11", "pw").await;
    assert_eq!((r.status, r.error_code().as_str()), (429, "rate_limited"));
}
