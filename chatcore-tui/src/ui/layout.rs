//! Where each pane goes, as a pure function of the terminal size (shared by drawing and by
//! mouse clicks).

use ratatui::layout::{Constraint, Layout, Rect};

/// Width of the room list.
const ROOMS_WIDTH: u16 = 22;
/// Width of the user list.
const USERS_WIDTH: u16 = 20;
/// Narrower terminals hide the user list.
const USERS_MIN_TERMINAL: u16 = 80;
/// Narrower terminals hide the room list.
const ROOMS_MIN_TERMINAL: u16 = 50;

/// The panes of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Room list (zero-sized on narrow terminals).
    pub rooms: Rect,
    /// Messages (or the settings view).
    pub chat: Rect,
    /// The "… is typing" line.
    pub typing: Rect,
    /// The input box.
    pub input: Rect,
    /// User list, when shown.
    pub users: Option<Rect>,
    /// Status bar.
    pub status: Rect,
    /// The line for errors and information.
    pub notice: Rect,
}

/// Splits `area` into panes; `show_users` asks for the user list.
pub fn areas(area: Rect, show_users: bool) -> Areas {
    let [main, status, notice] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let rooms_w = if area.width >= ROOMS_MIN_TERMINAL {
        ROOMS_WIDTH
    } else {
        0
    };
    let users_w = if show_users && area.width >= USERS_MIN_TERMINAL {
        USERS_WIDTH
    } else {
        0
    };
    let [rooms, centre, users] = Layout::horizontal([
        Constraint::Length(rooms_w),
        Constraint::Min(10),
        Constraint::Length(users_w),
    ])
    .areas(main);
    let [chat, typing, input] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(3),
    ])
    .areas(centre);
    Areas {
        rooms,
        chat,
        typing,
        input,
        users: (users_w > 0).then_some(users),
        status,
        notice,
    }
}

/// Rows of messages the chat pane shows at this size (inside its border).
pub fn chat_rows(area: Rect, show_users: bool) -> usize {
    usize::from(areas(area, show_users).chat.height.saturating_sub(2)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panes_fit_and_narrow_terminals_drop_side_lists() {
        let a = areas(Rect::new(0, 0, 120, 40), true);
        assert_eq!(a.rooms.width, ROOMS_WIDTH);
        assert_eq!(a.users.map(|u| u.width), Some(USERS_WIDTH));
        assert_eq!(a.status.y, 38);
        assert_eq!(a.notice.y, 39);
        assert_eq!(a.input.height, 3);
        let n = areas(Rect::new(0, 0, 40, 10), true);
        assert_eq!(n.rooms.width, 0);
        assert!(n.users.is_none());
        assert!(n.chat.width >= 10);
    }
}
