#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::testing::{screen, text};
use crate::app::command::{COLON_HELP, ROOM_HELP, SLASH_HELP};
use crate::app::{Action, ConnStatus};
use crate::event::KEY_HELP;
use crate::testing::{DAY, TS, app, join, msg};

#[test]
fn room_list_shows_unread_counts() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    join(&mut a, "random", vec![]);
    for seq in 1..=3 {
        a.update(Action::Message(msg("random", seq, "bob", "hey", TS)));
    }
    let rooms_column = |row: &str| row.chars().take(22).collect::<String>();
    let s = screen(&a, 120, 40);
    assert_eq!(rooms_column(&s[1]), "│ #general           │");
    assert_eq!(rooms_column(&s[2]), "│ #random           3│");
    a.update(Action::Message(msg("random", 4, "bob", "@ann look", TS)));
    assert_eq!(
        rooms_column(&screen(&a, 120, 40)[2]),
        "│ #random          @4│"
    );
    a.update(Action::SelectRoom(1));
    assert_eq!(
        rooms_column(&screen(&a, 120, 40)[2]),
        "│ #random            │"
    );
}

#[test]
fn messages_show_time_sender_and_day_separators() {
    let mut a = app();
    join(
        &mut a,
        "general",
        vec![
            msg("general", 1, "bob", "yesterday's news", TS - DAY),
            msg("general", 2, "bob", "hello ann", TS),
            msg("general", 3, "cy", "hi all", TS + 60_000),
        ],
    );
    let t = text(&a, 120, 40);
    assert!(t.contains("13:05 bob hello ann"), "{t}");
    assert!(t.contains("13:06 cy hi all"), "{t}");
    assert!(t.contains("Wed 2024-02-28"), "{t}");
    assert!(t.contains("─ Thu 2024-02-29 ─"), "{t}");
    let s = text(&a, 120, 40);
    let wed = s.find("Wed 2024-02-28").unwrap();
    let thu = s.find("Thu 2024-02-29").unwrap();
    let news = s.find("yesterday's news").unwrap();
    assert!(wed < news && news < thu, "separators sit between the days");
    assert!(t.contains("start of #general"), "all history is loaded");
}

/// A card of an application's own kind, or a kind of a newer server, shows its text
/// fallback like any message: nothing is dropped.
#[test]
fn custom_and_unknown_kinds_show_their_text() {
    let mut a = app();
    let mut card = msg("general", 1, "system", "Order 12 shipped", TS);
    card.kind = chatcore::protocol::MessageKind::Custom("shop.order".into());
    card.data = Some(chatcore::protocol::Data::from_iter([(
        "order".to_owned(),
        12.into(),
    )]));
    let mut newer = msg("general", 2, "bob", "a poll: lunch?", TS);
    newer.kind = chatcore::protocol::MessageKind::Unknown;
    join(&mut a, "general", vec![card, newer]);
    let t = text(&a, 120, 40);
    assert!(t.contains("13:05 system Order 12 shipped"), "{t}");
    assert!(t.contains("13:05 bob a poll: lunch?"), "{t}");
}

#[test]
fn long_messages_wrap_under_the_text() {
    let mut a = app();
    let long = "word ".repeat(40);
    join(
        &mut a,
        "general",
        vec![msg("general", 1, "bob", long.trim(), TS)],
    );
    let s = screen(&a, 80, 20);
    let rows: Vec<&String> = s.iter().filter(|l| l.contains("word")).collect();
    assert!(rows.len() >= 3, "{s:#?}");
    assert!(
        rows[1].contains("│      word"),
        "continuations are indented: {}",
        rows[1]
    );
}

#[test]
fn scrolled_view_shows_older_messages_and_a_marker() {
    let mut a = app();
    let history = (1..=100)
        .map(|s| msg("general", s, "bob", &format!("message number {s}"), TS))
        .collect();
    join(&mut a, "general", history);
    let t = text(&a, 120, 40);
    assert!(t.contains("message number 100") && !t.contains("message number 50 "));
    a.update(Action::ScrollUp(50));
    let t = text(&a, 120, 40);
    assert!(
        t.contains("message number 50") && !t.contains("message number 100"),
        "{t}"
    );
    assert!(t.contains("↓ 50 newer"));
    // gg: the oldest messages from the top, under the start-of-room note.
    a.update(Action::ScrollTop);
    let s = screen(&a, 120, 40);
    assert!(s[1].contains("start of #general"), "{}", s[1]);
    assert!(
        s[2].contains("Thu 2024-02-29") && s[3].contains("message number 1 "),
        "{s:#?}"
    );
}

#[test]
fn image_attachments_render_as_placeholder_blocks() {
    let mut a = app();
    join(
        &mut a,
        "general",
        vec![msg(
            "general",
            1,
            "bob",
            "my cat\n[image: cat.png](http://x/cat.png)",
            TS,
        )],
    );
    let s = screen(&a, 120, 40);
    let i = s.iter().position(|l| l.contains("bob my cat")).unwrap();
    assert!(s[i + 1].contains("      [image: cat.png]"), "{}", s[i + 1]);
}

#[test]
fn help_overlay_lists_every_key_and_command() {
    let mut a = app();
    a.update(Action::ToggleHelp);
    let t = text(&a, 120, 40);
    for (keys, _) in KEY_HELP {
        assert!(t.contains(keys), "help lacks {keys}");
    }
    for (cmd, _) in COLON_HELP.iter().chain(SLASH_HELP).chain(ROOM_HELP) {
        assert!(t.contains(cmd), "help lacks {cmd}:\n{t}");
    }
    a.update(Action::Escape);
    assert!(!text(&a, 120, 40).contains("Keys (normal mode)"));
}

#[test]
fn status_bar_shows_the_connection() {
    let mut a = app();
    assert!(screen(&a, 120, 40)[38].contains("● connected as ann"));
    a.update(Action::Conn(ConnStatus::Reconnecting { attempt: 3 }));
    let s = screen(&a, 120, 40);
    assert!(s[38].contains("reconnecting (attempt 3)"), "{}", s[38]);
    assert!(s[38].contains("NORMAL"));
    a.update(Action::Conn(ConnStatus::Disconnected {
        reason: "connection lost: reset".into(),
    }));
    assert!(screen(&a, 120, 40)[38].contains("disconnected: connection lost"));
}

#[test]
fn typing_line_users_and_pending_sends() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    a.update(Action::Typing {
        room: "general".into(),
        user: "bob".into(),
        on: true,
    });
    let t = text(&a, 120, 40);
    assert!(t.contains("bob is typing…"));
    assert!(
        t.contains("Users (2)") && t.contains("● ann") && t.contains("✎ bob"),
        "{t}"
    );
    a.update(Action::Tick(a.now + Duration::from_secs(30)));
    assert!(!text(&a, 120, 40).contains("is typing"));
    a.update(Action::InsertMode);
    for c in "on its way".chars() {
        a.update(Action::Char(c));
    }
    assert!(text(&a, 120, 40).contains("on its way"));
    a.update(Action::Submit);
    assert!(text(&a, 120, 40).contains("ann on its way (sending)"));
}

#[test]
fn seen_by_shows_under_the_newest_message() {
    let mut a = app();
    join(
        &mut a,
        "general",
        vec![msg("general", 1, "ann", "lunch?", TS)],
    );
    let read = |user: &str| chatcore_client::Receipt {
        user: user.into(),
        seq: 1,
    };
    a.update(Action::Receipts {
        room: "general".into(),
        reads: vec![read("ann"), read("bob"), read("cy")],
    });
    let s = screen(&a, 80, 20);
    let lunch = s.iter().position(|l| l.contains("ann lunch?")).unwrap();
    assert!(s[lunch + 1].contains("  seen by bob, cy│"), "{s:#?}");
    a.update(Action::Message(msg("general", 2, "bob", "yes", TS)));
    assert!(
        !text(&a, 80, 20).contains("seen by"),
        "nobody read the new one yet"
    );
}

/// A large room (PROTOCOL.md, "Presence in large rooms"): `joined` lists nobody and an
/// `online_count` follows; the panel shows the count, not a list of one, and goes back to
/// the names when the room is small again.
#[test]
fn large_rooms_show_the_online_count_until_the_list_returns() {
    let mut a = app();
    join(&mut a, "lobby", vec![]);
    a.update(Action::OnlineCount {
        room: "lobby".into(),
        online: 5012,
    });
    let t = text(&a, 120, 40);
    assert!(
        t.contains("Users (5012)") && t.contains("large room") && !t.contains("● bob"),
        "{t}"
    );
    a.update(Action::OnlineCount {
        room: "lobby".into(),
        online: 4990,
    });
    assert!(text(&a, 120, 40).contains("Users (4990)"));
    a.update(Action::Presence {
        room: "lobby".into(),
        online: vec!["ann".into(), "bob".into()],
    });
    let t = text(&a, 120, 40);
    assert!(
        t.contains("Users (2)") && t.contains("● bob") && !t.contains("large room"),
        "{t}"
    );
}

#[test]
fn errors_and_modes_show_at_the_bottom() {
    let mut a = app();
    a.update(Action::CommandMode);
    for c in "frob".chars() {
        a.update(Action::Char(c));
    }
    let s = screen(&a, 120, 40);
    assert!(s.iter().any(|l| l.contains(":frob")));
    assert!(s[38].contains("COMMAND"));
    a.update(Action::Submit);
    assert!(screen(&a, 120, 40)[39].contains("unknown command :frob"));
}

#[test]
fn settings_view_and_themes() {
    let mut a = app();
    a.update(Action::ToggleSettings);
    let t = text(&a, 120, 40);
    assert!(t.contains("Settings") && t.contains("Theme") && t.contains("dark"));
    assert!(
        t.contains("http://127.0.0.1:8080") && t.contains("Notifications") && t.contains("bell")
    );
    let dark = super::testing::screen(&a, 120, 40);
    a.set_theme(crate::theme::ThemeName::Light);
    assert!(text(&a, 120, 40).contains("light"));
    assert_eq!(screen(&a, 120, 40).len(), dark.len());
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let mut a = app();
    join(
        &mut a,
        "general",
        vec![msg("general", 1, "bob", "日本語のテキスト and more", TS)],
    );
    a.update(Action::ToggleHelp);
    for (w, h) in [
        (1, 1),
        (2, 3),
        (10, 4),
        (30, 8),
        (49, 12),
        (80, 24),
        (200, 60),
    ] {
        a.update(Action::Resize(w, h));
        let _ = screen(&a, w, h);
    }
}
