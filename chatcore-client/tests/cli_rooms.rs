//! `chat-cli`'s room commands end to end against a real server: a private room's life
//! (create, invite, mute, kick, ban, delete), reading and search, and bad input that never
//! reaches the server.

#![cfg(feature = "cli")]

mod common;

use chatcore_testkit::TestServer;
use common::cli::*;

/// `chat-cli --server URL --user USER --json ARGS…`, run to completion.
async fn as_user(url: &str, user: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--server", url, "--user", user, "--json"];
    all.extend_from_slice(args);
    run(cli(&all), "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_room_from_creation_to_deletion() {
    let server = TestServer::start().await;
    let url = server.url("");
    let created = as_user(
        &url,
        "ann",
        &["create-room", "team", "--private", "--topic", "Plans"],
    )
    .await;
    assert_exit(&created, 0);
    let room = &json_lines(&created)[0];
    assert_eq!(
        (room["name"].as_str(), room["kind"].as_str()),
        (Some("team"), Some("private"))
    );
    assert_eq!(room["topic"], "Plans");

    // Not invited: refused as forbidden (exit 4), and the room is not listed.
    let outsider = as_user(&url, "bob", &["send", "team", "hi"]).await;
    assert_exit(&outsider, 4);
    assert!(
        stderr(&outsider).contains("team is invite-only"),
        "{}",
        stderr(&outsider)
    );
    let rooms = as_user(&url, "bob", &["rooms"]).await;
    assert!(json_lines(&rooms).iter().all(|r| r["name"] != "team"));

    assert_exit(&as_user(&url, "ann", &["invite", "team", "bob"]).await, 0);
    assert_exit(&as_user(&url, "bob", &["send", "team", "hello"]).await, 0);
    let members = as_user(&url, "ann", &["members", "team"]).await;
    let roles: Vec<(String, String)> = json_lines(&members)
        .iter()
        .map(|m| {
            (
                m["user"].as_str().unwrap_or("").into(),
                m["role"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("ann".into(), "owner".into()),
            ("bob".into(), "member".into())
        ]
    );

    // A plain member cannot act; a muted one cannot send, and hears for how long.
    let uppity = as_user(&url, "bob", &["kick", "team", "ann"]).await;
    assert_exit(&uppity, 4);
    assert_exit(
        &as_user(
            &url,
            "ann",
            &["mute", "team", "bob", "--for", "10m", "--reason", "noisy"],
        )
        .await,
        0,
    );
    let muted = as_user(&url, "bob", &["send", "team", "still here?"]).await;
    assert_exit(&muted, 4);
    assert!(
        stderr(&muted).contains("muted in team"),
        "{}",
        stderr(&muted)
    );
    assert_exit(&as_user(&url, "ann", &["unmute", "team", "bob"]).await, 0);
    assert_exit(
        &as_user(&url, "ann", &["kick", "team", "bob", "--reason", "spam"]).await,
        0,
    );
    assert_exit(
        &as_user(&url, "ann", &["ban", "team", "bob", "--for", "1h"]).await,
        0,
    );
    let banned = as_user(&url, "bob", &["send", "team", "let me in"]).await;
    assert_exit(&banned, 4);
    assert!(
        stderr(&banned).contains("banned from team"),
        "{}",
        stderr(&banned)
    );

    // Everything above is in the room's history as readable events.
    let history = as_user(&url, "ann", &["history", "team"]).await;
    let texts: Vec<String> = json_lines(&history)
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").into())
        .collect();
    for line in [
        "ann invited bob",
        "hello",
        "ann muted bob for 600 s: noisy",
        "ann unmuted bob",
        "ann kicked bob: spam",
    ] {
        assert!(texts.iter().any(|t| t == line), "{line:?} in {texts:?}");
    }
    assert!(
        texts.iter().any(|t| t.starts_with("ann banned bob")),
        "{texts:?}"
    );

    // Roles need a member; then the room goes, and its name answers unknown_room.
    let nobody = as_user(&url, "ann", &["role", "team", "carl", "moderator"]).await;
    assert_exit(&nobody, 5);
    let deleted = as_user(&url, "ann", &["delete-room", "team"]).await;
    assert_exit(&deleted, 0);
    assert_eq!(json_lines(&deleted)[0]["deleted"], true);
    let gone = as_user(&url, "ann", &["history", "team"]).await;
    assert_exit(&gone, 5);
    assert!(stderr(&gone).contains("unknown_room"), "{}", stderr(&gone));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_search_and_users() {
    let server = TestServer::start().await;
    let url = server.url("");
    for text in ["the launch plan is ready", "lunch later?"] {
        assert_exit(&as_user(&url, "ann", &["send", "general", text]).await, 0);
    }
    let found = as_user(&url, "bob", &["search", "launch"]).await;
    assert_exit(&found, 0);
    let lines = json_lines(&found);
    assert_eq!(lines.len(), 2, "one hit and the cursor line: {lines:?}");
    assert_eq!(lines[0]["message"]["text"], "the launch plan is ready");
    assert_eq!(lines[0]["highlights"], serde_json::json!([[4, 10]]));
    assert_eq!(lines[1]["next"], serde_json::Value::Null);
    let human = run(
        cli(&["--server", &url, "--user", "bob", "search", "launch"]),
        "",
    )
    .await;
    assert_exit(&human, 0);
    assert_eq!(
        stdout(&human),
        "general #1 ann: the [launch] plan is ready\n"
    );
    let nothing = as_user(&url, "bob", &["search", "launch", "--room", "elsewhere"]).await;
    assert!(
        json_lines(&nothing)
            .iter()
            .all(|l| l.get("message").is_none())
    );

    // Read positions never pass the newest message and never move back.
    let read = as_user(&url, "bob", &["read", "general", "999"]).await;
    assert_exit(&read, 0);
    assert_eq!(
        json_lines(&read)[0],
        serde_json::json!({"room": "general", "seq": 2})
    );
    let back = as_user(&url, "bob", &["read", "general", "1"]).await;
    assert_eq!(json_lines(&back)[0]["seq"], 2);

    let users = as_user(&url, "bob", &["users", "an"]).await;
    assert_exit(&users, 0);
    assert_eq!(json_lines(&users)[0], serde_json::json!(["ann"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_room_commands_are_usage_errors_and_send_nothing() {
    let server = TestServer::start().await;
    let url = server.url("");
    assert_exit(
        &as_user(&url, "ann", &["send", "general", "only this"]).await,
        0,
    );
    for args in [
        &["role", "general", "bob", "emperor"][..],
        &["ban", "general", "bob", "--for", "10y"],
        &["ban", "general", "bob", "--for", "0s"],
        &["mute", "general", "bob", "--for", "soon"],
        &["kick", "general"],
        &["invite"],
        &["search", "launch", "--limit", "0"],
        &["search"],
        &["read", "general", "-3"],
        &["topic", "general"],
    ] {
        let out = as_user(&url, "ann", args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let history = as_user(&url, "ann", &["history", "general"]).await;
    assert_eq!(json_lines(&history).len(), 1, "nothing reached the server");
}
