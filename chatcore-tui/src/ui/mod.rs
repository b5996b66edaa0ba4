//! Rendering: pure functions from [`App`] to a frame, one module per view.

mod chat;
mod help;
mod input;
pub mod layout;
mod message;
mod rooms;
mod search;
mod settings;
mod status;
mod thread;
mod users;
pub mod wrap;

use ratatui::Frame;
use ratatui::widgets::Block;

use crate::app::{App, View};

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    frame.render_widget(Block::new().style(app.theme.base), area);
    let a = layout::areas(area, app.show_users);
    if a.rooms.width > 0 {
        rooms::render(frame, a.rooms, app);
    }
    match app.view {
        View::Chat => chat::render(frame, a.chat, app),
        View::Settings => settings::render(frame, a.chat, app),
        View::Thread { root } => thread::render(frame, a.chat, app, root),
        View::Search => search::render(frame, a.chat, app),
    }
    chat::render_typing(frame, a.typing, app);
    input::render(frame, a.input, app);
    if let Some(users) = a.users {
        users::render(frame, users, app);
    }
    status::render(frame, a.status, app);
    status::render_notice(frame, a.notice, app);
    if app.show_help {
        help::render(frame, area, app);
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for rendering tests.

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::app::App;

    /// Renders `app` at `w`×`h` and returns the screen as lines of text.
    pub(crate) fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        terminal.draw(|f| super::draw(f, app)).expect("draw");
        let buffer = terminal.backend().buffer();
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect()
    }

    /// The screen as one string (lines joined with newlines), for `contains` checks.
    pub(crate) fn text(app: &App, w: u16, h: u16) -> String {
        screen(app, w, h).join("\n")
    }
}

#[cfg(test)]
mod tests;
