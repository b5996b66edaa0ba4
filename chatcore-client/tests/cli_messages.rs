//! `chat-cli`'s message commands end to end, the built binary against a real server:
//! send, history, rooms, tail (also into a closed pipe), edit, react, delete and thread.

#![cfg(feature = "cli")]

mod common;

use std::process::Stdio;

use chatcore_client::Client;
use chatcore_testkit::*;
use common::cli::*;
use common::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_then_history_and_rooms() {
    let server = TestServer::start().await;
    let url = server.url("");
    let sent = run(
        cli(&[
            "--server", &url, "--user", "ann", "send", "general", "hello", "world",
        ]),
        "",
    )
    .await;
    assert_exit(&sent, 0);
    assert_eq!(stdout(&sent), "sent #1 to general\n");

    // Anonymous: over REST.
    let history = run(cli(&["--server", &url, "history", "general", "--json"]), "").await;
    assert_exit(&history, 0);
    let lines = json_lines(&history);
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0]["seq"].as_u64(), lines[0]["sender"].as_str()),
        (Some(1), Some("ann"))
    );
    assert_eq!(lines[0]["text"], "hello world");

    // Standard input: one message per non-blank line; JSON acks.
    let piped = run(
        cli(&[
            "--server", &url, "--user", "ann", "--json", "send", "general", "-",
        ]),
        "one\n\n  \ntwo\n",
    )
    .await;
    assert_exit(&piped, 0);
    let acks = json_lines(&piped);
    assert_eq!(
        acks.iter().map(|a| a["seq"].as_u64()).collect::<Vec<_>>(),
        [Some(2), Some(3)]
    );

    // With an identity: over the WebSocket, and the environment twins work.
    let mut env_cmd = cli(&["history", "general", "--before", "3", "--limit", "1"]);
    env_cmd
        .env("CHATCORE_SERVER", &url)
        .env("CHATCORE_USER", "bob")
        .env("CHATCORE_JSON", "true");
    let page = run(env_cmd, "").await;
    assert_exit(&page, 0);
    let lines = json_lines(&page);
    assert_eq!((lines.len(), lines[0]["text"].as_str()), (1, Some("one")));

    let plain = run(cli(&["--server", &url, "history", "general"]), "").await;
    assert_exit(&plain, 0);
    let text = stdout(&plain);
    assert!(
        text.lines()
            .nth(2)
            .is_some_and(|l| l.ends_with("#3 <ann> two")),
        "{text}"
    );

    let rooms = run(cli(&["--server", &url, "--json", "rooms"]), "").await;
    assert_exit(&rooms, 0);
    let rooms = json_lines(&rooms);
    assert_eq!(
        (rooms[0]["name"].as_str(), rooms[0]["last_seq"].as_u64()),
        (Some("general"), Some(3))
    );
    let rooms = run(
        cli(&[
            "--server", &url, "--user", "ann", "--codec", "msgpack", "rooms",
        ]),
        "",
    )
    .await;
    assert_exit(&rooms, 0);
    assert!(
        stdout(&rooms).starts_with("general (public)"),
        "{}",
        stdout(&rooms)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_messages_from_another_client() {
    let server = TestServer::start().await;
    let (ann, _events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("ann");
    ann.join("general").await.expect("join");
    for text in ["old 1", "old 2", "old 3"] {
        ann.send("general", text).await.expect("send");
    }
    let mut cmd = cli(&[
        "--server",
        &server.url(""),
        "--user",
        "bob",
        "tail",
        "general",
        "--since",
        "1",
        "--json",
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn tail");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = async || -> serde_json::Value {
        let line = within(lines.next_line())
            .await
            .expect("read")
            .expect("a line");
        serde_json::from_str(&line).expect("JSON")
    };
    assert_eq!(next().await["text"], "old 2");
    assert_eq!(next().await["text"], "old 3");
    server.wait_online("general", "bob").await;
    ann.send("general", "live one").await.expect("send");
    let live = next().await;
    assert_eq!(
        (live["seq"].as_u64(), live["text"].as_str()),
        (Some(4), Some("live one"))
    );
    child.kill().await.expect("kill tail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_into_head_exits_after_one_message() {
    let server = TestServer::start().await;
    let line = format!(
        "'{BIN}' --server {} --user carol tail general --json | head -n 1",
        server.url("")
    );
    let mut sh = Command::new("sh");
    sh.args(["-c", &line]).kill_on_drop(true);
    sh.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = sh.spawn().expect("spawn sh");
    server.wait_online("general", "carol").await;
    let (ann, _events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("ann");
    ann.join("general").await.expect("join");
    ann.send("general", "only this").await.expect("send");
    // The pipeline ends without another message: tail notices head is gone.
    let out = within(child.wait_with_output()).await.expect("pipeline");
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["text"], "only this");
    assert!(
        stderr(&out).is_empty(),
        "quiet on a closed pipe: {}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_react_delete_and_thread_with_json() {
    let server = TestServer::start().await;
    let url = server.url("");
    let as_user = |user: &'static str, args: &[&str]| {
        let mut all = vec!["--server", url.as_str(), "--user", user, "--json"];
        all.extend_from_slice(args);
        cli(&all)
    };
    for text in ["first", "second"] {
        assert_exit(
            &run(as_user("ann", &["send", "general", text]), "").await,
            0,
        );
    }
    let edited = run(
        as_user("ann", &["edit", "general", "1", "first,", "edited"]),
        "",
    )
    .await;
    assert_exit(&edited, 0);
    assert_eq!(json_lines(&edited)[0]["seq"], 3);
    let reacted = run(as_user("bob", &["react", "general", "1", "👍"]), "").await;
    assert_exit(&reacted, 0);
    assert_eq!(json_lines(&reacted)[0]["seq"], 4);
    let again = run(as_user("bob", &["react", "general", "1", "👍"]), "").await;
    assert_ne!(
        again.status.code(),
        Some(0),
        "a repeated reaction is refused"
    );
    assert!(
        stderr(&again).contains("already reacted"),
        "{}",
        stderr(&again)
    );
    let not_hers = run(as_user("bob", &["delete", "general", "2"]), "").await;
    assert!(
        stderr(&not_hers).contains("forbidden"),
        "{}",
        stderr(&not_hers)
    );
    assert_exit(
        &run(as_user("ann", &["delete", "general", "2"]), "").await,
        0,
    );
    assert_exit(
        &run(
            as_user("bob", &["react", "general", "1", "👍", "--remove"]),
            "",
        )
        .await,
        0,
    );
    let history = run(as_user("bob", &["history", "general"]), "").await;
    let messages = json_lines(&history);
    assert_eq!(messages[0]["text"], "first, edited");
    assert!(messages[0]["edited_ts"].is_i64());
    assert!(
        messages[0].get("reactions").is_none(),
        "the reaction was taken back"
    );
    assert_eq!(messages[1]["text"], "");
    assert_eq!(messages[1]["deleted"]["by"], "ann");
    let thread = run(as_user("bob", &["thread", "general", "1"]), "").await;
    assert_exit(&thread, 0);
    assert!(stdout(&thread).is_empty(), "no replies yet");
}
