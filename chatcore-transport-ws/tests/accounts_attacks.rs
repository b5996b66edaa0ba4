//! Accounts over real sockets, the attacks of issue #12, each with its exact answer: password
//! guessing (same answer and time for unknown users), login and registration throttling,
//! oversized or bad passwords refused before hashing, and forged, expired or `alg: none`
//! tokens.

mod accounts_common;

use std::time::{Duration, Instant};

use accounts_common::{handshake_refused, s, server, server_with};
use chatcore::accounts::Accounts;
use chatcore_testkit::*;
use serde_json::{Value, json};

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
