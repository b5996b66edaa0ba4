#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use super::*;
use crate::theme::ThemeName;

#[test]
fn flags_beat_the_file_which_beats_defaults() {
    let file: FileConfig = toml::from_str(
        "server = \"http://file:1\"\nuser = \"filer\"\ntheme = \"light\"\nrooms = [\"a\"]\n",
    )
    .unwrap();
    let args = Args {
        user: Some("flag".into()),
        join: vec!["b".into(), "a".into()],
        ..Args::default()
    };
    let s = Settings::merge(file, &args, None).unwrap();
    assert_eq!(s.server, "http://file:1");
    assert_eq!(s.user, "flag");
    assert_eq!(s.theme, ThemeName::Light);
    assert_eq!(s.rooms, vec!["a", "b"]);
    assert_eq!(s.notifications, Notifications::Bell);
    let args = Args {
        theme: Some("high-contrast".into()),
        ..Args::default()
    };
    let s = Settings::merge(FileConfig::default(), &args, None).unwrap();
    assert_eq!(s.theme, ThemeName::HighContrast);
    assert_eq!(s.server, "http://127.0.0.1:8080");
}

#[test]
fn ca_file_flag_beats_the_file_which_beats_none() {
    let file: FileConfig = toml::from_str("ca_file = \"/etc/file-ca.pem\"\n").unwrap();
    let none = Settings::merge(FileConfig::default(), &Args::default(), None).unwrap();
    assert_eq!(none.ca_file, None);
    let from_file = Settings::merge(file.clone(), &Args::default(), None).unwrap();
    assert_eq!(from_file.ca_file, Some(PathBuf::from("/etc/file-ca.pem")));
    let args = Args {
        ca_file: Some("flag-ca.pem".into()),
        ..Args::default()
    };
    let from_flag = Settings::merge(file, &args, None).unwrap();
    assert_eq!(from_flag.ca_file, Some(PathBuf::from("flag-ca.pem")));
    assert_eq!(
        from_flag.to_file().ca_file,
        Some(PathBuf::from("flag-ca.pem")),
        ":write keeps it"
    );
}

#[test]
fn bad_values_are_errors() {
    assert!(toml::from_str::<FileConfig>("colour = 1").is_err());
    let args = Args {
        theme: Some("neon".into()),
        ..Args::default()
    };
    assert!(Settings::merge(FileConfig::default(), &args, None).is_err());
}

#[test]
fn write_then_read_round_trips() {
    let dir = std::env::temp_dir().join(format!("chat-tui-cfg-{}", std::process::id()));
    let path = dir.join("sub").join("tui.toml");
    let mut s = Settings::merge(FileConfig::default(), &Args::default(), None).unwrap();
    s.theme = ThemeName::Light;
    s.rooms = vec!["general".into()];
    write_file(&path, &s.to_file()).unwrap();
    let back = read_file(&path).unwrap();
    assert_eq!(back.theme.as_deref(), Some("light"));
    assert_eq!(back.rooms, vec!["general"]);
    assert_eq!(
        read_file(&dir.join("missing.toml")).unwrap(),
        FileConfig::default()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_mentions_every_flag_and_env() {
    use clap::CommandFactory;
    let help = Args::command().render_long_help().to_string();
    for s in [
        "--server",
        "CHATCORE_SERVER",
        "--ca-file",
        "CHATCORE_CA_FILE",
        "--user",
        "CHATCORE_USER",
        "--token",
        "CHATCORE_TOKEN",
        "--theme",
        "--config",
        "--join",
    ] {
        assert!(help.contains(s), "help lacks {s}:\n{help}");
    }
}
