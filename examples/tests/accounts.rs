//! Accounts in the real `chat-server` binary: the first admin made with `chat-server admin
//! create` (password on stdin), invite-only registration, the admin role in the token, and
//! `admin revoke` taking it away.

use std::process::Stdio;

use chatcore_testkit::{ChatServerProcess, HttpResponse, http};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

const BIN: &str = env!("CARGO_BIN_EXE_chat-server");
/// Cheap hashing for tests (the default is 19 MiB, 2 passes).
const COST: [&str; 2] = ["--argon2-memory-kib=8192", "--argon2-iterations=1"];

/// `chat-server --store STORE admin ARGS…` with `stdin`; its exit success and stdout+stderr.
async fn admin(store: &str, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = tokio::process::Command::new(BIN)
        .args(["--store", store])
        .args(COST)
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chat-server admin");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("write");
    drop(input);
    let out = child.wait_with_output().await.expect("wait");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text.trim().to_owned())
}

async fn post(
    server: &ChatServerProcess,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> HttpResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    http(server.addr, "POST", path, &headers, Some(&body.to_string())).await
}

#[tokio::test]
async fn the_first_admin_comes_from_the_command_line_and_issues_invites() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = format!("sqlite://{}", dir.path().join("chat.db").display());
    let (ok, out) = admin(&store, &["create", "root"], "root password\n").await;
    assert!(ok, "{out}");
    assert_eq!(out, "created the admin account root");

    let mut command = tokio::process::Command::new(BIN);
    command
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log",
            "warn",
            "--store",
            &store,
        ])
        .args(COST)
        .args(["--registration", "invite"])
        .env_remove("CHATCORE_JWT_SECRET")
        .env_remove("CHATCORE_ALLOW_GUESTS")
        .env_remove("CHATCORE_BUS")
        .stderr(Stdio::inherit());
    let server = ChatServerProcess::spawn(command)
        .await
        .expect("chat-server");

    // Nobody becomes admin by registering first: registration needs an invite.
    let r = post(
        &server,
        "/api/register",
        None,
        json!({"user": "eve", "password": "pw"}),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    let r = post(
        &server,
        "/api/login",
        None,
        json!({"user": "ROOT", "password": "root password"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let root = r.json();
    assert_eq!(root["admin"], true);
    let token = root["access_token"].as_str().expect("token").to_owned();
    let r = post(&server, "/api/invites", Some(&token), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let invite = r.json()["invite"].as_str().expect("invite").to_owned();
    let r = post(
        &server,
        "/api/register",
        None,
        json!({"user": "ned", "password": "pw", "invite": invite}),
    )
    .await;
    assert_eq!((r.status, r.json()["admin"].clone()), (201, json!(false)));

    // `admin grant` while the server runs: the next login carries the role.
    let (ok, out) = admin(&store, &["grant", "Ned"], "").await;
    assert!(ok, "{out}");
    assert_eq!(out, "Ned is now a server admin (1 session(s) signed out)");
    let r = post(
        &server,
        "/api/login",
        None,
        json!({"user": "ned", "password": "pw"}),
    )
    .await;
    assert_eq!(r.json()["admin"], true);
    let (ok, out) = admin(&store, &["revoke", "root"], "").await;
    assert!(ok, "{out}");
    // root's session is signed out: its token no longer issues invites.
    let r = post(&server, "/api/invites", Some(&token), json!({})).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    let (ok, out) = admin(&store, &["grant", "nobody"], "").await;
    assert!(!ok);
    assert!(out.contains("there is no account \"nobody\""), "{out}");
    server.terminate().await.expect("stops");
}
