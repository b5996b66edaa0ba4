//! Accounts, room commands and message changes, fed to [`App::update`] as actions.
#![allow(clippy::unwrap_used)]

use chatcore::protocol::Moderation;
use chatcore_client::{Message, MessageKind};

use super::command::RoomCmd;
use super::*;
use crate::testing::{TS, app, join, msg};
use crate::ui::testing::text;

fn keys(app: &mut App, actions: Vec<Action>) -> Vec<Effect> {
    actions.into_iter().flat_map(|a| app.update(a)).collect()
}

fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.update(Action::Char(c)))
        .collect()
}

fn slash(app: &mut App, line: &str) -> Vec<Effect> {
    app.update(Action::InsertMode);
    app.update(Action::ClearLine);
    let mut fx = typed(app, line);
    fx.extend(app.update(Action::Submit));
    fx
}

fn nets(fx: Vec<Effect>) -> Vec<NetCmd> {
    fx.into_iter()
        .filter_map(|e| match e {
            Effect::Net(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn event(seq: u64, sender: &str, kind: MessageKind, target: u64, text: &str) -> Message {
    Message {
        kind,
        target: Some(target),
        ..msg("general", seq, sender, text, TS)
    }
}

#[test]
fn login_asks_the_password_hidden_and_signs_in() {
    let mut a = app();
    slash(&mut a, "/login Ann");
    assert_eq!(a.mode, Mode::Insert);
    typed(&mut a, "s3cret");
    assert_eq!(a.input, "", "the password never reaches the message line");
    let screen = text(&a, 120, 40);
    assert!(screen.contains("••••••"), "{screen}");
    assert!(!screen.contains("s3cret"), "{screen}");
    let fx = nets(a.update(Action::Submit));
    assert_eq!(
        fx,
        vec![NetCmd::SignIn {
            user: "Ann".into(),
            password: Secret::new("s3cret"),
            create: false
        }]
    );
    assert!(!format!("{fx:?}").contains("s3cret"), "Debug hides it");
    a.update(Action::SignedIn { user: "Ann".into() });
    assert_eq!(a.account.as_deref(), Some("Ann"));
    assert!(nets(slash(&mut a, "/nick zed")).is_empty());
    assert!(matches!(&a.notice, Some(Notice::Error(e)) if e.contains("/logout first")));
    slash(&mut a, "/register bo");
    typed(&mut a, "x");
    a.update(Action::Escape);
    assert!(a.prompt.is_none());
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(nets(slash(&mut a, "/logout")), vec![NetCmd::Logout]);
}

#[test]
fn room_commands_go_to_the_current_room_and_removal_says_why() {
    let mut a = app();
    assert!(nets(slash(&mut a, "/kick bob")).is_empty());
    assert!(matches!(a.notice, Some(Notice::Error(ref e)) if e.contains("open a room")));
    join(&mut a, "general", vec![]);
    let fx = nets(slash(&mut a, "/kick bob spam"));
    assert_eq!(
        fx,
        vec![NetCmd::Moderate {
            room: "general".into(),
            cmd: RoomCmd::Kick {
                user: "bob".into(),
                reason: Some("spam".into())
            }
        }]
    );
    a.update(Action::Invited {
        room: "team".into(),
        by: "bob".into(),
    });
    assert!(matches!(&a.notice, Some(Notice::Info(i)) if i.contains("/join team")));
    let mut on_ann = Moderation::default();
    on_ann.user = Some("ann".into());
    let kick = Message {
        kind: MessageKind::Kick,
        moderation: Some(Box::new(on_ann)),
        ..msg("general", 1, "bob", "bob kicked ann: spam", TS)
    };
    a.update(Action::Message(kick));
    assert!(text(&a, 120, 40).contains("— bob kicked ann: spam"));
    a.update(Action::Removed("general".into()));
    assert!(a.rooms.is_empty());
    assert!(matches!(&a.notice, Some(Notice::Error(e)) if e.contains("bob kicked ann: spam")));
}

#[test]
fn changes_merge_into_their_message_and_render() {
    let mut a = app();
    join(
        &mut a,
        "general",
        vec![msg("general", 1, "ann", "helo", TS)],
    );
    a.update(Action::Message(msg("general", 2, "bob", "later", TS)));
    a.update(Action::Message(event(
        3,
        "ann",
        MessageKind::Edit,
        1,
        "hello",
    )));
    a.update(Action::Message(event(
        4,
        "bob",
        MessageKind::React,
        1,
        "👍",
    )));
    a.update(Action::Message(event(
        5,
        "ann",
        MessageKind::React,
        1,
        "👍",
    )));
    a.update(Action::Message(event(6, "bob", MessageKind::Delete, 2, "")));
    let r = a.room().unwrap();
    assert_eq!(r.len(), 2, "change events are no lines of their own");
    assert_eq!(r.get(1).unwrap().text, "hello");
    let screen = text(&a, 120, 40);
    assert!(screen.contains("ann hello (edited)"), "{screen}");
    // (A wide emoji takes two cells: the test screen shows the second as a space.)
    let chips = screen.lines().find(|l| l.contains('👍')).unwrap();
    assert!(
        chips.split('│').any(|cell| cell.trim().ends_with("👍  2")),
        "{screen}"
    );
    assert!(screen.contains("bob 🗑 message deleted"), "{screen}");
    assert!(!screen.contains("later"), "{screen}");
}

#[test]
fn select_mode_edits_deletes_reacts_and_opens_the_thread() {
    let mut a = app();
    join(
        &mut a,
        "general",
        vec![
            msg("general", 1, "ann", "mine", TS),
            msg("general", 2, "bob", "theirs", TS),
        ],
    );
    a.update(Action::SelectMode);
    assert_eq!(
        (a.mode, a.room().unwrap().selected),
        (Mode::Select, Some(2))
    );
    a.update(Action::Char('e'));
    assert!(matches!(&a.notice, Some(Notice::Error(e)) if e.contains("own")));
    a.update(Action::ScrollUp(1));
    assert_eq!(a.room().unwrap().selected, Some(1));
    a.update(Action::Char('e'));
    assert_eq!((a.mode, a.input.as_str()), (Mode::Insert, "mine"));
    typed(&mut a, "!");
    let fx = nets(a.update(Action::Submit));
    assert_eq!(
        fx,
        vec![NetCmd::Edit {
            room: "general".into(),
            seq: 1,
            text: "mine!".into()
        }]
    );
    let fx = keys(
        &mut a,
        vec![Action::SelectMode, Action::Char('d'), Action::Char('y')],
    );
    assert_eq!(
        nets(fx),
        vec![NetCmd::Delete {
            room: "general".into(),
            seq: 2
        }]
    );
    let fx = keys(&mut a, vec![Action::Char('r'), Action::Char('1')]);
    assert_eq!(
        nets(fx),
        vec![NetCmd::React {
            room: "general".into(),
            seq: 2,
            emoji: "👍".into(),
            on: true
        }]
    );
    let fx = nets(a.update(Action::Char('t')));
    assert_eq!(
        fx,
        vec![NetCmd::Thread {
            room: "general".into(),
            root: 2
        }]
    );
    assert_eq!(a.view, View::Thread { root: 2 });
    let reply = Message {
        reply_to: Some(2),
        ..msg("general", 3, "bob", "a reply", TS)
    };
    a.update(Action::Message(reply));
    let screen = text(&a, 120, 40);
    assert!(
        screen.contains("1 reply") && screen.contains("a reply"),
        "{screen}"
    );
    let fx = nets(slash(&mut a, "me too"));
    let reply_sent = |c: &NetCmd| {
        matches!(
            c,
            NetCmd::Send {
                reply_to: Some(2),
                ..
            }
        )
    };
    assert!(fx.iter().any(reply_sent), "{fx:?}");
    a.update(Action::Escape);
    a.update(Action::Escape);
    assert_eq!(a.view, View::Chat);
    assert!(
        !text(&a, 120, 40).contains("a reply"),
        "replies stay in the thread"
    );
}

#[test]
fn tab_completes_commands_and_members() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    a.update(Action::Members {
        room: "general".into(),
        members: vec!["ann".into(), "bob".into(), "bodil".into()],
    });
    a.update(Action::InsertMode);
    typed(&mut a, "/ki");
    a.update(Action::Complete);
    assert_eq!(a.input, "/kick ");
    typed(&mut a, "bob");
    a.update(Action::ClearLine);
    typed(&mut a, "hi @bo");
    a.update(Action::Complete);
    assert_eq!(a.input, "hi @bo", "two fit: nothing to add");
    assert!(matches!(&a.notice, Some(Notice::Info(i)) if i == "bob  bodil"));
    typed(&mut a, "d");
    a.update(Action::Complete);
    assert_eq!((a.input.as_str(), a.cursor), ("hi @bodil ", 10));
}

#[test]
fn search_results_open_their_room_and_shown_rooms_are_marked_read() {
    let mut a = app();
    join(&mut a, "general", vec![]);
    let fx = nets(a.update(Action::Message(msg("general", 1, "bob", "x", TS))));
    assert_eq!(
        fx,
        vec![NetCmd::Read {
            room: "general".into(),
            seq: 1
        }]
    );
    a.update(Action::SearchResults {
        query: "plan".into(),
        hits: vec![
            msg("general", 1, "bob", "the plan", TS),
            msg("team", 4, "cy", "plan b", TS),
        ],
    });
    assert_eq!(a.view, View::Search);
    assert!(text(&a, 120, 40).contains("#team cy plan b"));
    a.update(Action::ScrollDown(1));
    let fx = nets(a.update(Action::Submit));
    assert_eq!(fx, vec![NetCmd::Join("team".into())]);
    assert_eq!(a.view, View::Chat);
}

#[test]
fn badges_come_from_the_server_for_rooms_not_shown() {
    let mut a = app();
    join(&mut a, "general", vec![msg("general", 7, "bob", "x", TS)]);
    assert_eq!(a.room().unwrap().read_seq, 7, "a shown room is marked read");
    join(&mut a, "random", vec![]);
    for room in ["general", "random"] {
        a.update(Action::Badges {
            room: room.into(),
            unread: 3,
            mentions: 1,
        });
    }
    assert_eq!((a.rooms[0].unread, a.rooms[1].unread), (0, 3));
    assert!(text(&a, 120, 40).contains("#random          @3"));
    a.update(Action::Read {
        room: "random".into(),
        seq: 9,
    });
    assert_eq!(a.rooms[1].unread, 0, "read on another device");
}
