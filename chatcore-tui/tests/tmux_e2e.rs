//! End to end: the real `chat-tui` in tmux against a real `chat-server`, with `chat-cli` as
//! the other user. Skipped (with a message) when tmux is missing, unless
//! `CHATCORE_REQUIRE_SERVICES=1`, which turns that into a failure.

mod support;

use support::*;

#[test]
fn chat_in_tmux_join_send_receive_theme_quit() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, cli_bin) = helper_binaries();
    let server = Server::start(&server_bin, None);
    let scratch = scratch_dir("chat");
    let tmux = Tmux::new(tmux_bin, "chat");
    start_tui(&tmux, &server.url, "ann", &scratch);

    tmux.wait_text("● connected as ann");
    tmux.type_text(":join general");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the room in the list and the title", |p| {
        p.contains("│ #general") && p.contains("┌ #general")
    });

    tmux.keys(&["i"]);
    tmux.type_text("hello from the tui");
    tmux.keys(&["Enter", "Escape"]);
    tmux.wait_for("the own message, acknowledged", |p| {
        p.contains(" ann hello from the tui") && !p.contains("(sending)")
    });
    let history = cli(&cli_bin, &server.url, &["history", "general"]);
    assert!(history.contains("hello from the tui"), "stored: {history}");

    cli(
        &cli_bin,
        &server.url,
        &["send", "general", "hi ann, from the cli"],
    );
    let pane = tmux.wait_text(" bob hi ann, from the cli");
    assert!(pane.contains("NORMAL"), "{pane}");

    tmux.type_text(":theme light");
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_text("light · ? help");
    println!("--- chat-tui at 120x40 ---\n{pane}");

    tmux.keys(&["?"]);
    tmux.wait_text("Keys (normal mode)");
    tmux.keys(&["Escape"]);
    tmux.wait_for("help closed", |p| !p.contains("Keys (normal mode)"));

    tmux.type_text(":quit");
    tmux.keys(&["Enter"]);
    assert_restored(&wait_exit(&tmux), "0");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn reconnect_keeps_the_draft_and_shows_the_state() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, _) = helper_binaries();
    let mut server = Server::start(&server_bin, None);
    let scratch = scratch_dir("reconnect");
    let tmux = Tmux::new(tmux_bin, "reconnect");
    start_tui(&tmux, &server.url, "cy", &scratch);

    tmux.wait_text("● connected as cy");
    tmux.type_text(":join lobby");
    tmux.keys(&["Enter"]);
    tmux.wait_text("┌ #lobby");
    tmux.keys(&["i"]);
    tmux.type_text("half-typed draft");
    tmux.wait_text("half-typed draft");

    server.stop();
    tmux.wait_text("reconnecting (attempt");
    let pane = tmux.capture();
    assert!(
        pane.contains("half-typed draft"),
        "the draft survives: {pane}"
    );

    let port = server.port;
    let _server = Server::start(&server_bin, Some(port));
    let pane = tmux.wait_text("● connected as cy");
    assert!(pane.contains("half-typed draft"), "{pane}");
    assert!(pane.contains("┌ #lobby"), "{pane}");

    tmux.keys(&["C-q"]);
    assert_restored(&wait_exit(&tmux), "0");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn a_panic_restores_the_terminal_and_prints_the_message() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, _) = helper_binaries();
    let server = Server::start(&server_bin, None);
    let scratch = scratch_dir("panic");
    let tmux = Tmux::new(tmux_bin, "panic");
    start_tui_with(
        &tmux,
        &server.url,
        "dee",
        &scratch,
        "RUST_BACKTRACE=0 CHATCORE_TUI_TEST_PANIC=1",
    );
    let pane = wait_exit(&tmux);
    assert_restored(&pane, "101");
    assert!(
        pane.contains("test panic"),
        "the panic message is readable: {pane}"
    );
    let _ = std::fs::remove_dir_all(scratch);
}
