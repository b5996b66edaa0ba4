//! Terminal events to [`Action`]s, per mode. Pure: the event and the mode come in, an action
//! (or none) comes out.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use crate::app::{Action, Mode};

/// Messages scrolled by one wheel notch.
pub const WHEEL_STEP: usize = 3;

/// Every key, for the help overlay: (keys, what they do).
pub const KEY_HELP: &[(&str, &str)] = &[
    ("i  a  Enter", "insert mode: type a message"),
    ("Esc", "normal mode; close help or settings"),
    (":", "command mode"),
    ("/", "insert mode with a slash command"),
    ("j  k  ↓  ↑", "scroll one message newer / older"),
    ("Ctrl-d  Ctrl-u", "scroll half a page newer / older"),
    ("PgDn  PgUp", "scroll a page newer / older"),
    ("gg  G", "oldest (loads history) / newest"),
    ("Tab  S-Tab  J  K", "next / previous room"),
    ("1 … 9", "go to room n"),
    ("u", "toggle the user list"),
    ("s", "settings (j/k select, Enter change)"),
    ("v", "select mode: pick a message (j/k ↑/↓)"),
    ("select: e  d", "edit yours (Enter saves) / delete (y)"),
    ("select: r  t", "react (1-6; again removes) / thread"),
    ("thread: i  Esc", "reply in the thread / back to the room"),
    ("?", "toggle this help"),
    ("Ctrl-c  Ctrl-q", "quit (Ctrl-c in insert mode: Esc)"),
    ("insert: Enter", "send · ←→ Home End · Ctrl-w/u delete"),
    ("insert: Tab", "complete a /command or user name"),
    ("Mouse", "wheel scrolls, click a room to open it"),
];

/// Maps a terminal event; `rows` is the height of the chat pane (for PgUp/PgDn).
pub fn map(event: &Event, mode: Mode, rows: usize) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => map_key(*key, mode, rows),
        Event::Mouse(mouse) => map_mouse(*mouse),
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        Event::Paste(text) if mode != Mode::Normal => Some(Action::Paste(text.clone())),
        _ => None,
    }
}

/// Maps a key press in `mode`. A second `g` maps to [`Action::PendingG`] like the first:
/// the state knows whether one is pending.
pub fn map_key(key: KeyEvent, mode: Mode, rows: usize) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('q') {
        return Some(Action::Quit);
    }
    // Keys every mode shares: arrows and pages scroll, as in any chat client.
    match key.code {
        KeyCode::PageUp => return Some(Action::ScrollUp(rows.max(1))),
        KeyCode::PageDown => return Some(Action::ScrollDown(rows.max(1))),
        KeyCode::Up if mode != Mode::Command => return Some(Action::ScrollUp(1)),
        KeyCode::Down if mode != Mode::Command => return Some(Action::ScrollDown(1)),
        _ => {}
    }
    match mode {
        Mode::Normal => normal(key, ctrl, rows),
        Mode::Insert | Mode::Command => editing(key, ctrl),
        Mode::Select => select(key, ctrl),
    }
}

fn normal(key: KeyEvent, ctrl: bool, rows: usize) -> Option<Action> {
    if ctrl {
        return match key.code {
            KeyCode::Char('c') => Some(Action::Quit),
            KeyCode::Char('d') => Some(Action::HalfPageDown),
            KeyCode::Char('u') => Some(Action::HalfPageUp),
            KeyCode::Char('f') => Some(Action::ScrollDown(rows.max(1))),
            KeyCode::Char('b') => Some(Action::ScrollUp(rows.max(1))),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('g') => Action::PendingG,
        KeyCode::Char('G') | KeyCode::End => Action::ScrollBottom,
        KeyCode::Home => Action::ScrollTop,
        KeyCode::Char('j') => Action::ScrollDown(1),
        KeyCode::Char('k') => Action::ScrollUp(1),
        KeyCode::Char('i' | 'a' | 'o') => Action::InsertMode,
        KeyCode::Enter => Action::Submit,
        KeyCode::Char(':') => Action::CommandMode,
        KeyCode::Char('/') => Action::SlashMode,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('u') => Action::ToggleUsers,
        KeyCode::Char('s') => Action::ToggleSettings,
        KeyCode::Char('v') => Action::SelectMode,
        KeyCode::Tab | KeyCode::Char('J') => Action::NextRoom,
        KeyCode::BackTab | KeyCode::Char('K') => Action::PrevRoom,
        KeyCode::Char(c @ '1'..='9') => Action::SelectRoom(usize::from(c as u8 - b'1')),
        KeyCode::Esc | KeyCode::Char('q') => Action::Escape,
        _ => return None,
    })
}

fn editing(key: KeyEvent, ctrl: bool) -> Option<Action> {
    if ctrl {
        return match key.code {
            KeyCode::Char('c') => Some(Action::Escape),
            KeyCode::Char('w') | KeyCode::Backspace => Some(Action::DeleteWord),
            KeyCode::Char('u') => Some(Action::ClearLine),
            KeyCode::Char('a') => Some(Action::CursorHome),
            KeyCode::Char('e') => Some(Action::CursorEnd),
            KeyCode::Char('h') => Some(Action::Backspace),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Esc => Action::Escape,
        KeyCode::Enter => Action::Submit,
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Delete => Action::Delete,
        KeyCode::Left => Action::CursorLeft,
        KeyCode::Right => Action::CursorRight,
        KeyCode::Home => Action::CursorHome,
        KeyCode::End => Action::CursorEnd,
        KeyCode::Tab => Action::Complete,
        KeyCode::Char(c) => Action::Char(c),
        _ => return None,
    })
}

/// Select mode: `j`/`k` move (as ↑/↓ do), letters act on the selected message.
fn select(key: KeyEvent, ctrl: bool) -> Option<Action> {
    if ctrl {
        return (key.code == KeyCode::Char('c')).then_some(Action::Escape);
    }
    Some(match key.code {
        KeyCode::Esc => Action::Escape,
        KeyCode::Char('j') => Action::ScrollDown(1),
        KeyCode::Char('k') => Action::ScrollUp(1),
        KeyCode::Char(c) => Action::Char(c),
        _ => return None,
    })
}

fn map_mouse(mouse: MouseEvent) -> Option<Action> {
    match mouse.kind {
        MouseEventKind::ScrollUp => Some(Action::ScrollUp(WHEEL_STEP)),
        MouseEventKind::ScrollDown => Some(Action::ScrollDown(WHEEL_STEP)),
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click(mouse.column, mouse.row)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
