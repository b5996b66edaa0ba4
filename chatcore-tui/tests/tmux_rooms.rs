//! End to end: the real `chat-tui` in tmux against a real `chat-server`, with a Rust client
//! as the other user: accounts and moderation (issue #12), message changes, threads and
//! search (issue #13), all by keys, asserting what the screen shows and what the other
//! client receives. Skipped (with a message) when tmux is missing, unless
//! `CHATCORE_REQUIRE_SERVICES=1`.

mod support;

use std::time::{Duration, Instant};

use chatcore_client::{ClientEvent, MessageKind};
use support::*;

/// Accounts on, cheap password hashes, and access tokens that expire within the test, so
/// the client must refresh its token to still be signed in when it logs out.
const ACCOUNTS: &[&str] = &[
    "--registration",
    "open",
    "--argon2-memory-kib=8192",
    "--argon2-iterations=1",
    "--access-token-ttl=6",
];

#[test]
fn register_create_invite_kick_logout_and_login_again() {
    let Some(scene) = Scene::new("accounts") else {
        return;
    };
    let server = Server::with_args(&scene.server_bin, ACCOUNTS);
    let tmux = &scene.tmux;
    scene.start_tui(&server.url, "visitor");
    tmux.wait_text("● connected as visitor");

    tmux.keys(&["/"]);
    tmux.type_text("register ann");
    tmux.keys(&["Enter"]);
    tmux.wait_text("password for ann");
    tmux.type_text("correct horse");
    let pane = tmux.wait_text("•••••••••••••");
    assert!(
        !pane.contains("correct horse"),
        "the password shows: {pane}"
    );
    tmux.keys(&["Enter"]);
    tmux.wait_text("● connected as ann");
    let signed_in = Instant::now();
    let session = scene.scratch.join("chatcore").join("tui-session.json");
    let saved = std::fs::read_to_string(&session).expect("the session file");
    assert!(
        saved.contains("\"ann\"") && !saved.contains("correct horse"),
        "{saved}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&session)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "session file mode");
    }

    let mut bob = Peer::account(&server.url, "bob", "bob's password");
    tmux.keys(&["/"]);
    tmux.type_text("create team --private");
    tmux.keys(&["Enter"]);
    tmux.wait_text("┌ #team");
    tmux.keys(&["/"]);
    tmux.type_text("invite bob");
    tmux.keys(&["Enter"]);
    bob.wait(
        "the invitation",
        |e| matches!(e, ClientEvent::Invited { room, by } if room == "team" && by == "ann"),
    );
    tmux.wait_text("— ann invited bob");
    bob.call(bob.client.join("team"))
        .expect("bob joins on the invitation");

    tmux.keys(&["/"]);
    tmux.type_text("kick bob bye now");
    tmux.keys(&["Enter"]);
    tmux.wait_text("— ann kicked bob: bye now");
    bob.wait(
        "bob's removal from #team",
        |e| matches!(e, ClientEvent::Left { room } if room == "team"),
    );
    let e = bob
        .call(
            bob.client
                .history("team", chatcore_client::HistoryQuery::latest()),
        )
        .expect_err("a kicked member may not read the private room");
    assert!(e.to_string().contains("forbidden"), "{e}");

    tmux.keys(&["/"]);
    tmux.type_text("topic Ship on Friday");
    tmux.keys(&["Enter"]);
    tmux.wait_text("— ann set the topic: Ship on Friday");
    tmux.keys(&["/"]);
    tmux.type_text("ban bob 1h spam");
    tmux.keys(&["Enter"]);
    tmux.wait_text("— ann banned bob for 3600 s: spam");
    let e = bob
        .call(bob.client.join("team"))
        .expect_err("a banned user may not join");
    assert!(e.to_string().contains("banned"), "{e}");
    tmux.keys(&["/"]);
    tmux.type_text("members");
    tmux.keys(&["Enter"]);
    tmux.wait_text("members of #team: ann (owner)");

    // The other way round: bob invites ann to his private room, she accepts with /join,
    // and his ban removes the room from her list with the event's words.
    bob.call(
        bob.client
            .create_room("bobs", chatcore_client::RoomKind::Private, None),
    )
    .expect("bob creates a room");
    bob.call(bob.client.invite("bobs", "ann"))
        .expect("bob invites ann");
    tmux.wait_text("bob invited you to #bobs: /join bobs to accept");
    tmux.keys(&["/"]);
    tmux.type_text("join bobs");
    tmux.keys(&["Enter"]);
    tmux.wait_text("┌ #bobs");
    bob.call(bob.client.ban("bobs", "ann", Some("rude".into()), None))
        .expect("bob bans ann");
    let pane = tmux.wait_text("bob banned ann: rude (#bobs)");
    assert!(!pane.contains("│ #bobs"), "the room left the list: {pane}");

    // The 6 s access token has expired by now: only a refreshed one signs out cleanly.
    let ttl = Duration::from_secs(7);
    std::thread::sleep(ttl.saturating_sub(signed_in.elapsed()));
    tmux.keys(&["/"]);
    tmux.type_text("logout");
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_text("● connected as visitor");
    assert!(
        !pane.contains("logout:") && !pane.contains("renewed"),
        "{pane}"
    );
    assert!(!session.exists(), "/logout deletes the session file");
    tmux.quit();

    // Signed out: --login asks for the password again (and saves a new session)…
    let again = Tmux::new(tmux_binary().expect("tmux"), "accounts-login");
    start_tui_flags(
        &again,
        &server.url,
        "ann",
        &scene.scratch,
        &["--login", "ann"],
    );
    again.wait_text("password for ann");
    again.type_text("wrong");
    again.keys(&["Enter"]);
    again.wait_text("login: wrong user name or password");
    again.keys(&["/"]);
    again.type_text("login ann");
    again.keys(&["Enter"]);
    again.type_text("correct horse");
    again.keys(&["Enter"]);
    again.wait_text("● connected as ann");
    // The private room lets its owner in: this is ann's account, not a guest of the name.
    again.join("team");
    again.quit();
    assert!(session.exists());

    // …and a later start signs in from the saved session without asking.
    let restored = Tmux::new(tmux_binary().expect("tmux"), "accounts-restored");
    start_tui_flags(
        &restored,
        &server.url,
        "ann",
        &scene.scratch,
        &["--login", "ann"],
    );
    let pane = restored.wait_text("● connected as ann");
    assert!(!pane.contains("password for ann"), "{pane}");
    restored.quit();
}

#[test]
fn edit_delete_react_thread_and_search_with_keys() {
    let Some(scene) = Scene::new("changes") else {
        return;
    };
    let server = Server::start(&scene.server_bin, None);
    let tmux = &scene.tmux;
    scene.start_tui(&server.url, "ann");
    tmux.wait_text("● connected as ann");
    tmux.join("general");
    let mut bob = Peer::guest(&server.url, "bob");
    bob.call(bob.client.join("general")).expect("bob joins");

    tmux.keys(&["i"]);
    tmux.type_text("helo wrold");
    tmux.keys(&["Enter", "Escape"]);
    tmux.wait_for("ann's message, stored", |p| {
        p.contains(" ann helo wrold") && !p.contains("(sending)")
    });
    let mine = bob.wait(
        "ann's message",
        |e| matches!(e, ClientEvent::Message(m) if m.text == "helo wrold"),
    );
    let ClientEvent::Message(mine) = mine else {
        unreachable!()
    };
    let theirs = bob
        .call(bob.client.send("general", "any questions?"))
        .expect("bob sends");
    tmux.wait_text(" bob any questions?");

    // Edit: select mode starts on the newest message; k goes to ann's.
    tmux.keys(&["v"]);
    tmux.wait_text(" SELECT ");
    tmux.keys(&["k", "e"]);
    tmux.wait_text("edit · Enter save");
    tmux.keys(&["C-u"]);
    tmux.type_text("hello world");
    tmux.keys(&["Enter"]);
    tmux.wait_text(" ann hello world (edited)");
    bob.wait("the edit", |e| {
        matches!(e, ClientEvent::Message(m)
            if m.kind == MessageKind::Edit && m.target == Some(mine.seq) && m.text == "hello world")
    });

    // React to bob's message with 👍 (the first of the picker).
    tmux.keys(&["v", "r"]);
    tmux.wait_text("react: 1 👍");
    tmux.keys(&["1"]);
    tmux.wait_text("👍 1");
    bob.wait("the reaction", |e| {
        matches!(e, ClientEvent::Message(m)
            if m.kind == MessageKind::React && m.target == Some(theirs.seq) && m.text == "👍")
    });

    // Reply in bob's thread: the reply shows there, not in the room.
    tmux.keys(&["t"]);
    tmux.wait_text("no replies yet");
    tmux.keys(&["i"]);
    tmux.type_text("answered in the thread");
    tmux.keys(&["Enter", "Escape"]);
    tmux.wait_for("the reply in the thread", |p| {
        p.contains("1 reply")
            && p.contains(" ann answered in the thread")
            && !p.contains("(sending)")
    });
    bob.wait("the reply", |e| {
        matches!(e, ClientEvent::Message(m)
            if m.reply_to == Some(theirs.seq) && m.text == "answered in the thread")
    });
    tmux.keys(&["Escape"]);
    let pane = tmux.wait_for("the room again, with the reply count", |p| {
        p.contains("┌ #general") && p.contains("💬 1 reply")
    });
    assert!(!pane.contains("answered in the thread"), "{pane}");

    // Delete ann's message, confirming with y.
    tmux.keys(&["v", "k", "d"]);
    tmux.wait_text("delete this message?");
    tmux.keys(&["y"]);
    tmux.wait_text(" ann 🗑 message deleted");
    bob.wait("the delete", |e| {
        matches!(e, ClientEvent::Message(m)
            if m.kind == MessageKind::Delete && m.target == Some(mine.seq))
    });
    tmux.keys(&["Escape"]);
    // Read apart from the next key: an Escape the terminal reads together with the `/`
    // after it is Alt+/ (a key select mode ignores), and the search text would be typed as
    // select-mode keys.
    tmux.wait_text(" NORMAL ");

    // Search finds the current text only; Enter opens the hit's room.
    tmux.keys(&["/"]);
    tmux.type_text("search hello");
    tmux.keys(&["Enter"]);
    tmux.wait_text("nothing found");
    tmux.keys(&["Escape", "/"]);
    tmux.type_text("search questions");
    tmux.keys(&["Enter"]);
    tmux.wait_text("#general bob any questions?");
    tmux.keys(&["Enter"]);
    tmux.wait_text("┌ #general");
    tmux.quit();
}
