#![allow(clippy::unwrap_used)]

use super::*;
use crate::config::Notifications;
use crate::theme::ThemeName;

#[test]
fn colon_commands() {
    assert_eq!(
        parse_colon("join general"),
        Ok(Command::Join("general".into()))
    );
    assert_eq!(parse_colon("  leave "), Ok(Command::Leave(None)));
    assert_eq!(parse_colon("leave x"), Ok(Command::Leave(Some("x".into()))));
    assert_eq!(parse_colon("q"), Ok(Command::Quit));
    assert_eq!(parse_colon("quit"), Ok(Command::Quit));
    assert_eq!(
        parse_colon("theme light"),
        Ok(Command::Theme(ThemeName::Light))
    );
    assert_eq!(
        parse_colon("dm bob hi there"),
        Ok(Command::Dm {
            to: "bob".into(),
            text: Some("hi there".into())
        })
    );
    assert_eq!(
        parse_colon("dm bob"),
        Ok(Command::Dm {
            to: "bob".into(),
            text: None
        })
    );
    assert_eq!(
        parse_colon("notify off"),
        Ok(Command::Notify(Notifications::Off))
    );
}

#[test]
fn bad_colon_commands_are_errors() {
    assert_eq!(parse_colon("join"), Err("usage: join ROOM".into()));
    assert_eq!(parse_colon("join a b"), Err("usage: join ROOM".into()));
    assert!(
        parse_colon("theme neon")
            .unwrap_err()
            .contains("unknown theme")
    );
    assert_eq!(parse_colon("theme"), Err("usage: theme NAME".into()));
    assert!(
        parse_colon("frobnicate")
            .unwrap_err()
            .contains("unknown command :frobnicate")
    );
    assert!(parse_colon("").is_err());
    assert!(parse_colon("dm").is_err());
}

#[test]
fn slash_commands() {
    assert_eq!(parse_slash("join rust"), Ok(Command::Join("rust".into())));
    assert_eq!(parse_slash("me waves"), Ok(Command::Me("waves".into())));
    assert_eq!(
        parse_slash("msg bob  hello  you"),
        Ok(Command::Dm {
            to: "bob".into(),
            text: Some("hello  you".into())
        })
    );
    assert_eq!(parse_slash("nick zed"), Ok(Command::Nick("zed".into())));
    assert_eq!(parse_slash("leave"), Ok(Command::Leave(None)));
    assert_eq!(
        parse_slash("/etc/hosts"),
        Ok(Command::Say("/etc/hosts".into()))
    );
    assert!(parse_slash("msg bob").is_err());
    assert!(parse_slash("me").is_err());
    assert!(parse_slash("nick").is_err());
    assert!(
        parse_slash("bogus x")
            .unwrap_err()
            .contains("unknown command /bogus")
    );
}

#[test]
fn account_and_room_commands() {
    assert_eq!(parse_slash("login Ann"), Ok(Command::Login("Ann".into())));
    assert_eq!(
        parse_slash("register bo"),
        Ok(Command::Register("bo".into()))
    );
    assert_eq!(parse_slash("logout"), Ok(Command::Logout));
    assert_eq!(
        parse_slash("create team --private"),
        Ok(Command::Create {
            room: "team".into(),
            private: true
        })
    );
    assert_eq!(
        parse_slash("kick bob spamming links"),
        Ok(Command::Room(RoomCmd::Kick {
            user: "bob".into(),
            reason: Some("spamming links".into())
        }))
    );
    assert_eq!(
        parse_slash("ban bob 2h spam"),
        Ok(Command::Room(RoomCmd::Ban {
            user: "bob".into(),
            duration: Some(std::time::Duration::from_secs(7200)),
            reason: Some("spam".into())
        }))
    );
    assert_eq!(
        parse_slash("ban bob being rude"),
        Ok(Command::Room(RoomCmd::Ban {
            user: "bob".into(),
            duration: None,
            reason: Some("being rude".into())
        }))
    );
    assert_eq!(
        parse_slash("mute bob 90"),
        Ok(Command::Room(RoomCmd::Mute {
            user: "bob".into(),
            duration: Some(std::time::Duration::from_secs(90))
        }))
    );
    assert_eq!(
        parse_slash("op bob"),
        Ok(Command::Room(RoomCmd::Role {
            user: "bob".into(),
            role: chatcore_client::Role::Moderator
        }))
    );
    assert_eq!(
        parse_slash("topic "),
        Ok(Command::Room(RoomCmd::Topic(String::new())))
    );
    assert_eq!(parse_slash("block eve"), Ok(Command::Block("eve".into())));
    assert_eq!(
        parse_slash("search launch plan"),
        Ok(Command::Search("launch plan".into()))
    );
}

#[test]
fn bad_room_commands_say_the_usage() {
    assert_eq!(parse_slash("login"), Err("usage: /login NAME".into()));
    assert_eq!(parse_slash("invite"), Err("usage: /invite USER".into()));
    assert_eq!(parse_slash("invite a b"), Err("usage: /invite USER".into()));
    assert_eq!(
        parse_slash("create"),
        Err("usage: /create ROOM [--private]".into())
    );
    assert_eq!(
        parse_slash("mute bob 10m loud"),
        Err("usage: /mute USER [DURATION]".into())
    );
    assert!(
        parse_slash("ban bob 0s")
            .unwrap_err()
            .contains("more than 0")
    );
    assert_eq!(parse_slash("search"), Err("usage: /search TEXT".into()));
    assert_eq!(parse_duration("10x"), None);
    assert_eq!(parse_duration("kick"), None);
}
