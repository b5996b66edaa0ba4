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
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, cli_bin) = helper_binaries();
    let scratch = scratch_dir("resume");
    let store = format!("sqlite://{}", scratch.join("chat.db").display());
    let mut server = Server::with_store(&server_bin, None, &store);
    let tmux = Tmux::new(tmux_bin, "resume");
    start_tui(&tmux, &server.url, "eve", &scratch);

    tmux.wait_text("● connected as eve");
    tmux.type_text(":join lobby");
    tmux.keys(&["Enter"]);
    tmux.wait_text("┌ #lobby");
    cli(
        &cli_bin,
        &server.url,
        &["send", "lobby", "before the restart"],
    );
    tmux.wait_text(" bob before the restart");

    server.stop();
    tmux.wait_text("reconnecting (attempt");
    tmux.keys(&["i"]);
    tmux.type_text("sent while away");
    tmux.keys(&["Enter", "Escape"]);
    tmux.wait_text("sent while away (sending)");

    let away = Server::with_store(&server_bin, None, &store);
    for text in MISSED {
        cli(&cli_bin, &away.url, &["send", "lobby", text]);
    }
    drop(away);
    let back = Server::with_store(&server_bin, Some(server.port), &store);

    let pane = tmux.wait_for("the missed messages and the own one, acknowledged", |p| {
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
    let history = cli(&cli_bin, &back.url, &["history", "lobby"]);
    assert_eq!(history.matches(own).count(), 1, "stored once: {history}");

    tmux.keys(&["C-q"]);
    assert_restored(&wait_exit(&tmux), "0");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn nick_and_server_move_the_rooms_to_the_new_connection() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, cli_bin) = helper_binaries();
    let first = Server::start(&server_bin, None);
    let second = Server::start(&server_bin, None);
    let scratch = scratch_dir("retarget");
    let tmux = Tmux::new(tmux_bin, "retarget");
    start_tui(&tmux, &first.url, "fay", &scratch);

    tmux.wait_text("● connected as fay");
    tmux.type_text(":join lobby");
    tmux.keys(&["Enter"]);
    tmux.wait_text("┌ #lobby");
    cli(&cli_bin, &first.url, &["send", "lobby", "to fay"]);
    tmux.wait_text(" bob to fay");

    tmux.type_text(":nick gus");
    tmux.keys(&["Enter"]);
    tmux.wait_text("● connected as gus");
    cli(&cli_bin, &first.url, &["send", "lobby", "to gus"]);
    let pane = tmux.wait_text(" bob to gus");
    assert_eq!(pane.matches(" bob to fay").count(), 1, "shown once: {pane}");

    cli(&cli_bin, &second.url, &["send", "lobby", "elsewhere"]);
    tmux.type_text(&format!(":server {}", second.url));
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("the room joined on the second server", |p| {
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

    tmux.keys(&["C-q"]);
    assert_restored(&wait_exit(&tmux), "0");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn started_before_its_server_it_connects_and_joins_the_configured_rooms() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, cli_bin) = helper_binaries();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let scratch = scratch_dir("early");
    std::fs::write(scratch.join("tui.toml"), "rooms = [\"lobby\"]\n").expect("config file");
    let tmux = Tmux::new(tmux_bin, "early");
    start_tui(&tmux, &format!("http://127.0.0.1:{port}"), "ivy", &scratch);
    tmux.wait_text("reconnecting (attempt 2)");

    let server = Server::start(&server_bin, Some(port));
    tmux.wait_for("connected, in the configured room", |p| {
        p.contains("● connected as ivy") && p.contains("┌ #lobby")
    });
    cli(&cli_bin, &server.url, &["send", "lobby", "welcome ivy"]);
    tmux.wait_text(" bob welcome ivy");

    tmux.keys(&["C-q"]);
    assert_restored(&wait_exit(&tmux), "0");
    let _ = std::fs::remove_dir_all(scratch);
}
