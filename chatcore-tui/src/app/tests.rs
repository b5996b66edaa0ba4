#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;
use crate::config::Notifications;
use crate::testing::{TS, app, join, msg};
use crate::theme::ThemeName;

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.update(Action::Char(c)))
        .collect()
}

fn command(app: &mut App, line: &str) -> Vec<Effect> {
    app.update(Action::CommandMode);
    type_text(app, line);
    app.update(Action::Submit)
}

fn nets(fx: &[Effect]) -> Vec<&NetCmd> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Net(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// The notifications among `fx` (a message shown also marks the room read).
fn notes(fx: Vec<Effect>) -> Vec<Effect> {
    fx.into_iter()
        .filter(|e| matches!(e, Effect::Notify { .. }))
        .collect()
}

#[test]
fn insert_mode_sends_to_the_current_room() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    a.update(Action::InsertMode);
    assert_eq!(a.mode, Mode::Insert);
    type_text(&mut a, "hello");
    let fx = a.update(Action::Submit);
    assert!(nets(&fx).contains(&&NetCmd::Send {
        local_id: 1,
        room: "general".into(),
        text: "hello".into(),
        emote: false,
        reply_to: None
    }));
    assert_eq!(a.input, "");
    assert_eq!(a.pending.len(), 1);
    assert_eq!(a.mode, Mode::Insert);
    a.update(Action::Sent { local_id: 1 });
    assert!(a.pending.is_empty());
}

#[test]
fn normal_mode_keys_do_not_type() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    a.update(Action::Char('x'));
    assert_eq!(a.input, "");
}

#[test]
fn sending_without_a_room_is_an_error_and_keeps_the_text() {
    let mut a = app();
    a.update(Action::InsertMode);
    type_text(&mut a, "hi");
    let fx = a.update(Action::Submit);
    assert!(nets(&fx).is_empty());
    assert_eq!(a.input, "hi");
    assert!(matches!(&a.notice, Some(Notice::Error(e)) if e.contains(":join")));
}

#[test]
fn slash_commands_run_and_bad_ones_leave_an_error_line() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    a.update(Action::SlashMode);
    assert_eq!(a.input, "/");
    type_text(&mut a, "join rust");
    assert_eq!(
        nets(&a.update(Action::Submit)),
        vec![&NetCmd::Join("rust".into())]
    );
    a.update(Action::SlashMode);
    type_text(&mut a, "me waves");
    let fx = a.update(Action::Submit);
    assert!(matches!(nets(&fx)[..], [NetCmd::Send { emote: true, text, .. }] if text == "waves"));
    a.update(Action::SlashMode);
    type_text(&mut a, "msg bob psst");
    let fx = a.update(Action::Submit);
    assert!(
        matches!(nets(&fx)[..], [NetCmd::Dm { to, text, .. }] if to == "bob" && text == "psst")
    );
    a.update(Action::SlashMode);
    type_text(&mut a, "nick zed");
    let fx = a.update(Action::Submit);
    assert!(matches!(nets(&fx)[..], [NetCmd::Reconnect { user, .. }] if user == "zed"));
    a.update(Action::SlashMode);
    type_text(&mut a, "bogus");
    let fx = a.update(Action::Submit);
    assert!(fx.is_empty());
    assert_eq!(a.input, "/bogus", "a bad command keeps the text to fix it");
    assert!(matches!(&a.notice, Some(Notice::Error(e)) if e.contains("unknown command /bogus")));
}

#[test]
fn colon_commands_theme_quit_and_errors() {
    let mut a = app();
    command(&mut a, "theme light");
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.theme.name, ThemeName::Light);
    assert_eq!(a.settings.theme, ThemeName::Light);
    let fx = command(&mut a, "nope");
    assert!(fx.is_empty());
    assert!(matches!(&a.notice, Some(Notice::Error(e)) if e.contains("unknown command :nope")));
    command(&mut a, "theme");
    assert!(matches!(&a.notice, Some(Notice::Error(e)) if e.contains("usage")));
    let fx = command(&mut a, "join dev");
    assert_eq!(nets(&fx), vec![&NetCmd::Join("dev".into())]);
    let fx = command(&mut a, "quit");
    assert!(fx.contains(&Effect::Quit));
    assert!(fx.contains(&Effect::Net(NetCmd::Close)));
}

#[test]
fn escape_and_backspace_leave_command_mode() {
    let mut a = app();
    a.update(Action::CommandMode);
    type_text(&mut a, "jo");
    a.update(Action::Escape);
    assert_eq!((a.mode, a.command.as_str()), (Mode::Normal, ""));
    a.update(Action::CommandMode);
    a.update(Action::Backspace);
    assert_eq!(a.mode, Mode::Normal);
}

fn busy_room(a: &mut App, n: u64, first: u64) {
    let history = (first..first + n)
        .map(|s| msg("general", s, "bob", &format!("m{s}"), TS))
        .collect();
    join(a, "general", history);
}

#[test]
fn gg_scrolls_to_the_top_and_pages_history_g_to_the_bottom() {
    let mut a = app();
    busy_room(&mut a, 50, 51); // seqs 51..=100: older ones exist
    assert!(a.room().unwrap().has_more);
    assert!(a.update(Action::PendingG).is_empty());
    let fx = a.update(Action::PendingG);
    let top = 50 - a.page(); // the oldest screenful
    assert_eq!(a.room().unwrap().scroll, top);
    assert_eq!(
        nets(&fx),
        vec![&NetCmd::History {
            room: "general".into(),
            before: 51
        }]
    );
    // A second request is not sent while one is loading.
    assert!(nets(&a.update(Action::ScrollUp(1))).is_empty());
    let older = (1..=50)
        .map(|s| msg("general", s, "bob", "old", TS))
        .collect();
    a.update(Action::History {
        room: "general".into(),
        messages: older,
        has_more: false,
        current_to: 100,
    });
    let r = a.room().unwrap();
    assert_eq!((r.len(), r.loading, r.has_more), (100, false, false));
    assert_eq!(r.scroll, top, "the view stays on the same message");
    assert!(!r.at_top(a.page()));
    a.update(Action::ScrollBottom);
    assert_eq!(a.room().unwrap().scroll, 0);
}

#[test]
fn a_g_followed_by_another_key_is_not_gg() {
    let mut a = app();
    busy_room(&mut a, 100, 1);
    a.update(Action::PendingG);
    a.update(Action::ScrollUp(1));
    a.update(Action::PendingG);
    assert_eq!(a.room().unwrap().scroll, 1);
    // Network traffic between the two g presses does not cancel it.
    a.update(Action::Message(msg("general", 101, "bob", "x", TS)));
    a.update(Action::PendingG);
    assert_eq!(a.room().unwrap().scroll, 101 - a.page());
}

#[test]
fn half_pages_and_no_fetch_when_history_is_complete() {
    let mut a = app();
    busy_room(&mut a, 100, 1);
    let fx = a.update(Action::HalfPageUp);
    let half = a.page() / 2;
    assert_eq!(a.room().unwrap().scroll, half);
    assert!(nets(&fx).is_empty());
    a.update(Action::HalfPageDown);
    assert_eq!(a.room().unwrap().scroll, 0);
    let fx = a.update(Action::ScrollTop);
    assert!(
        nets(&fx).is_empty(),
        "seq 1 is loaded: nothing older exists"
    );
}

#[test]
fn unread_counts_and_duplicates() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    join(&mut a, "random", vec![]);
    assert_eq!(a.room().unwrap().name, "general");
    let m = msg("random", 1, "bob", "hey", TS);
    a.update(Action::Message(m.clone()));
    a.update(Action::Message(m)); // replayed at a resume seam
    a.update(Action::Message(msg("random", 2, "ann", "mine", TS)));
    assert_eq!(a.rooms[1].unread, 1);
    assert_eq!(a.rooms[1].len(), 2);
    a.update(Action::NextRoom);
    assert_eq!(a.room().unwrap().name, "random");
    assert_eq!(a.rooms[1].unread, 0);
}

#[test]
fn mentions_and_direct_messages_notify() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    let fx = notes(a.update(Action::Message(msg("general", 1, "bob", "hi @ann!", TS))));
    assert!(matches!(&fx[..], [Effect::Notify { title, .. }] if title.contains("bob")));
    assert!(notes(a.update(Action::Message(msg("general", 2, "bob", "joanna", TS)))).is_empty());
    assert!(notes(a.update(Action::Message(msg("general", 3, "ann", "ann", TS)))).is_empty());
    let fx = notes(a.update(Action::Message(msg("dm:ann:bob", 1, "bob", "psst", TS))));
    assert_eq!(fx.len(), 1);
    assert_eq!(a.rooms[1].mentions, 1);
    command(&mut a, "notify off");
    assert!(notes(a.update(Action::Message(msg("dm:ann:bob", 2, "bob", "psst", TS)))).is_empty());
    assert!(mentions("Hey ANN, look", "ann"));
    assert!(!mentions("annex", "ann"));
}

#[test]
fn typing_is_debounced_and_expires() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    a.update(Action::InsertMode);
    let fx = type_text(&mut a, "hel");
    assert_eq!(
        nets(&fx),
        vec![&NetCmd::Typing {
            room: "general".into(),
            on: true
        }]
    );
    let t0 = a.now;
    a.update(Action::Tick(t0 + Duration::from_secs(1)));
    assert!(type_text(&mut a, "l").is_empty());
    a.update(Action::Tick(t0 + Duration::from_secs(4)));
    assert_eq!(nets(&type_text(&mut a, "o")).len(), 1, "renewed after 3 s");
    let fx = a.update(Action::Tick(t0 + Duration::from_secs(10)));
    assert_eq!(
        nets(&fx),
        vec![&NetCmd::Typing {
            room: "general".into(),
            on: false
        }]
    );
    // Others' indicators expire by themselves.
    a.update(Action::Typing {
        room: "general".into(),
        user: "bob".into(),
        on: true,
    });
    assert_eq!(a.room().unwrap().typing_now(a.now), vec!["bob"]);
    a.update(Action::Tick(a.now + TYPING_TTL + Duration::from_secs(1)));
    assert!(a.room().unwrap().typing_now(a.now).is_empty());
    // A message from the typist clears it at once.
    a.update(Action::Typing {
        room: "general".into(),
        user: "bob".into(),
        on: true,
    });
    a.update(Action::Message(msg("general", 1, "bob", "done", TS)));
    assert!(a.room().unwrap().typing_now(a.now).is_empty());
}

#[test]
fn disconnects_keep_the_input_and_failed_sends_give_text_back() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    a.update(Action::InsertMode);
    type_text(&mut a, "draft");
    a.update(Action::Conn(ConnStatus::Disconnected {
        reason: "reset".into(),
    }));
    a.update(Action::Conn(ConnStatus::Reconnecting { attempt: 1 }));
    assert_eq!(a.input, "draft");
    a.update(Action::Submit);
    assert_eq!(a.input, "");
    a.update(Action::SendFailed {
        local_id: 1,
        error: "no reply".into(),
    });
    assert_eq!(a.input, "draft");
    assert!(a.pending.is_empty());
}

#[test]
fn clicks_select_rooms() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    join(&mut a, "random", vec![]);
    // The room list starts at row 0 with a border; room 2 is on row 2.
    a.update(Action::Click(3, 2));
    assert_eq!(a.current, 1);
    a.update(Action::Click(3, 30)); // below the list: nothing
    assert_eq!(a.current, 1);
}

#[test]
fn joins_asked_for_switch_rooms_and_leaves_remove_them() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    command(&mut a, "join dev");
    join(&mut a, "dev", vec![]);
    assert_eq!(a.room().unwrap().name, "dev");
    a.update(Action::Left("dev".into()));
    assert_eq!(a.room().unwrap().name, "general");
    let fx = command(&mut a, "leave");
    assert_eq!(nets(&fx), vec![&NetCmd::Leave("general".into())]);
}

#[test]
fn settings_view_changes_theme_and_notifications() {
    let mut a = app();
    a.update(Action::ToggleSettings);
    assert_eq!(a.view, View::Settings);
    a.update(Action::ScrollDown(2)); // j j: Theme
    a.update(Action::Submit);
    assert_eq!(a.settings.theme, ThemeName::Light);
    a.update(Action::ScrollDown(1));
    a.update(Action::Submit);
    assert_eq!(a.settings.notifications, Notifications::Desktop);
    a.update(Action::ScrollTop);
    a.update(Action::Submit);
    assert_eq!(a.mode, Mode::Command);
    assert!(a.command.starts_with("server "));
    a.update(Action::Escape);
    a.update(Action::Escape);
    assert_eq!(a.view, View::Chat);
}

#[test]
fn write_saves_the_joined_rooms() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    join(&mut a, "dm:ann:bob", vec![]);
    let fx = command(&mut a, "write");
    assert_eq!(fx, vec![Effect::SaveConfig]);
    assert_eq!(a.settings.rooms, vec!["general"]);
}

#[test]
fn another_server_forgets_the_old_servers_messages() {
    let mut a = app();
    join(&mut a, "general", vec![msg("general", 1, "bob", "old", TS)]);
    let same = a.settings.server.clone();
    command(&mut a, &format!("server {same}"));
    assert_eq!(a.rooms[0].len(), 1, "the same server keeps them");
    let fx = command(&mut a, "server http://127.0.0.1:9");
    assert!(matches!(nets(&fx)[..], [NetCmd::Reconnect { server, .. }] if server.ends_with(":9")));
    assert_eq!(a.rooms[0].name, "general");
    assert!(a.rooms[0].is_empty());
    join(&mut a, "general", vec![msg("general", 1, "bob", "new", TS)]);
    assert_eq!(a.rooms[0].get(1).unwrap().text, "new");
}
