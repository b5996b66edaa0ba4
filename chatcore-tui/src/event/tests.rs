use crossterm::event::{KeyEvent, KeyModifiers};

use super::*;
use crate::app::App;
use crate::testing::{TS, app, join, msg};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

#[test]
fn normal_mode_is_vim_like() {
    let n = |k| map_key(k, Mode::Normal, 20);
    assert_eq!(n(ch('j')), Some(Action::ScrollDown(1)));
    assert_eq!(n(ch('k')), Some(Action::ScrollUp(1)));
    assert_eq!(n(ch('g')), Some(Action::PendingG));
    assert_eq!(n(ch('G')), Some(Action::ScrollBottom));
    assert_eq!(n(ctrl('u')), Some(Action::HalfPageUp));
    assert_eq!(n(ctrl('d')), Some(Action::HalfPageDown));
    assert_eq!(n(ch(':')), Some(Action::CommandMode));
    assert_eq!(n(ch('/')), Some(Action::SlashMode));
    assert_eq!(n(ch('i')), Some(Action::InsertMode));
    assert_eq!(n(ch('?')), Some(Action::ToggleHelp));
    assert_eq!(n(ch('3')), Some(Action::SelectRoom(2)));
    assert_eq!(n(key(KeyCode::Tab)), Some(Action::NextRoom));
    assert_eq!(n(key(KeyCode::Up)), Some(Action::ScrollUp(1)));
    assert_eq!(n(key(KeyCode::PageUp)), Some(Action::ScrollUp(20)));
    assert_eq!(n(ctrl('c')), Some(Action::Quit));
    assert_eq!(n(ch('z')), None);
    assert_eq!(n(ch('v')), Some(Action::SelectMode));
}

#[test]
fn select_mode_moves_with_j_k_and_arrows_and_passes_letters_on() {
    let s = |k| map_key(k, Mode::Select, 20);
    assert_eq!(s(ch('j')), Some(Action::ScrollDown(1)));
    assert_eq!(s(key(KeyCode::Up)), Some(Action::ScrollUp(1)));
    assert_eq!(s(ch('e')), Some(Action::Char('e')));
    assert_eq!(s(ch('1')), Some(Action::Char('1')));
    assert_eq!(s(key(KeyCode::Esc)), Some(Action::Escape));
    assert_eq!(s(ctrl('c')), Some(Action::Escape));
    assert_eq!(s(ctrl('q')), Some(Action::Quit));
    let i = |k| map_key(k, Mode::Insert, 20);
    assert_eq!(i(key(KeyCode::Tab)), Some(Action::Complete));
}

#[test]
fn insert_and_command_modes_type() {
    for mode in [Mode::Insert, Mode::Command] {
        let m = |k| map_key(k, mode, 20);
        assert_eq!(m(ch('j')), Some(Action::Char('j')));
        assert_eq!(m(ch('G')), Some(Action::Char('G')));
        assert_eq!(m(ch(':')), Some(Action::Char(':')));
        assert_eq!(m(key(KeyCode::Esc)), Some(Action::Escape));
        assert_eq!(m(key(KeyCode::Enter)), Some(Action::Submit));
        assert_eq!(m(key(KeyCode::Backspace)), Some(Action::Backspace));
        assert_eq!(m(ctrl('w')), Some(Action::DeleteWord));
        assert_eq!(m(ctrl('c')), Some(Action::Escape));
    }
    assert_eq!(
        map_key(key(KeyCode::Up), Mode::Insert, 5),
        Some(Action::ScrollUp(1))
    );
    assert_eq!(map_key(ctrl('q'), Mode::Insert, 5), Some(Action::Quit));
}

#[test]
fn mouse_and_resize() {
    let wheel = |kind| {
        Event::Mouse(MouseEvent {
            kind,
            column: 4,
            row: 2,
            modifiers: KeyModifiers::NONE,
        })
    };
    assert_eq!(
        map(&wheel(MouseEventKind::ScrollUp), Mode::Normal, 20),
        Some(Action::ScrollUp(WHEEL_STEP))
    );
    assert_eq!(
        map(&wheel(MouseEventKind::ScrollDown), Mode::Insert, 20),
        Some(Action::ScrollDown(WHEEL_STEP))
    );
    assert_eq!(
        map(
            &wheel(MouseEventKind::Down(MouseButton::Left)),
            Mode::Normal,
            20
        ),
        Some(Action::Click(4, 2))
    );
    assert_eq!(
        map(&Event::Resize(90, 30), Mode::Normal, 20),
        Some(Action::Resize(90, 30))
    );
}

/// Feeds key presses through the mapping into the state, as the runner does.
fn press(app: &mut App, keys: &[KeyEvent]) {
    for k in keys {
        if let Some(action) = map_key(*k, app.mode, app.page()) {
            app.update(action);
        }
    }
}

#[test]
fn keys_drive_the_state_end_to_end() {
    let mut a = app();
    let history = (1..=40)
        .map(|s| msg("general", s, "bob", "x", TS))
        .collect();
    join(&mut a, "general", history);
    press(&mut a, &[ch('k'), ch('k'), ch('k')]);
    assert_eq!(a.room().map(|r| r.scroll), Some(3));
    press(&mut a, &[ch('g'), ch('g')]);
    assert_eq!(a.room().map(|r| r.scroll), Some(40 - a.page()));
    press(&mut a, &[ch('G')]);
    assert_eq!(a.room().map(|r| r.scroll), Some(0));
    // `i` then text then Esc: the text is typed, not interpreted as keys.
    press(
        &mut a,
        &[ch('i'), ch('g'), ch('G'), ch('j'), key(KeyCode::Esc)],
    );
    assert_eq!((a.input.as_str(), a.mode), ("gGj", Mode::Normal));
    // `:theme high-contrast` Enter.
    let mut keys = vec![ch(':')];
    keys.extend("theme high-contrast".chars().map(ch));
    keys.push(key(KeyCode::Enter));
    press(&mut a, &keys);
    assert_eq!(a.settings.theme, crate::theme::ThemeName::HighContrast);
    // `:bad` gives an error line, not a crash.
    press(&mut a, &[ch(':'), ch('x'), key(KeyCode::Enter)]);
    assert!(matches!(&a.notice, Some(crate::app::Notice::Error(_))));
}
