//! `chat-cli`'s exit codes and sign-in end to end, the built binary against a real server:
//! usage errors (2), an unreachable server (3), auth and server errors (4, 5), `token`,
//! and `register` / `login` keeping the session in the config dir.

#![cfg(feature = "cli")]

mod common;

use chatcore::Hub;
use chatcore_testkit::*;
use common::cli::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["--bogus", "rooms"],
        &["send", "general"],
        &["history", "general", "--limit", "zero"],
        &["tail"],
    ] {
        let out = run(cli(args), "").await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty());
    }
    let no_identity = run(cli(&["send", "general", "hi"]), "").await;
    assert_exit(&no_identity, 2);
    assert!(
        stderr(&no_identity).contains("--user"),
        "{}",
        stderr(&no_identity)
    );
    let both = run(
        cli(&["--token", "t", "--user", "u", "send", "general", "hi"]),
        "",
    )
    .await;
    assert_exit(&both, 2);
    let scheme = run(
        cli(&[
            "--server",
            "ftp://example.com",
            "--user",
            "u",
            "send",
            "r",
            "hi",
        ]),
        "",
    )
    .await;
    assert_exit(&scheme, 2);
    let help = run(cli(&["--help"]), "").await;
    assert_exit(&help, 0);
    assert!(stdout(&help).contains("Exit codes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_exits_3() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    for args in [
        &["--server", &url, "--user", "ann", "send", "general", "hi"][..],
        &["--server", &url, "rooms"],
        &["--server", &url, "token", "ann"],
    ] {
        let out = run(cli(args), "").await;
        assert_exit(&out, 3);
        assert!(
            stderr(&out).starts_with("chat-cli: error: cannot connect to"),
            "{}",
            stderr(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_and_server_errors_exit_4_and_5() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(false)), ws_config()).await;
    let url = server.url("");
    let guest = run(
        cli(&["--server", &url, "--user", "ann", "send", "general", "hi"]),
        "",
    )
    .await;
    assert_exit(&guest, 4);
    assert!(
        stderr(&guest).contains("unauthorized"),
        "{}",
        stderr(&guest)
    );
    let refused = run(cli(&["--server", &url, "token", "ann"]), "").await;
    assert_exit(&refused, 4);
    let bad_token = run(cli(&["--server", &url, "--token", "nope", "rooms"]), "").await;
    assert_exit(&bad_token, 4);

    let dana = token("dana");
    let ok = run(
        cli(&["--server", &url, "--token", &dana, "send", "general", "hi"]),
        "",
    )
    .await;
    assert_exit(&ok, 0);
    let missing = run(
        cli(&[
            "--server",
            &url,
            "--token",
            &dana,
            "history",
            "no-such-room",
        ]),
        "",
    )
    .await;
    assert_exit(&missing, 5);
    assert!(
        stderr(&missing).contains("unknown_room"),
        "{}",
        stderr(&missing)
    );
    let missing = run(cli(&["--server", &url, "history", "no-such-room"]), "").await;
    assert_exit(&missing, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_then_send_with_it() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(true)), ws_config()).await;
    let url = server.url("");
    let issued = run(cli(&["--server", &url, "token", "erin"]), "").await;
    assert_exit(&issued, 0);
    let token = stdout(&issued).trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let mut cmd = cli(&["send", "general", "signed"]);
    cmd.env("CHATCORE_SERVER", &url)
        .env("CHATCORE_TOKEN", &token)
        .env("CHATCORE_USER", "ignored");
    let sent = run(cmd, "").await;
    assert_exit(&sent, 0);
    let stored = server.stored("general").await;
    assert_eq!(
        (stored[0].sender.as_str(), stored[0].text.as_str()),
        ("erin", "signed")
    );
    let json = run(cli(&["--server", &url, "--json", "token", "erin"]), "").await;
    assert_eq!(json_lines(&json)[0]["user"], "erin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_and_login_keep_the_session_in_the_config_dir() {
    let accounts = std::sync::Arc::new(chatcore::accounts::MemoryAccounts::new());
    let server = account_server(accounts.clone(), accounts_config(accounts), false).await;
    let url = server.url("");
    let config = tempfile::tempdir().expect("tmp");
    let with_config = |args: &[&str]| {
        let mut cmd = cli(args);
        cmd.env("XDG_CONFIG_HOME", config.path());
        cmd
    };
    let registered = run(
        with_config(&["--server", &url, "register", "Ann"]),
        "s3cret pw\n",
    )
    .await;
    assert_exit(&registered, 0);
    let file = config.path().join("chatcore").join("session.json");
    assert_eq!(
        stdout(&registered),
        format!("signed in as Ann; session saved to {}\n", file.display())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("session file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // Later commands against that server use the session.
    let sent = run(
        with_config(&["--server", &url, "send", "general", "hi"]),
        "",
    )
    .await;
    assert_exit(&sent, 0);
    assert_eq!(server.stored("general").await[0].sender, "Ann");

    let wrong = run(with_config(&["--server", &url, "login", "ann"]), "wrong\n").await;
    assert_exit(&wrong, 4);
    assert!(
        stderr(&wrong).contains("wrong user name or password"),
        "{}",
        stderr(&wrong)
    );
    let empty = run(with_config(&["--server", &url, "login", "ann"]), "\n").await;
    assert_exit(&empty, 2);
    let taken = run(with_config(&["--server", &url, "register", "ANN"]), "pw\n").await;
    assert_exit(&taken, 5);
    assert!(
        stderr(&taken).contains("name_taken") || stderr(&taken).contains("taken"),
        "{}",
        stderr(&taken)
    );
    let login = run(
        with_config(&["--server", &url, "--json", "login", "ann"]),
        "s3cret pw\n",
    )
    .await;
    assert_exit(&login, 0);
    let line = &json_lines(&login)[0];
    assert_eq!(
        (line["user"].as_str(), line["admin"].as_bool()),
        (Some("Ann"), Some(false))
    );
    assert_eq!(line["expires_in"], 900);
    assert!(
        line.get("access_token").is_none(),
        "tokens stay in the file: {line}"
    );
}
