//! End to end: the real `chat-tui` in tmux against real `chat-server`s, with `chat-cli` as
//! `bob`, when the connection is replaced under it.
//!
//! - The server restarts on the same SQLite file; meanwhile `bob` talks through another
//!   server on that file and the user sends a message of their own. Once back, the TUI shows
//!   every message it missed exactly once and in order, and its own message is stored once.
//! - `/nick` reconnects as another name and resumes the rooms; `:server` moves to another
//!   server and joins them there afresh.
//! - Started before its server, it keeps trying, then joins the configured rooms.
//!
//! Skipped like `tmux_e2e.rs` when tmux is missing.

mod support;

use support::*;

/// What `bob` says while the TUI is away.
const MISSED: [&str; 3] = ["missed one", "missed two", "missed three"];

#[test]
fn after_a_server_restart_the_tui_resumes_and_shows_what_it_missed_once() {
    let Some(scene) = Scene::new("resume") else {
        return;
    };
    let store = format!("sqlite://{}", scene.scratch.join("chat.db").display());
    let mut server = Server::with_store(&scene.server_bin, None, &store);
    scene.start_tui(&server.url, "eve");
    scene.tmux.wait_text("● connected as eve");
    scene.tmux.join("lobby");
    scene.cli(&server, &["send", "lobby", "before the restart"]);
    scene.tmux.wait_text(" bob before the restart");

    server.stop();
    scene.tmux.wait_text("reconnecting (attempt");
    scene.tmux.keys(&["i"]);
    scene.tmux.type_text("sent while away");
    scene.tmux.keys(&["Enter", "Escape"]);
    scene.tmux.wait_text("sent while away (sending)");

    let away = Server::with_store(&scene.server_bin, None, &store);
    for text in MISSED {
        scene.cli(&away, &["send", "lobby", text]);
    }
    drop(away);
    let back = Server::with_store(&scene.server_bin, Some(server.port), &store);

    let pane = scene
        .tmux
        .wait_for("the missed messages and the own one, acknowledged", |p| {
            p.contains("● connected as eve")
                && p.contains(" eve sent while away")
                && !p.contains("(sending)")
                && MISSED.iter().all(|m| p.contains(m))
        });
    let mut at = 0;
    let own = "sent while away";
    for text in ["before the restart", MISSED[0], MISSED[1], MISSED[2], own] {
        assert_eq!(pane.matches(text).count(), 1, "{text:?} once: {pane}");
        let found = pane.find(text).unwrap_or_default();
        assert!(found >= at, "{text:?} in order: {pane}");
        at = found;
    }
    let history = scene.cli(&back, &["history", "lobby"]);
    assert_eq!(history.matches(own).count(), 1, "stored once: {history}");
    scene.tmux.quit();
}

#[test]
fn nick_and_server_move_the_rooms_to_the_new_connection() {
    let Some(scene) = Scene::new("retarget") else {
        return;
    };
    let first = Server::start(&scene.server_bin, None);
    let second = Server::start(&scene.server_bin, None);
    scene.start_tui(&first.url, "fay");
    scene.tmux.wait_text("● connected as fay");
    scene.tmux.join("lobby");
    scene.cli(&first, &["send", "lobby", "to fay"]);
    scene.tmux.wait_text(" bob to fay");

    scene.tmux.type_text(":nick gus");
    scene.tmux.keys(&["Enter"]);
    scene.tmux.wait_text("● connected as gus");
    scene.cli(&first, &["send", "lobby", "to gus"]);
    let pane = scene.tmux.wait_text(" bob to gus");
    assert_eq!(pane.matches(" bob to fay").count(), 1, "shown once: {pane}");

    scene.cli(&second, &["send", "lobby", "elsewhere"]);
    scene.tmux.type_text(&format!(":server {}", second.url));
    scene.tmux.keys(&["Enter"]);
    let pane = scene
        .tmux
        .wait_for("the room joined on the second server", |p| {
            p.contains("● connected as gus") && p.contains(" bob elsewhere")
        });
    assert!(
        pane.contains(&second.url),
        "the status shows the server: {pane}"
    );
    assert!(
        !pane.contains("to gus"),
        "the first server's messages are gone: {pane}"
    );
    scene.tmux.quit();
}

#[test]
fn started_before_its_server_it_connects_and_joins_the_configured_rooms() {
    let Some(scene) = Scene::new("early") else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = "rooms = [\"lobby\"]\n";
    std::fs::write(scene.scratch.join("tui.toml"), config).expect("config file");
    scene.start_tui(&format!("http://127.0.0.1:{port}"), "ivy");
    scene.tmux.wait_text("reconnecting (attempt 2)");

    let server = Server::start(&scene.server_bin, Some(port));
    scene
        .tmux
        .wait_for("connected, in the configured room", |p| {
            p.contains("● connected as ivy") && p.contains("┌ #lobby")
        });
    scene.cli(&server, &["send", "lobby", "welcome ivy"]);
    scene.tmux.wait_text(" bob welcome ivy");
    scene.tmux.quit();
}
